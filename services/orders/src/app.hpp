// The orders service as a library: catalog, quotes, idempotent orders and their lifecycle.
#pragma once

#include "logic.hpp"

#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/peer.hpp>
#include <carematch/http/router.hpp>
#include <carematch/observability/endpoints.hpp>
#include <carematch/redis/client.hpp>

#include <memory>
#include <string>
#include <vector>

namespace carematch::orders {

const std::vector<db::migration>& migrations();

struct catalog_item {
    std::string kind;
    std::string sub_type;
    std::string name;
    std::int64_t price_fen = 0;
    int duration_min = 60;
    int lead_min = 60;
    std::vector<std::string> credentials;
};

struct config {
    core::service_config service;
    std::string schema = "orders";
    std::string catalog_file = "config/catalog.json";
    http::endpoint identity{"127.0.0.1", 8081};  // orders.identity_url: where recipients are read
    subsidy_rules subsidies;
    auth::token_config auth;  // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = default_clock());
    ~app();

    /// Fails fast on an unreachable database, a failed migration, a bad key or an unreadable catalog.
    void start();

    /// /v1/catalog, /v1/orders/..., /v1/internal/orders/...
    void add_routes(http::router& r);

    std::vector<observability::probe> probes();
    boost::asio::awaitable<void> run();
    void stop();
    db::pool& pool();

    /// Where identity listens (tests and all-in-one learn it after binding).
    void set_identity(std::string host, std::uint16_t port);

  private:
    static const core::clock& default_clock();
    std::unique_ptr<context> ctx_;
};

}  // namespace carematch::orders
