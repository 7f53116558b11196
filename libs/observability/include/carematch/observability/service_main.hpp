// The main() of a service that runs alone: config → app → its routes and the operational endpoints → serve
// until SIGTERM. Include it from main.cpp only (it brings in Asio).
#pragma once

#include <carematch/core/config.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/middleware.hpp>
#include <carematch/http/router.hpp>
#include <carematch/http/server.hpp>
#include <carematch/observability/endpoints.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace carematch::observability {

/// Runs `App` (constructed from `read(config)`) alone on its listener. The config file is argv[1], else
/// `default_config`; start-up failures are logged and return 1.
template <class App, class Config>
int service_main(const char* service,
                 const char* default_config,
                 Config (*read)(core::config_source&),
                 int argc,
                 char** argv) {
    try {
        auto source = core::config_source::from_file(argc > 1 ? argv[1] : default_config, service);
        Config cfg = read(source);
        source.reject_unknown();
        core::log::set_level(core::log::parse_level(cfg.service.log.level));

        boost::asio::io_context io(cfg.service.http.io_threads);
        App app(io, cfg);
        app.start();
        metrics m;
        add_pool_gauges(m, app.pool());
        http::router router;
        app.add_routes(router);
        add_routes(router, m, app.probes());
        http::server server(io, cfg.service.http, http::compose(standard_chain(m), router.as_handler()));
        server.start();
        boost::asio::co_spawn(io, app.run(), boost::asio::detached);
        core::log::info("listening",
                        {{"service", service}, {"host", cfg.service.http.host}, {"port", server.port()}});
        http::run_until_signal(io, cfg.service.http.io_threads, server, [&] { app.stop(); });
        return 0;
    } catch (const std::exception& e) {
        core::log::error("start-up failed", {{"service", service}, {"error", e.what()}});
        return 1;
    }
}

}  // namespace carematch::observability
