// Path-pattern routing and the single catch point for handler exceptions.
#include <carematch/core/log.hpp>
#include <carematch/http/router.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace carematch::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/') {
        return out;
    }
    path.remove_prefix(1);
    while (true) {
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        path.remove_prefix(slash + 1);
    }
    return out;
}

}  // namespace

void router::add(std::string_view method, std::string_view pattern, handler h) {
    if (pattern.empty() || pattern.front() != '/') {
        throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
    }
    route r;
    r.method = std::string(method);
    r.pattern = std::string(pattern);
    r.h = std::move(h);
    for (std::string_view s : split_path(pattern)) {
        segment seg;
        if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
            seg.is_param = true;
            seg.text = std::string(s.substr(1, s.size() - 2));
        } else if (s.find_first_of("{}") != std::string_view::npos) {
            throw std::invalid_argument("malformed route segment in " + std::string(pattern));
        } else {
            seg.text = std::string(s);
        }
        r.segments.push_back(std::move(seg));
    }
    for (const route& other : routes_) {
        if (other.method != r.method || other.segments.size() != r.segments.size()) {
            continue;
        }
        bool same = true;
        for (std::size_t i = 0; i < r.segments.size() && same; ++i) {
            const auto& a = r.segments[i];
            const auto& b = other.segments[i];
            same = a.is_param == b.is_param && (a.is_param || a.text == b.text);
        }
        if (same) {
            throw std::invalid_argument("route clash: " + r.method + " " + r.pattern + " and " +
                                        other.pattern);
        }
    }
    routes_.push_back(std::move(r));
}

router::match router::find(std::string_view method, std::string_view path) const {
    match m;
    auto parts = split_path(path);
    const route* best = nullptr;
    int best_literals = -1;
    std::vector<std::string> allowed;
    for (const route& r : routes_) {
        if (r.segments.size() != parts.size()) {
            continue;
        }
        int literals = 0;
        bool ok = true;
        for (std::size_t i = 0; i < parts.size() && ok; ++i) {
            if (r.segments[i].is_param) {
                ok = !parts[i].empty();
            } else {
                ok = r.segments[i].text == parts[i];
                ++literals;
            }
        }
        if (!ok) {
            continue;
        }
        if (r.method != method) {
            if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
                allowed.push_back(r.method);
            }
            continue;
        }
        if (literals > best_literals) {
            best = &r;
            best_literals = literals;
        }
    }
    if (best == nullptr) {
        if (!allowed.empty()) {
            std::sort(allowed.begin(), allowed.end());
            m.result = match::outcome::method_not_allowed;
            m.allowed = std::move(allowed);
        }
        return m;
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (best->segments[i].is_param) {
            auto decoded = percent_decode(parts[i]);
            if (!decoded) {
                return m;  // a malformed escape cannot name any resource
            }
            m.params.emplace_back(best->segments[i].text, std::move(*decoded));
        }
    }
    m.result = match::outcome::found;
    m.target = &best->h;
    m.pattern = best->pattern;
    return m;
}

namespace {

// The handler's answer, or nothing when `deadline` passed first.
boost::asio::awaitable<std::optional<response>> within(const handler& h,
                                                       request& req,
                                                       std::chrono::milliseconds deadline) {
    if (deadline.count() <= 0) {
        co_return co_await h(req);
    }
    if (req.deadline != nullptr) {
        // The server's deadline: no second coroutine and no timer race per request, which cost a trivial
        // request a fifth of its time. A passed deadline cancels the handler's waits; whatever it then
        // answers or throws gives way to the 503, and the session's cancellation state is reset for the
        // reply.
        req.deadline->arm(deadline);
        std::exception_ptr failure;
        std::optional<response> answer;
        try {
            answer = co_await h(req);
        } catch (...) {
            failure = std::current_exception();
        }
        if (req.deadline->disarm()) {
            co_await boost::asio::this_coro::reset_cancellation_state();
            co_return std::nullopt;
        }
        if (failure) {
            std::rethrow_exception(failure);
        }
        co_return answer;
    }
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    // The timer's wait completes with its error code instead of throwing when the handler wins and cancels
    // it: an exception per request (unwinding, rethrow) cost more than the rest of a trivial request's
    // dispatch.
    auto first = co_await (h(req) || timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
    if (first.index() == 0) {
        co_return std::move(std::get<0>(first));
    }
    co_return std::nullopt;
}

}  // namespace

handler router::as_handler(std::chrono::milliseconds deadline) const {
    return [this, deadline](request& req) -> boost::asio::awaitable<response> {
        match m = find(req.method, req.path);
        if (m.result == match::outcome::not_found) {
            req.route = "unmatched";
            co_return problem_response(core::problem{404, "Not Found", "no such resource", {}},
                                       req.request_id);
        }
        if (m.result == match::outcome::method_not_allowed) {
            req.route = "unmatched";
            std::string allow;
            for (const auto& a : m.allowed) {
                if (!allow.empty()) {
                    allow += ", ";
                }
                allow += a;
            }
            response r = problem_response(
                core::problem{405, "Method Not Allowed", req.method + " is not allowed here", {}},
                req.request_id);
            r.set_header("Allow", allow);
            co_return r;
        }
        req.params = std::move(m.params);
        req.route = m.pattern;
        bool unavailable = false;
        try {
            auto answer = co_await within(*m.target, req, deadline);
            if (answer) {
                co_return std::move(*answer);
            }
            core::log::warn("request deadline passed",
                            {{"request_id", req.request_id}, {"route", req.route}});
            unavailable = true;
        } catch (const core::problem_error& e) {
            co_return problem_response(e.get(), req.request_id);
        } catch (const core::overloaded_error& e) {
            core::log::warn("overloaded",
                            {{"request_id", req.request_id}, {"route", req.route}, {"error", e.what()}});
            unavailable = true;
        } catch (const core::unavailable_error& e) {
            core::log::error("dependency unavailable",
                             {{"request_id", req.request_id}, {"route", req.route}, {"error", e.what()}});
            unavailable = true;
        } catch (const std::exception& e) {
            core::log::error("unhandled exception",
                             {{"request_id", req.request_id}, {"route", req.route}, {"error", e.what()}});
        }
        if (unavailable) {
            response r = problem_response(core::problem{503, "Service Unavailable", "try again later", {}},
                                          req.request_id);
            r.set_header("Retry-After", "1");
            co_return r;
        }
        co_return problem_response(core::problem{500, "Internal Server Error", "internal error", {}},
                                   req.request_id);
    };
}

}  // namespace carematch::http
