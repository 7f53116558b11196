// providers wiring: config, dependencies, catalog of credential needs, the presence sweeper.
#include "context.hpp"

#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/scores.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

namespace carematch::providers {

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "providers.schema", c.schema, c.service);
    c.catalog_file = source.get_string("providers.catalog_file", c.catalog_file);
    c.heartbeat_timeout = std::chrono::seconds(source.get_int("providers.heartbeat_timeout_s", 90, 10, 3600));
    c.ratings_stream = source.get_string("providers.ratings_stream", c.ratings_stream);
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)) {}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("providers", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {
    std::function<boost::asio::awaitable<void>()> sweeper = [this]() -> boost::asio::awaitable<void> {
        (void)co_await sweep();
    };
    add_task("presence sweep", std::chrono::seconds(10), std::move(sweeper));
}

void app::on_start() {
    auto& c = ctx();
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
    // Organisations' public scores, shown with canteen search results.
    events::consumer_settings s;
    s.group = "providers";
    s.streams = {c.cfg.ratings_stream};
    events::handler h = [](pqxx::work& tx, const events::event& e) {
        if (e.type == "rating.score_changed") {
            runtime::scores::apply(tx, e.payload);
        }
    };
    add_consumer(c.make_consumer(std::move(s), std::move(h)));
}

}  // namespace carematch::providers
