// Middleware composition, request ids and the access log.
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/middleware.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>

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

}  // namespace carematch::http
