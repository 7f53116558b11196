// The providers service as a library (first slice): worker profiles with credentials, suspensions, and online
// presence in Redis GEO that matching reads as candidates.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/router.hpp>
#include <carematch/observability/endpoints.hpp>
#include <carematch/redis/client.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace carematch::providers {

const std::vector<db::migration>& migrations();

struct config {
    core::service_config service;
    std::string schema = "providers";
    std::string catalog_file = "config/catalog.json";  // which credentials each kind's sub-types need
    std::chrono::seconds heartbeat_timeout{90};
    auth::token_config auth;  // auth.signing_key (secret), auth.verify_keys, auth.access_ttl_s
};

config read_config(core::config_source& source);

struct context;

class app {
  public:
    app(boost::asio::io_context& io, config cfg, const core::clock& clock = default_clock());
    ~app();
    void start();
    void add_routes(http::router& r);
    std::vector<observability::probe> probes();
    /// The outbox relay and the presence sweeper, until stop().
    boost::asio::awaitable<void> run();
    void stop();
    db::pool& pool();

    /// Takes out of every candidate set the workers whose last heartbeat is older than the timeout at the
    /// clock's now; returns how many.
    boost::asio::awaitable<std::size_t> sweep();

  private:
    static const core::clock& default_clock();
    std::unique_ptr<context> ctx_;
};

}  // namespace carematch::providers
