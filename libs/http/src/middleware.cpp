// Middleware composition, request ids and the access log.
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/middleware.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

namespace carematch::http {
namespace {

bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) {
        return false;
    }
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace

handler compose(std::vector<middleware> chain, handler inner) {
    handler h = std::move(inner);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        // The middleware's own coroutine is the layer: no frame of its own around it. `next` lives in this
        // closure, which lives as long as the composed handler.
        h = [mw = std::move(*it), next = std::move(h)](request& req) { return mw(req, next); };
    }
    return h;
}

middleware request_id() {
    return [](request& req, const handler& next) -> boost::asio::awaitable<response> {
        auto given = req.header("x-request-id");
        req.request_id = given && acceptable_request_id(*given) ? std::string(*given) : core::new_uuid();
        response res = co_await next(req);
        res.set_header("X-Request-Id", req.request_id);
        co_return res;
    };
}

middleware access_log() {
    return [](request& req, const handler& next) -> boost::asio::awaitable<response> {
        auto start = std::chrono::steady_clock::now();
        response res = co_await next(req);
        if (!core::log::enabled(core::log::level::info)) {
            co_return res;  // no line: none of its fields are built
        }
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        core::log::info("request",
                        {{"request_id", req.request_id},
                         {"method", req.method},
                         {"route", req.route},
                         {"path", req.path},
                         {"status", res.status},
                         {"duration_ms", ms},
                         {"remote", req.remote_address}});
        co_return res;
    };
}

middleware limit_in_flight(int max, std::chrono::milliseconds target) {
    // The admission limit: fixed at `max`, or — with a target — moved by the latency of what it admitted:
    // down by a fifth (at most every 100 ms) when a request took longer than the target, up by 1/limit when
    // one did not (additive increase, multiplicative decrease), between 4 and `max`.
    struct state {
        std::atomic<int> in_flight{0};
        std::atomic<double> admit{0};  // the limit as admission reads it, without the lock
        std::mutex mutex;              // guards the adaptation
        double limit = 0;
        std::chrono::steady_clock::time_point last_cut{};
    };
    auto st = std::make_shared<state>();
    st->limit = target.count() > 0 ? std::min(64.0, static_cast<double>(max)) : static_cast<double>(max);
    st->admit = st->limit;
    return [st, max, target](request& req, const handler& next) -> boost::asio::awaitable<response> {
        // Calls between services are part of a request already admitted: refusing them would fail that
        // request (in all-in-one, a service calls its peer on this very listener).
        if (max <= 0 || req.path.starts_with("/v1/internal/")) {
            co_return co_await next(req);
        }
        const double limit = st->admit.load(std::memory_order_relaxed);
        if (st->in_flight.fetch_add(1) >= static_cast<int>(limit)) {
            st->in_flight.fetch_sub(1);
            response r = problem_response(
                core::problem{
                    503, "Service Unavailable", "too many requests in progress; try again shortly", {}},
                req.request_id);
            r.set_header("Retry-After", "1");
            co_return r;
        }
        struct leave {
            std::atomic<int>& n;
            ~leave() { n.fetch_sub(1); }
        } guard{st->in_flight};
        const auto started = std::chrono::steady_clock::now();
        response r = co_await next(req);
        if (target.count() > 0) {
            const auto now = std::chrono::steady_clock::now();
            std::lock_guard lock(st->mutex);
            if (now - started > target) {
                if (now - st->last_cut > std::chrono::milliseconds(100)) {
                    st->limit = std::max(4.0, st->limit * 0.8);
                    st->last_cut = now;
                }
            } else {
                st->limit = std::min(static_cast<double>(max), st->limit + 1.0 / st->limit);
            }
            st->admit.store(st->limit, std::memory_order_relaxed);
        }
        co_return r;
    };
}

}  // namespace carematch::http
