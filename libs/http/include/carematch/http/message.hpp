// HTTP request and response as plain values, free of Beast, plus problem+json (RFC 9457) responses.
#pragma once

#include <carematch/core/error.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carematch::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// ASCII case-insensitive equality, as header names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// A parsed request. Header names are lower-case.
/// The server's deadline for one request's handler (router::as_handler uses it): arm() starts it; when it
/// passes, what the handler waits for is cancelled. disarm() stops it and tells whether it had passed.
class request_deadline {
  public:
    virtual void arm(std::chrono::milliseconds after) = 0;
    virtual bool disarm() = 0;

  protected:
    ~request_deadline() = default;
};

struct request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as sent: path and query
    std::string path;    // target without the query
    std::string query;   // after '?', undecoded
    header_list headers;
    std::string body;
    std::string remote_address;

    // Filled while dispatching:
    std::vector<std::pair<std::string, std::string>> params;  // path parameters, percent-decoded
    std::string route;                                        // the matched pattern, e.g. "/v1/orders/{id}"
    std::string request_id;
    /// Set by the server; null for a request that did not come through one (the router then races a timer).
    request_deadline* deadline = nullptr;

    /// The first header named `name` (case-insensitive).
    std::optional<std::string_view> header(std::string_view name) const;
    /// A path parameter by name; empty when absent.
    std::string_view param(std::string_view name) const;
    /// A query parameter, percent-decoded; nullopt when absent.
    std::optional<std::string> query_param(std::string_view name) const;
};

struct websocket_upgrade;

struct response {
    int status = 200;
    header_list headers;
    std::string body;
    /// Set by a handler that upgrades the request to a WebSocket (see websocket.hpp); the server then answers
    /// 101 and runs it, or 426 when the request did not ask for an upgrade.
    std::shared_ptr<websocket_upgrade> upgrade;

    /// Replaces any header of that name.
    void set_header(std::string_view name, std::string value);
    std::optional<std::string_view> header(std::string_view name) const;
};

/// The page size a list endpoint is asked for: `fallback` without `?limit=`, nullopt unless it is 1 to 100.
std::optional<int> page_limit(const request& req, int fallback);
/// The same with another upper bound.
std::optional<int> page_limit(const request& req, int fallback, int max);

/// Query parameter `name` as an integer, read strictly: an optional '-' and 1 to 18 digits, nothing else
/// ("12abc", "1 OR 1=1", "" and a missing parameter are nullopt).
std::optional<std::int64_t> int_param(const request& req, std::string_view name);

/// Query parameter `name` as a finite decimal number, read strictly ("39.9", "-0.5", "1e3"; not "39.9abc",
/// " 39.9", "nan" or a missing parameter).
std::optional<double> number_param(const request& req, std::string_view name);

/// The asynchronous handler every endpoint and middleware chain is.
using handler = std::function<boost::asio::awaitable<response>(request&)>;

/// An application/problem+json response for `p`; `instance` is the request path, when known.
response problem_response(const core::problem& p, std::string_view request_id = {});

/// The problem for `p`, carrying the request's id.
inline response problem_response(const request& req, const core::problem& p) {
    return problem_response(p, req.request_id);
}

/// The problem for errc `e` (its status and title), with `detail` and the offending `field`.
inline response problem_response(const request& req,
                                 core::errc e,
                                 std::string detail = {},
                                 std::string field = {}) {
    return problem_response(core::make_problem(e, std::move(detail), std::move(field)), req.request_id);
}

/// The problem for an outcome code of our own category (a repository's core::result error).
inline response problem_response(const request& req,
                                 const boost::system::error_code& ec,
                                 std::string detail = {},
                                 std::string field = {}) {
    const auto e = ec.category() == core::carematch_category() ? static_cast<core::errc>(ec.value())
                                                               : core::errc::unavailable;
    return problem_response(req, e, std::move(detail), std::move(field));
}

/// What handlers answer a refusal with: problem_response(req, …) under one short name (a core::problem, an
/// errc with detail and field, or an outcome code).
template <class... Args>
response problem(const request& req, Args&&... args) {
    return problem_response(req, std::forward<Args>(args)...);
}

/// Shorthand: a problem with `status`, its standard title, `detail` and optional `field`.
response problem_response(int status, std::string detail, std::string field = {});

/// An application/json response with an already serialised body. Numbers Boost.JSON wrote with an exponent
/// (3.99489E1) are rewritten as plain decimals (39.9489; 4E0 as 4.0) when their magnitude is ordinary (1e-6
/// to 1e15).
response json_text_response(int status, std::string body);

/// The rewriting json_text_response does: `json` with ordinary numbers in plain decimal form, shortest
/// round-trip.
std::string plain_numbers(std::string json);

/// Percent-decodes `s` ('+' stays '+'); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace carematch::http
