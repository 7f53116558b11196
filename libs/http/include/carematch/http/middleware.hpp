// Middleware: functions wrapping the next handler (request id, access log, ...), composed into one handler.
#pragma once

#include <carematch/http/message.hpp>

#include <chrono>
#include <vector>

namespace carematch::http {

/// Runs around `next`: may change the request, answer itself, or change the response.
using middleware = std::function<boost::asio::awaitable<response>(request&, const handler& next)>;

/// Composes `chain` (outermost first) around `inner`.
handler compose(std::vector<middleware> chain, handler inner);

/// Takes X-Request-Id when it is a short token ([A-Za-z0-9._-], at most 64), else makes one; echoes it
/// in the response.
middleware request_id();

/// Logs one JSON line per request: method, route, path, status, duration, request id, remote address.
middleware access_log();

}  // namespace carematch::http
