// The identity service as a library: accounts, tokens, regions, care recipients with consent and audit. Its
// only public header: the config it reads and the app the runtime runs.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/auth/password.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/runtime/service.hpp>

#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace carematch::identity {

struct config {
    core::service_config service;
    std::string schema = "identity";                            // identity.schema
    std::string regions_file = "config/regions.json";           // identity.regions_file: the region tree seed
    std::string events_stream = "carematch:{identity}:events";  // identity.events_stream: recipient.* out
    int login_failures_per_account = 100;                       // per hour, then 429
    int login_failures_per_ip = 1000;                           // per hour, then 429
    int refresh_ttl_days = 30;
    std::string bootstrap_admin;  // secret identity.bootstrap_admin: "phone:password" of the first admin
    auth::token_config auth;      // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
    auth::password_settings passwords;
};

/// Reads identity's keys from `source` (config/identity.toml plus CAREMATCH_IDENTITY_* / CAREMATCH_*).
config read_config(core::config_source& source);

struct context;  // what handlers need; defined in src/context.hpp

class app final : public runtime::service_with<context> {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = runtime::wall_clock());

    /// identity's own routes (/v1/auth/..., /v1/admin/..., /v1/recipients/..., /v1/regions/...).
    void add_routes(http::router& r) override;
    std::string_view openapi() const override;

    /// Verifies tokens issued by this service (other services build their own from auth.verify_keys).
    const auth::token_verifier& verifier() const;
    const auth::token_issuer& issuer() const;

  private:
    /// Fails fast when the data key is malformed or the region seed cannot be read; seeds regions and the
    /// first admin.
    void on_start() override;
};

/// The app from its config table (runtime::service_main).
inline std::unique_ptr<runtime::service> make_app(boost::asio::io_context& io, core::config_source& source) {
    return std::make_unique<app>(io, read_config(source));
}

}  // namespace carematch::identity
