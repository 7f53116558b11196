// runtime::service_main: the one composition root of every CareMatch process.
#include <carematch/core/config.hpp>
#include <carematch/core/log.hpp>
#include <carematch/core/queue_delay.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/admission.hpp>
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
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace carematch::runtime {

namespace {

// How late the io threads run what is ready: a timer every 10 ms, its lateness recorded as a queue's wait.
// Work that arrives faster than the threads can run it makes every wake late.
boost::asio::awaitable<void> sample_loop_lag(core::queue_delay& lag) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    for (;;) {
        const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
        t.expires_at(due);
        co_await t.async_wait(boost::asio::use_awaitable);
        const auto now = std::chrono::steady_clock::now();
        lag.record(now - due, now);
    }
}

void add_admission_gauges(observability::metrics& m, const http::admission& a) {
    m.add_gauge("carematch_admission_limit{class=\"reads\"}",
                "Requests of the class admitted at once now (the adaptive limit).",
                [&a] { return a.snapshot().read_limit; });
    m.add_gauge("carematch_admission_limit{class=\"writes\"}",
                "Requests of the class admitted at once now (the adaptive limit).",
                [&a] { return a.snapshot().write_limit; });
    m.add_gauge("carematch_admission_refused_total{class=\"reads\"}",
                "Requests answered 503 at the door (over the class's limit).",
                [&a] { return static_cast<double>(a.snapshot().reads_refused); });
    m.add_gauge("carematch_admission_refused_total{class=\"writes\"}",
                "Requests answered 503 at the door (over the class's limit).",
                [&a] { return static_cast<double>(a.snapshot().writes_refused); });
    m.add_gauge("carematch_admission_queue_delay_ms",
                "The longest standing queue delay (pools, io threads) when the limits last moved.",
                [&a] { return a.snapshot().delay_ms; });
}

}  // namespace

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
        // Admission by standing queues: each service's connection pool and the io threads' own run queue.
        core::queue_delay loop_lag;
        std::vector<http::delay_signal> signals{[&loop_lag] { return loop_lag.standing(); }};
        for (auto& s : services) {
            signals.emplace_back([&p = s->pool()] { return p.queue_delay(); });
        }
        http::admission admission(
            http::admission_settings{
                listener.http.max_in_flight, listener.http.admission_floor, listener.http.queue_delay_target},
            std::move(signals));
        add_admission_gauges(metrics, admission);
        chain.push_back(admission.door());  // counted and logged as well
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
        // The operational paths pass neither admission nor the budgets: a busy instance is still alive and
        // ready, and its metrics are wanted most when it is busy.
        http::handler root = observability::with_operational_bypass(
            std::move(chain), router.as_handler(listener.http.request_deadline));
        http::server server(io, listener.http, std::move(root));
        server.start();
        boost::asio::co_spawn(io, sample_loop_lag(loop_lag), boost::asio::detached);

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
