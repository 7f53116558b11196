// The providers service as a library: organisations and their review, worker profiles with credentials,
// availability, canteens, suspensions, and online presence in Redis GEO that matching reads as candidates.
// Its only public header: the config it reads and the app the runtime runs.
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

namespace carematch::providers {

struct config {
    core::service_config service;
    std::string schema = "providers";
    std::string catalog_file = "config/catalog.json";  // which credentials each kind's sub-types need
    std::chrono::seconds heartbeat_timeout{90};
    std::string ratings_stream = "carematch:{ratings}:events";  // organisations' scores for canteen search
    std::string complaints_stream =
        "carematch:{complaints}:events";  // suspensions a resolved complaint ordered
    auth::token_config auth;              // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());

    /// /v1/providers/..., /v1/internal/providers/...
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Takes out of every candidate set the workers whose last heartbeat is older than the timeout at the
    /// clock's now; returns how many. Runs every 10 s in the background.
    boost::asio::awaitable<std::size_t> sweep();

    /// Handles the events waiting now (tests; in service the consumer runs by itself).
    boost::asio::awaitable<std::size_t> consume_once();

  private:
    /// Fails fast on an unreadable catalog.
    void on_start() override;
    events::consumer* consumer_ = nullptr;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::providers
