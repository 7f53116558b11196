// identity wiring: config, dependencies, start-up checks and background loops.
#include "app.hpp"

#include <boost/asio/io_context.hpp>

namespace carematch::identity {

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = source.get_string("identity.schema", c.schema);
    if (!db::valid_schema_name(c.schema)) {
        throw core::config_error("identity.schema", "must be a lower-case SQL identifier");
    }
    return c;
}

app::app(boost::asio::io_context& io, config cfg)
    : cfg_(std::move(cfg)),
      pool_(cfg_.service.db),
      redis_(io, cfg_.service.redis),
      relay_(pool_, redis_, cfg_.schema) {}

void app::start() {
    pool_.check();
    db::migrate(cfg_.service.db.url, cfg_.schema, migrations());
}

std::vector<observability::probe> app::probes() {
    return {observability::postgres_probe(pool_), observability::redis_probe(redis_)};
}

boost::asio::awaitable<void> app::run() {
    co_await relay_.run();
}

void app::stop() {
    relay_.stop();
}

}  // namespace carematch::identity
