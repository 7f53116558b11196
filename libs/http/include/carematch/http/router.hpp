// Routes by method and path pattern ("/v1/orders/{id}"), answering 404 and 405 (with Allow) itself.
#pragma once

#include <carematch/http/message.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace carematch::http {

class router {
  public:
    /// Adds a route. Throws std::invalid_argument for a malformed pattern or a method+pattern that
    /// clashes with an existing route (two services claiming the same URL fail at start-up).
    void add(std::string_view method, std::string_view pattern, handler h);

    struct match {
        enum class outcome { found, not_found, method_not_allowed };
        outcome result = outcome::not_found;
        const handler* target = nullptr;
        std::string pattern;
        std::vector<std::pair<std::string, std::string>> params;
        std::vector<std::string> allowed;  // methods for the path, when method_not_allowed
    };

    /// Finds the route for `method` and `path`; literal segments win over parameters.
    match find(std::string_view method, std::string_view path) const;

    /// A handler that dispatches through this router: sets request.params and request.route, answers
    /// 404/405 problems, and turns an exception escaping a handler into a 500 problem (logged with the
    /// request id) — the one place where handler exceptions are caught. A handler that has not answered
    /// within `deadline` (when given) is cancelled and the request answered 503 with Retry-After: cancellable
    /// waits (timers, sockets, peers) end at once; a transaction already running finishes first.
    handler as_handler(std::chrono::milliseconds deadline = std::chrono::milliseconds(0)) const;

    std::size_t size() const noexcept { return routes_.size(); }

    /// Every route as {method, pattern}, in the order added (the API documents are checked against it).
    std::vector<std::pair<std::string, std::string>> list() const {
        std::vector<std::pair<std::string, std::string>> out;
        out.reserve(routes_.size());
        for (const auto& r : routes_) {
            out.emplace_back(r.method, r.pattern);
        }
        return out;
    }

  private:
    struct segment {
        std::string text;
        bool is_param = false;
    };
    struct route {
        std::string method;
        std::string pattern;
        std::vector<segment> segments;
        handler h;
    };
    std::vector<route> routes_;
};

}  // namespace carematch::http
