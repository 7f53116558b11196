// Middleware composition, request ids and the access log.
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/middleware.hpp>

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <memory>

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
        h = [mw = std::move(*it), next = std::move(h)](request& req) -> boost::asio::awaitable<response> {
            co_return co_await mw(req, next);
        };
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

middleware limit_in_flight(int max) {
    auto count = std::make_shared<std::atomic<int>>(0);
    return [count, max](request& req, const handler& next) -> boost::asio::awaitable<response> {
        // Calls between services are part of a request already admitted: refusing them would fail that
        // request (in all-in-one, a service calls its peer on this very listener).
        if (max <= 0 || req.path.starts_with("/v1/internal/")) {
            co_return co_await next(req);
        }
        if (count->fetch_add(1) >= max) {
            count->fetch_sub(1);
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
        } guard{*count};
        co_return co_await next(req);
    };
}

}  // namespace carematch::http
