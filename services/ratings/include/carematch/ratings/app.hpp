// The ratings service as a library (好差评): one review per completed service, five levels with dimensions
// and tags, edits for a day with history, the provider's reply and appeal decided by staff, Bayesian scores
// per worker and organisation, rating.bad for every bad review, staff lists, monthly rankings and CSV. Its
// only public header: the config it reads and the app the runtime runs.
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

namespace carematch::ratings {

struct config {
    core::service_config service;
    std::string schema = "ratings";
    std::string regions_file = "config/regions.json";  // the streets whose order events it reads
    std::string consumer_group = "ratings";
    std::string events_stream = "carematch:{ratings}:events";         // where its events are published
    std::string complaints_stream = "carematch:{complaints}:events";  // where rectifications are closed
    std::chrono::hours rate_within{15 * 24};  // a service may be rated this long after it was completed
    std::chrono::hours editable_for{24};      // a review may be changed this long after it was written
    double prior_mean = 4.0;                  // the Bayesian average's prior …
    double prior_weight = 10;                 // … and its weight in reviews
    int window_days = 90;                     // scores count the reviews of the last this many days
    int rectify_working_days = 15;            // a bad review's follow-up deadline (rating.bad)
    auth::token_config auth;  // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());
    ~app() override;

    /// /v1/ratings...
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Handles the order events waiting now (tests; in service the consumer runs by itself).
    boost::asio::awaitable<std::size_t> consume_once();

  private:
    void on_start() override;
    events::consumer* consumer_ = nullptr;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::ratings
