// carematch-orders: reads config, starts the orders app alone on its listener.
#include "src/app.hpp"

#include <carematch/core/log.hpp>
#include <carematch/http/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

int main(int argc, char** argv) {
    namespace cm = carematch;
    try {
        auto source = cm::core::config_source::from_file(argc > 1 ? argv[1] : "config/orders.toml", "orders");
        auto cfg = cm::orders::read_config(source);
        source.reject_unknown();
        cm::core::log::set_level(cm::core::log::parse_level(cfg.service.log.level));

        boost::asio::io_context io(cfg.service.http.io_threads);
        cm::orders::app app(io, cfg);
        app.start();
        cm::observability::metrics metrics;
        cm::observability::add_pool_gauges(metrics, app.pool());
        cm::http::router router;
        app.add_routes(router);
        cm::observability::add_routes(router, metrics, app.probes());
        cm::http::server server(
            io,
            cfg.service.http,
            cm::http::compose(cm::observability::standard_chain(metrics), router.as_handler()));
        server.start();
        boost::asio::co_spawn(io, app.run(), boost::asio::detached);
        cm::core::log::info(
            "listening", {{"service", "orders"}, {"host", cfg.service.http.host}, {"port", server.port()}});
        cm::http::run_until_signal(io, cfg.service.http.io_threads, server, [&] { app.stop(); });
        return 0;
    } catch (const std::exception& e) {
        cm::core::log::error("start-up failed", {{"error", e.what()}});
        return 1;
    }
}
