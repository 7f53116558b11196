// runtime::service_main: the one composition root of every CareMatch process.
#include <carematch/core/config.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/middleware.hpp>
#include <carematch/http/server.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/runtime/main.hpp>
#include <carematch/runtime/openapi.hpp>
#include <carematch/runtime/rate_limit.hpp>
#include <carematch/runtime/service.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>

namespace carematch::runtime {

int service_main(int argc,
                 char** argv,
                 const char* process,
                 const char* default_config,
                 const std::vector<factory>& factories) {
    try {
        auto source = core::config_source::from_file(argc > 1 ? argv[1] : default_config, process);
        const core::service_config listener = core::read_service_config(source);
        core::log::set_level(core::log::parse_level(listener.log.level));

        boost::asio::io_context io(listener.http.io_threads);
        std::vector<std::unique_ptr<service>> services;
        for (auto make : factories) {
            services.push_back(make(io, source));
        }
        source.reject_unknown();
        for (auto& s : services) {
            s->start();
        }

        observability::metrics metrics;
        http::router router;  // add() throws if two services claim the same route
        std::vector<observability::probe> probes;
        for (auto& s : services) {
            s->add_routes(router);
            s->add_gauges(metrics);
            for (auto& p : s->probes()) {
                if (services.size() > 1) {
                    p.name = s->name() + "." + p.name;
                }
                probes.push_back(std::move(p));
            }
        }
        observability::add_routes(router, metrics, std::move(probes));
        // The API document: the service's own, or every mounted service's union.
        std::vector<std::string_view> documents;
        for (auto& s : services) {
            documents.push_back(s->openapi());
        }
        const std::string api = merge_openapi(documents);
        router.add("GET", "/openapi.json", [&api](http::request&) -> boost::asio::awaitable<http::response> {
            http::response r;
            r.status = 200;
            r.body = api;
            r.set_header("Content-Type", "application/json");
            co_return r;
        });
        auto chain = observability::standard_chain(metrics);
        chain.push_back(http::limit_in_flight(listener.http.max_in_flight,
                                              listener.http.target_latency));  // counted and logged as well
        // Per-caller budgets: asked of Redis with short timeouts, so that a Redis outage lets requests pass.
        redis::client_settings quick;
        quick.connect_timeout = std::chrono::milliseconds(200);
        quick.reply_timeout = std::chrono::milliseconds(200);
        redis::client limiter_redis(io, listener.redis, quick);
        rate_limit_stats limited;
        metrics.add_gauge("carematch_rate_limited_total",
                          "Requests answered 429 (over a caller's budget).",
                          [&] { return static_cast<double>(limited.limited.load()); });
        metrics.add_gauge("carematch_rate_limit_fail_open_total",
                          "Requests let through unlimited because Redis did not answer.",
                          [&] { return static_cast<double>(limited.fail_open.load()); });
        chain.push_back(rate_limit(listener.limits, limiter_redis, services.front()->verifier(), limited));
        http::server server(
            io,
            listener.http,
            http::compose(std::move(chain), router.as_handler(listener.http.request_deadline)));
        server.start();

        // A peer that runs in this process is reached on this very listener.
        const std::string self_host =
            listener.http.host == "0.0.0.0" || listener.http.host.empty() ? "127.0.0.1" : listener.http.host;
        for (auto& s : services) {
            for (const auto& peer : s->peer_names()) {
                const bool here = std::any_of(
                    services.begin(), services.end(), [&](const auto& o) { return o->name() == peer; });
                if (here) {
                    s->set_peer(peer, http::endpoint{self_host, server.port()});
                }
            }
        }
        for (auto& s : services) {
            boost::asio::co_spawn(io, s->run(), boost::asio::detached);
        }
        core::log::info("listening",
                        {{"service", process}, {"host", listener.http.host}, {"port", server.port()}});
        http::run_until_signal(io, listener.http.io_threads, server, [&] {
            for (auto& s : services) {
                s->stop();
            }
        });
        return 0;
    } catch (const std::exception& e) {
        core::log::error("start-up failed", {{"service", process}, {"error", e.what()}});
        return 1;
    }
}

}  // namespace carematch::runtime
