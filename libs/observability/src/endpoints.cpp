// /healthz, /readyz and /metrics handlers and the standard probes.
#include <carematch/db/pool.hpp>
#include <carematch/observability/endpoints.hpp>
#include <carematch/redis/client.hpp>

namespace carematch::observability {

namespace asio = boost::asio;

probe postgres_probe(db::pool& pool) {
    return {"postgres", [&pool]() -> asio::awaitable<bool> {
                try {
                    co_await pool.transact([](pqxx::work& tx) { tx.exec("SELECT 1"); });
                    co_return true;
                } catch (const std::exception&) {
                    co_return false;
                }
            }};
}

probe redis_probe(redis::client& client) {
    return {"redis", [&client]() -> asio::awaitable<bool> {
                std::vector<std::string> ping{"PING"};
                auto r = co_await client.command(std::move(ping));
                co_return r && r->type == redis::reply::kind::status && r->str == "PONG";
            }};
}

void add_pool_gauges(metrics& m, const db::pool& pool) {
    m.add_gauge("carematch_db_pool_size", "Connections in the PostgreSQL pool.", [&pool] {
        return static_cast<double>(pool.stats().size);
    });
    m.add_gauge("carematch_db_pool_in_use", "PostgreSQL transactions running.", [&pool] {
        return static_cast<double>(pool.stats().in_use);
    });
    m.add_gauge("carematch_db_pool_waiting", "PostgreSQL transactions waiting for a connection.", [&pool] {
        return static_cast<double>(pool.stats().waiting);
    });
    m.add_gauge("carematch_db_pool_retries",
                "Transactions repeated after serialization failure, deadlock or "
                "a broken connection.",
                [&pool] { return static_cast<double>(pool.stats().retries); });
    m.add_gauge("carematch_db_pool_reconnects", "Connections reopened after a loss.", [&pool] {
        return static_cast<double>(pool.stats().reconnects);
    });
}

std::vector<http::middleware> standard_chain(metrics& m) {
    return {http::request_id(), http::access_log(), measure(m)};
}

void add_routes(http::router& r, metrics& m, std::vector<probe> probes) {
    r.add("GET", "/healthz", [](http::request&) -> asio::awaitable<http::response> {
        co_return http::json_text_response(200, R"({"status":"ok"})");
    });
    r.add("GET", "/readyz", [probes = std::move(probes)](http::request&) -> asio::awaitable<http::response> {
        std::string checks;
        bool ready = true;
        for (const auto& p : probes) {
            bool ok = co_await p.check();
            ready = ready && ok;
            checks += (checks.empty() ? "\"" : ",\"") + p.name + "\":\"" + (ok ? "ok" : "unavailable") + "\"";
        }
        std::string body = std::string("{\"status\":\"") + (ready ? "ready" : "not ready") +
                           "\",\"checks\":{" + checks + "}}";
        co_return http::json_text_response(ready ? 200 : 503, std::move(body));
    });
    r.add("GET", "/metrics", [&m](http::request&) -> asio::awaitable<http::response> {
        http::response res;
        res.body = m.render();
        res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        co_return res;
    });
}

}  // namespace carematch::observability
