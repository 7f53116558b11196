// The nursery service as a library: nurseries and their classes, a capacity calendar that is never
// overbooked, bookings with a waitlist, attendance, and monthly figures per community. Its only public
// header: the config it reads and the app the runtime runs.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/runtime/service.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace carematch::nursery {

struct config {
    core::service_config service;
    std::string schema = "nursery";
    std::string regions_file = "config/regions.json";  // residents per community, for the figures
    http::endpoint identity{"127.0.0.1", 8081};        // nursery.identity_url: children are read there
    http::endpoint providers{"127.0.0.1", 8083};       // nursery.providers_url: organisations
    int cancel_notice_hours = 24;                      // free cancellation up to this before opening
    std::chrono::milliseconds peer_timeout{30'000};    // a read from identity or providers, queueing included
    std::string ratings_stream = "carematch:{ratings}:events";  // nurseries' scores for search results
    auth::token_config auth;  // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());

    /// /v1/nursery/...
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Expires the waitlisted requests whose first day has passed (local time, at the clock's now); returns
    /// how many. Runs every minute in the background.
    boost::asio::awaitable<std::size_t> expire_waitlist();

  private:
    /// Fails fast on an unreadable region seed.
    void on_start() override;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::nursery
