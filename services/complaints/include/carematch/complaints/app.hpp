// The complaints service as a library: tickets per community from families, from bad reviews (rectification)
// and by phone, SLA clocks in working days, a claim by one staff member at a time, transfer, resolution,
// return visit, reopening and closing, with a timeline of every change. Its only public header.
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

namespace carematch::complaints {

/// How long each step may take, per severity: minutes for urgent, working days otherwise.
struct sla_config {
    int sign_urgent_minutes = 120;
    int sign_high_working_days = 1;
    int sign_normal_working_days = 2;
    int resolve_urgent_minutes = 24 * 60;
    int resolve_high_working_days = 5;
    int resolve_normal_working_days = 7;
    int resolve_max_working_days = 15;
    int warn_percent = 80;
};

struct config {
    core::service_config service;
    std::string schema = "complaints";
    std::string regions_file = "config/regions.json";    // the streets whose order events it reads
    std::string calendar_file = "config/workdays.json";  // public holidays and weekend days made working days
    std::string consumer_group = "complaints";
    std::string ratings_stream = "carematch:{ratings}:events";    // where rating.bad arrives
    std::string events_stream = "carematch:{complaints}:events";  // where its events are published
    sla_config sla;
    int reopen_days = 7;
    int max_transfers = 2;
    int provider_response_working_days = 2;  // the organisation answers staff's question within this
    auth::token_config auth;
};

config read_config(core::config_source& source);

struct context;

/// What one SLA pass did.
struct sla_stats {
    std::size_t warnings = 0;
    std::size_t breaches = 0;
    std::size_t provider_overdue = 0;  // providers that let their response clock run out
};

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());
    ~app() override;

    /// /v1/complaints...
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Warns at `warn_percent` of a clock and reports a breach (and escalates) at 100 %, once each.
    boost::asio::awaitable<sla_stats> check_sla();
    /// Handles the events waiting now (tests; in service the consumer runs by itself).
    boost::asio::awaitable<std::size_t> consume_once();

  private:
    void on_start() override;
    events::consumer* consumer_ = nullptr;
};

inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::complaints
