// nursery wiring: config, dependencies, the region seed, start-up checks.
#include "context.hpp"
#include "repository.hpp"

#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/scores.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

namespace carematch::nursery {

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "nursery.schema", c.schema, c.service);
    c.regions_file = source.get_string("nursery.regions_file", c.regions_file);
    c.ratings_stream = source.get_string("nursery.ratings_stream", c.ratings_stream);
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
    : runtime::deps(io, c.service, c.schema, c.auth, clk, http::client::settings{c.peer_timeout, 64}),
      cfg(std::move(c)) {}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("nursery", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {
    add_peer("identity", ctx().cfg.identity);
    add_peer("providers", ctx().cfg.providers);
    std::function<boost::asio::awaitable<void>()> expiry = [this]() -> boost::asio::awaitable<void> {
        (void)co_await expire_waitlist();
    };
    add_task("waitlist expiry", std::chrono::seconds(60), std::move(expiry));
}

void app::on_start() {
    auto& c = ctx();
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
    c.seal_plain_rows(
        [](pqxx::work& tx, const auth::sealer& s) { return repo::seal_plain_personal_data(tx, s); });
    // Nurseries' public scores, shown with search results.
    events::consumer_settings s;
    s.group = "nursery";
    s.streams = {c.cfg.ratings_stream};
    events::handler h = [](pqxx::work& tx, const events::event& e) {
        if (e.type == "rating.score_changed") {
            runtime::scores::apply(tx, e.payload);
        }
    };
    add_consumer(c.make_consumer(std::move(s), std::move(h)));
}

std::string_view openapi_document();  // services/nursery/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::nursery
