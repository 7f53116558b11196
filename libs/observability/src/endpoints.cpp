// /healthz, /readyz and /metrics handlers.
#include <carematch/observability/endpoints.hpp>

namespace carematch::observability {

namespace asio = boost::asio;

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
