// /healthz, /readyz and /metrics handlers.
#include <carematch/observability/endpoints.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <mutex>

namespace carematch::observability {

namespace asio = boost::asio;

namespace {

using steady = std::chrono::steady_clock;
constexpr auto reuse_for = std::chrono::milliseconds(250);  // a result this young answers again
constexpr auto give_up_after = std::chrono::seconds(1);     // a check without an answer by then fails

// One probe's last result and its check in flight, shared by every /readyz request and the checks.
struct probe_state {
    probe p;
    std::mutex mutex;
    bool checked = false;  // a check has finished
    bool ok = false;
    steady::time_point finished{};
    bool running = false;
    steady::time_point started{};
};

struct reading {
    bool ok = false;
    std::string text;  // "ok", "unavailable" or "no answer"
    long age_ms = 0;
};

long ms_between(steady::time_point from, steady::time_point to) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

// What the probe says now, if it can say anything yet (nullopt: its check started after `asked` is running
// and still has time).
std::optional<reading> read(probe_state& s, steady::time_point asked, steady::time_point now) {
    std::lock_guard lock(s.mutex);
    if (s.running && now - s.started >= give_up_after) {
        return reading{false, "no answer", ms_between(s.started, now)};
    }
    if (s.checked && (!s.running || s.finished + reuse_for >= asked)) {
        return reading{s.ok, s.ok ? "ok" : "unavailable", ms_between(s.finished, now)};
    }
    return std::nullopt;
}

// Starts a check unless one runs or the last result is young enough.
void refresh(const std::shared_ptr<probe_state>& s, const asio::any_io_executor& ex, steady::time_point now) {
    {
        std::lock_guard lock(s->mutex);
        if (s->running || (s->checked && now - s->finished < reuse_for)) {
            return;
        }
        s->running = true;
        s->started = now;
    }
    asio::co_spawn(
        ex,
        [s]() -> asio::awaitable<void> {
            bool ok = false;
            try {
                ok = co_await s->p.check();
            } catch (const std::exception&) {
                ok = false;
            }
            std::lock_guard lock(s->mutex);
            s->checked = true;
            s->ok = ok;
            s->finished = steady::now();
            s->running = false;
        },
        asio::detached);
}

}  // namespace

bool is_operational(std::string_view path) noexcept {
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

http::handler with_operational_bypass(std::vector<http::middleware> chain, const http::handler& routed) {
    http::handler operational = http::compose({http::request_id()}, routed);
    http::handler served = http::compose(std::move(chain), routed);
    return [operational = std::move(operational), served = std::move(served)](http::request& req) {
        return is_operational(req.path) ? operational(req) : served(req);
    };
}

std::vector<http::middleware> standard_chain(metrics& m) {
    return {http::request_id(), http::access_log(), measure(m)};
}

void add_routes(http::router& r, metrics& m, std::vector<probe> probes) {
    r.add("GET", "/healthz", [](http::request&) -> asio::awaitable<http::response> {
        co_return http::json_text_response(200, R"({"status":"ok"})");
    });
    auto states = std::make_shared<std::vector<std::shared_ptr<probe_state>>>();
    for (auto& p : probes) {
        auto s = std::make_shared<probe_state>();
        s->p = std::move(p);
        states->push_back(std::move(s));
    }
    r.add("GET", "/readyz", [states](http::request&) -> asio::awaitable<http::response> {
        auto ex = co_await asio::this_coro::executor;
        const auto asked = steady::now();
        for (const auto& s : *states) {
            refresh(s, ex, asked);
        }
        asio::steady_timer tick(ex);
        std::vector<reading> readings;
        for (;;) {
            const auto now = steady::now();
            readings.clear();
            for (const auto& s : *states) {
                if (auto got = read(*s, asked, now)) {
                    readings.push_back(std::move(*got));
                } else {
                    break;
                }
            }
            if (readings.size() == states->size()) {
                break;
            }
            tick.expires_after(std::chrono::milliseconds(5));
            co_await tick.async_wait(asio::use_awaitable);
        }
        std::string checks;
        bool ready = true;
        for (std::size_t i = 0; i < readings.size(); ++i) {
            ready = ready && readings[i].ok;
            checks += (checks.empty() ? "\"" : ",\"") + (*states)[i]->p.name + "\":{\"status\":\"" +
                      readings[i].text + "\",\"age_ms\":" + std::to_string(readings[i].age_ms) + "}";
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
