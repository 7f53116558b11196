// The orders service as a library: catalog, quotes, idempotent orders and their lifecycle. Its only public
// header: the config it reads and the app the runtime runs.
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

namespace carematch::orders {

/// Percent of the price the subsidy covers, by priority category; the highest applies.
struct subsidy_rules {
    int extreme_poverty = 100;   // 特困
    int minimum_allowance = 50;  // 低保
    int special_family = 50;     // 计划生育特殊家庭
    int age_80_plus = 30;        // 80 岁以上
    int living_alone = 0;
};

struct config {
    core::service_config service;
    std::string schema = "orders";
    std::string catalog_file = "config/catalog.json";
    http::endpoint identity{"127.0.0.1", 8081};  // orders.identity_url: where recipients are read
    std::string identity_stream = "carematch:{identity}:events";  // orders.identity_stream: recipient.* in
    std::string consumer_group = "orders";                        // orders.consumer_group
    subsidy_rules subsidies;
    int horizon_days = 60;        // orders.horizon_days: a window starts at most this far ahead
    int check_in_radius_m = 500;  // orders.check_in_radius_m: check-in happens this near the address
    // orders.crew_from_level: a bath for an elder of this ability level or worse takes two workers (DESIGN:
    // 2, moderate disability); 0: off, every job one worker (one live offer per order).
    int crew_from_level = 0;
    int intake_group_max = 64;  // orders.intake_group_max: orders at most in one group commit
    int intake_groups = 2;      // orders.intake_groups: group commits running at once
    auth::token_config auth;    // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());

    /// /v1/catalog, /v1/orders/..., /v1/internal/orders/...
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Handles the identity events that are waiting now (tests; in service the consumer runs by itself).
    boost::asio::awaitable<std::size_t> consume_once();

  private:
    /// Fails fast on an unreadable catalog; starts the consumer of identity's recipient events.
    void on_start() override;
    /// The group commit of new orders: groups written and the orders they carried.
    void add_own_gauges(observability::metrics& m, const std::string& label) override;
    events::consumer* consumer_ = nullptr;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::orders
