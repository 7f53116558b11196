// providers wiring: config, dependencies, catalog of credential needs, the presence sweeper.
#include "app.hpp"

#include "context.hpp"

#include <carematch/core/log.hpp>
#include <carematch/http/json.hpp>
#include <carematch/http/periodic.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

namespace carematch::providers {

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "providers.schema", c.schema, c.service);
    c.catalog_file = source.get_string("providers.catalog_file", c.catalog_file);
    c.heartbeat_timeout = std::chrono::seconds(source.get_int("providers.heartbeat_timeout_s", 90, 10, 3600));
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : cfg(std::move(c)),
      clock(clk),
      pool(cfg.service.db),
      redis(io, cfg.service.redis),
      relay(pool, redis, cfg.schema),
      verifier(cfg.auth.tokens, clk) {}

const core::clock& app::default_clock() {
    static const core::system_clock clock;
    return clock;
}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : ctx_(std::make_unique<context>(io, std::move(cfg), clock)) {}

app::~app() = default;

void app::start() {
    auto& c = *ctx_;
    c.pool.check();
    db::migrate(c.cfg.service.db.url, c.cfg.schema, migrations());
    auth::trust_keys(c.verifier, c.cfg.auth.signing_key, c.cfg.auth.verify_keys);
    const auto doc = http::read_json_array_file("providers.catalog_file", c.cfg.catalog_file);
    try {
        for (const auto& v : doc) {
            std::vector<std::string> needs;
            for (const auto& cred : v.at("credentials").as_array()) {
                needs.emplace_back(cred.as_string());
            }
            c.kind_credentials[std::string(v.at("kind").as_string())].push_back(std::move(needs));
        }
    } catch (const std::exception& e) {
        throw core::config_error("providers.catalog_file", std::string("malformed catalog: ") + e.what());
    }
    core::log::info("providers started", {{"schema", c.cfg.schema}});
}

std::vector<observability::probe> app::probes() {
    return {observability::postgres_probe(ctx_->pool), observability::redis_probe(ctx_->redis)};
}

boost::asio::awaitable<void> app::run() {
    auto& c = *ctx_;
    std::function<boost::asio::awaitable<void>()> sweeper = [this]() -> boost::asio::awaitable<void> {
        (void)co_await sweep();
    };
    using namespace boost::asio::experimental::awaitable_operators;
    co_await (c.relay.run() &&
              http::every(std::chrono::seconds(10), c.stopping, std::move(sweeper), "presence sweep"));
}

void app::stop() {
    ctx_->stopping = true;
    ctx_->relay.stop();
}

db::pool& app::pool() {
    return ctx_->pool;
}

}  // namespace carematch::providers
