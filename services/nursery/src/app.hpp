// The nursery service as a library: nurseries and their classes, a capacity calendar that is never
// overbooked, bookings with a waitlist, attendance, and monthly figures per community.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/peer.hpp>
#include <carematch/http/router.hpp>
#include <carematch/observability/endpoints.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace carematch::nursery {

const std::vector<db::migration>& migrations();

struct config {
    core::service_config service;
    std::string schema = "nursery";
    std::string regions_file = "config/regions.json";  // residents per community, for the figures
    http::endpoint identity{"127.0.0.1", 8081};        // nursery.identity_url: children are read there
    http::endpoint providers{"127.0.0.1", 8083};       // nursery.providers_url: organisations
    int cancel_notice_hours = 24;                      // free cancellation up to this before opening
    std::chrono::milliseconds peer_timeout{30'000};    // a read from identity or providers, queueing included
    auth::token_config auth;  // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = default_clock());
    ~app();

    /// Fails fast on an unreachable database, a failed migration, a bad key or an unreadable region seed.
    void start();
    /// /v1/nursery/...
    void add_routes(http::router& r);
    std::vector<observability::probe> probes();
    /// The outbox relay and the waitlist expiry (every minute), until stop().
    boost::asio::awaitable<void> run();
    /// Expires the waitlisted requests whose first day has passed (China time, at the clock's now); returns
    /// how many.
    boost::asio::awaitable<std::size_t> expire_waitlist();
    void stop();
    db::pool& pool();

    /// Where identity and providers listen (tests and all-in-one learn it after binding).
    void set_peers(const http::endpoint& identity, const http::endpoint& providers);

  private:
    static const core::clock& default_clock();
    std::unique_ptr<context> ctx_;
};

}  // namespace carematch::nursery
