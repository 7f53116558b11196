// The matching service as a library: the orders waiting per street (from order.created), one owner per street
// (a lease with a fencing token), a tick that solves each owned street with libs/match and offers jobs,
// accept, decline and expiry with exactly one outcome per offer, the assignment ledger, order deadlines and a
// reconciler against orders. Its only public header: the config it reads and the app the runtime runs.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/http/peer.hpp>
#include <carematch/runtime/service.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace carematch::matching {

struct config {
    core::service_config service;
    std::string schema = "matching";
    std::string regions_file = "config/regions.json";  // the streets it serves: every street of the tree
    std::string catalog_file = "config/catalog.json";  // durations and credentials per sub-type
    http::endpoint orders{"127.0.0.1", 8082};          // matching.orders_url
    http::endpoint providers{"127.0.0.1", 8083};       // matching.providers_url
    std::string consumer_group = "matching";
    std::string ratings_stream = "carematch:{ratings}:events";  // where rating.score_changed arrives
    std::chrono::milliseconds tick{1000};
    // The owned streets are solved in this many groups spread over the tick (each street still once a tick),
    // so that the streets' reads, solves and writes do not all land at one instant.
    int tick_slots = 10;
    std::chrono::milliseconds lease{5000};  // a street whose owner stopped renewing is taken over after this
    std::chrono::seconds offer_expiry{60};
    std::map<std::string, std::chrono::seconds> offer_expiry_by_kind;  // matching.offer_expiry_by_kind
    std::chrono::minutes asap_deadline{120};  // an "as soon as possible" order expires unassigned after this
    std::map<std::string, std::chrono::minutes> asap_deadline_by_kind;
    int max_live_offers = 1;  // per worker
    std::chrono::seconds reconcile{30};
    std::chrono::seconds stuck_after{10};  // an outcome not applied in orders within this is tried again
    auth::token_config auth;               // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

/// What one pass of the background work did (tests drive the passes themselves).
struct pass_stats {
    std::size_t streets = 0;  // owned after the pass
    std::size_t offered = 0;
    std::size_t expired_offers = 0;
    std::size_t expired_orders = 0;
    std::size_t repaired = 0;
};

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());
    ~app() override;

    /// /v1/offers..., /v1/matching/...
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Takes, renews and gives up street leases; then, for every street it owns, offers what it can.
    boost::asio::awaitable<pass_stats> tick();
    /// The service's tick: every tick ÷ tick_slots one slot starts (slot 0 takes and renews the leases
    /// first), and the owned streets at positions slot, slot + tick_slots, … are solved, each street once a
    /// tick. A slot's streets are solved without holding the next slot back; a street still being solved is
    /// skipped. Returns when the service stops and every street's solve has finished.
    boost::asio::awaitable<void> run_ticks();
    /// Live offers past their expiry, and waiting orders past their deadline.
    boost::asio::awaitable<pass_stats> expire();
    /// Outcomes begun but not applied in orders (a crash, a lost reply) are applied again.
    boost::asio::awaitable<pass_stats> repair();
    /// Reads each owned street's waiting orders from orders and makes matching's view agree.
    boost::asio::awaitable<pass_stats> reconcile();
    /// Handles the events that are waiting now (tests; in service the consumer runs by itself).
    boost::asio::awaitable<std::size_t> consume_once();

    /// This process's name in the leases.
    const std::string& owner() const;

  private:
    void on_start() override;
    void add_own_gauges(observability::metrics& m, const std::string& label) override;
    events::consumer* consumer_ = nullptr;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::matching
