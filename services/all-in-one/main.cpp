// carematch-all-in-one: every service app on one listener; each app owns its URL prefixes.
#include <carematch/core/log.hpp>
#include <carematch/http/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <identity/src/app.hpp>
#include <nursery/src/app.hpp>
#include <orders/src/app.hpp>
#include <providers/src/app.hpp>

int main(int argc, char** argv) {
    namespace cm = carematch;
    try {
        auto source =
            cm::core::config_source::from_file(argc > 1 ? argv[1] : "config/all-in-one.toml", "all-in-one");
        auto identity_cfg = cm::identity::read_config(source);
        auto orders_cfg = cm::orders::read_config(source);
        auto providers_cfg = cm::providers::read_config(source);
        auto nursery_cfg = cm::nursery::read_config(source);
        source.reject_unknown();
        const auto& service = identity_cfg.service;
        cm::core::log::set_level(cm::core::log::parse_level(service.log.level));

        boost::asio::io_context io(service.http.io_threads);
        cm::identity::app identity(io, identity_cfg);
        identity.start();
        cm::orders::app orders(io, orders_cfg);
        orders.start();
        cm::providers::app providers(io, providers_cfg);
        providers.start();
        cm::nursery::app nursery(io, nursery_cfg);
        nursery.start();
        cm::observability::metrics metrics;
        cm::observability::add_pool_gauges(metrics, identity.pool());
        cm::http::router router;  // add() throws if two apps claim the same route
        identity.add_routes(router);
        orders.add_routes(router);
        providers.add_routes(router);
        nursery.add_routes(router);
        cm::observability::add_routes(router, metrics, identity.probes());
        cm::http::server server(
            io,
            service.http,
            cm::http::compose(cm::observability::standard_chain(metrics), router.as_handler()));
        server.start();
        orders.set_identity("127.0.0.1", server.port());
        nursery.set_peers({"127.0.0.1", server.port()}, {"127.0.0.1", server.port()});
        boost::asio::co_spawn(io, identity.run(), boost::asio::detached);
        boost::asio::co_spawn(io, orders.run(), boost::asio::detached);
        boost::asio::co_spawn(io, providers.run(), boost::asio::detached);
        boost::asio::co_spawn(io, nursery.run(), boost::asio::detached);
        cm::core::log::info(
            "listening", {{"service", "all-in-one"}, {"host", service.http.host}, {"port", server.port()}});
        cm::http::run_until_signal(io, service.http.io_threads, server, [&] {
            identity.stop();
            orders.stop();
            providers.stop();
            nursery.stop();
        });
        return 0;
    } catch (const std::exception& e) {
        cm::core::log::error("start-up failed", {{"error", e.what()}});
        return 1;
    }
}
