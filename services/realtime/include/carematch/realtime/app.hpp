// The realtime service as a library: WebSocket pushes at /v1/ws. Workers get their offers and job changes,
// families their orders' and nursery bookings' changes, staff their communities' complaints and SLA warnings,
// providers their workers' jobs. Events reach it from the domain streams; it fans them out per audience
// through Redis, so any realtime process serves any user, and a client that reconnects with its last event id
// gets what it missed. Its only public header: the config it reads and the app the runtime runs.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/runtime/service.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace carematch::realtime {

struct config {
    core::service_config service;
    std::string schema = "realtime";  // dead letters only: it keeps nothing durable
    std::string regions_file =
        "config/regions.json";  // the streets whose order, offer and nursery events it reads
    std::string complaints_stream = "carematch:{complaints}:events";
    std::string consumer_group = "realtime";
    std::string prefix = "carematch:rt";     // Redis keys: <prefix>:a:<audience> streams, <prefix>:clock
    std::chrono::seconds retention{600};     // how long missed events can be fetched again on reconnect
    std::size_t send_queue = 256;            // messages waiting for a slow client at the most; then 1013
    std::chrono::seconds ping_interval{20};  // a ping after this much silence; closed after twice it
    std::chrono::seconds auth_timeout{10};   // a socket without a token in its protocol must send one by then
    std::size_t max_sockets_per_user = 10;   // one account's live sockets in one process; more: closed 4429
    auth::token_config auth;                 // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());
    ~app() override;

    /// GET /v1/ws
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Fans out the domain events waiting now (tests; in service the consumer runs by itself).
    boost::asio::awaitable<std::size_t> consume_once();

    /// Open sockets on this process.
    std::size_t connections() const;

  private:
    void on_start() override;
    void on_stop() override;
    void add_own_gauges(observability::metrics& m, const std::string& label) override;
    events::consumer* consumer_ = nullptr;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::realtime
