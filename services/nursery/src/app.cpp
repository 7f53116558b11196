// nursery wiring: config, dependencies, the region seed, start-up checks.
#include "app.hpp"

#include "context.hpp"

#include <carematch/core/log.hpp>
#include <carematch/http/json.hpp>
#include <carematch/http/periodic.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

namespace carematch::nursery {

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "nursery.schema", c.schema, c.service);
    c.regions_file = source.get_string("nursery.regions_file", c.regions_file);
    c.identity = http::parse_http_url("nursery.identity_url",
                                      source.get_string("nursery.identity_url", "http://127.0.0.1:8081"));
    c.providers = http::parse_http_url("nursery.providers_url",
                                       source.get_string("nursery.providers_url", "http://127.0.0.1:8083"));
    c.cancel_notice_hours = static_cast<int>(source.get_int("nursery.cancel_notice_hours", 24, 0, 240));
    c.peer_timeout =
        std::chrono::milliseconds(source.get_int("nursery.peer_timeout_ms", 30'000, 1'000, 120'000));
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : cfg(std::move(c)),
      clock(clk),
      pool(cfg.service.db),
      redis(io, cfg.service.redis),
      relay(pool, redis, cfg.schema),
      peers(io, http::client::settings{cfg.peer_timeout, 64}),
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
    c.issuer = std::make_unique<auth::token_issuer>(
        auth::trust_keys(c.verifier, c.cfg.auth.signing_key, c.cfg.auth.verify_keys),
        c.cfg.auth.tokens,
        c.clock);
    const auto doc = http::read_json_array_file("nursery.regions_file", c.cfg.regions_file);
    try {
        for (const auto& v : doc) {
            if (v.at("level").as_string() == "community") {
                c.residents[v.at("id").as_int64()] = v.at("residents").as_int64();
            }
        }
    } catch (const std::exception& e) {
        throw core::config_error("nursery.regions_file", std::string("malformed region seed: ") + e.what());
    }
    core::log::info("nursery started", {{"schema", c.cfg.schema}, {"communities", c.residents.size()}});
}

std::vector<observability::probe> app::probes() {
    return {observability::postgres_probe(ctx_->pool), observability::redis_probe(ctx_->redis)};
}

boost::asio::awaitable<void> app::run() {
    auto& c = *ctx_;
    std::function<boost::asio::awaitable<void>()> expiry = [this]() -> boost::asio::awaitable<void> {
        (void)co_await expire_waitlist();
    };
    using namespace boost::asio::experimental::awaitable_operators;
    co_await (c.relay.run() &&
              http::every(std::chrono::seconds(60), c.stopping, std::move(expiry), "waitlist expiry"));
}

void app::stop() {
    ctx_->stopping = true;
    ctx_->relay.stop();
}
db::pool& app::pool() {
    return ctx_->pool;
}
void app::set_peers(const http::endpoint& identity, const http::endpoint& providers) {
    ctx_->cfg.identity = identity;
    ctx_->cfg.providers = providers;
}

}  // namespace carematch::nursery
