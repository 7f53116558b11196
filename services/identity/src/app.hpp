// The identity service as a library: its config, its dependencies, its routes and background work.
#pragma once

#include <carematch/core/config.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/router.hpp>
#include <carematch/observability/endpoints.hpp>
#include <carematch/redis/client.hpp>

#include <memory>
#include <string>
#include <vector>

namespace carematch::identity {

/// The migrations of services/identity/migrations, compiled in.
const std::vector<db::migration>& migrations();

struct config {
    core::service_config service;
    std::string schema = "identity";  // identity.schema
};

/// Reads identity's keys from `source` (config/identity.toml plus CAREMATCH_IDENTITY_* / CAREMATCH_*).
config read_config(core::config_source& source);

class app {
  public:
    /// Connects the pool and Redis lazily; start() checks and migrates.
    app(boost::asio::io_context& io, config cfg);

    /// Fails fast: throws when PostgreSQL is unreachable or a migration fails. Blocking; call before serving.
    void start();

    /// identity's own routes (/v1/auth/..., /v1/recipients/..., /v1/regions/...).
    void add_routes(http::router& r);

    /// The readiness probes of identity's dependencies.
    std::vector<observability::probe> probes();

    /// Background work (the outbox relay) until stop().
    boost::asio::awaitable<void> run();
    void stop();

    db::pool& pool() { return pool_; }

  private:
    config cfg_;
    db::pool pool_;
    redis::client redis_;
    db::outbox_relay relay_;
};

}  // namespace carematch::identity
