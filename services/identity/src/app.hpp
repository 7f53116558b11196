// The identity service as a library: its config, its dependencies, its routes and background work.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/auth/password.hpp>
#include <carematch/auth/sealer.hpp>
#include <carematch/core/clock.hpp>
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
    std::string schema = "identity";                   // identity.schema
    std::string regions_file = "config/regions.json";  // identity.regions_file: the region tree seed
    int login_failures_per_account = 100;              // per hour, then 429
    int login_failures_per_ip = 1000;                  // per hour, then 429
    int refresh_ttl_days = 30;
    std::string data_key;         // secret identity.data_key: base64 of 32 bytes, seals sensitive fields
    std::string bootstrap_admin;  // secret identity.bootstrap_admin: "phone:password" of the first admin
    auth::token_config auth;      // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
    auth::password_settings passwords;
};

/// Reads identity's keys from `source` (config/identity.toml plus CAREMATCH_IDENTITY_* / CAREMATCH_*).
config read_config(core::config_source& source);

struct context;  // what handlers need; defined in context.hpp

class app {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = default_clock());
    ~app();

    /// Fails fast: throws when PostgreSQL is unreachable, a migration fails, a key is malformed or the region
    /// seed cannot be read. Blocking; call before serving.
    void start();

    /// identity's own routes (/v1/auth/..., /v1/admin/..., /v1/recipients/..., /v1/regions/...).
    void add_routes(http::router& r);

    /// The readiness probes of identity's dependencies.
    std::vector<observability::probe> probes();

    /// Background work (the outbox relay) until stop().
    boost::asio::awaitable<void> run();
    void stop();

    db::pool& pool();
    /// Verifies tokens issued by this service (other services build their own from auth.verify_keys).
    const auth::token_verifier& verifier() const;
    const auth::token_issuer& issuer() const;

  private:
    static const core::clock& default_clock();
    std::unique_ptr<context> ctx_;
};

}  // namespace carematch::identity
