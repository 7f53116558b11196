// The supervision service as a library: figures for community and district staff, built only from the other
// services' events — orders and their fulfilment, order → assigned latency, expired orders of priority
// elders, ratings and the follow-up of bad reviews, the complaint backlog, SLA breaches, time to resolve,
// reopen rate, and a provider watchlist. Its only public header: the config it reads and the app the runtime
// runs.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/runtime/service.hpp>

#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace carematch::supervision {

struct config {
    core::service_config service;
    std::string schema = "supervision";
    std::string regions_file = "config/regions.json";  // the streets it reads; communities of each district
    std::string ratings_stream = "carematch:{ratings}:events";
    std::string complaints_stream = "carematch:{complaints}:events";
    std::string providers_stream = "carematch:{providers}:events";  // suspensions
    std::string consumer_group = "supervision";
    double watch_score_below = 3.5;  // an organisation scored under this is on the watchlist
    int max_days = 366;              // the longest span one request may ask for
    auth::token_config auth;         // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());
    ~app() override;

    /// /v1/supervision/...
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Handles the events waiting now (tests; in service the consumer runs by itself).
    boost::asio::awaitable<std::size_t> consume_once();

  private:
    void on_start() override;
    events::consumer* consumer_ = nullptr;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::supervision
