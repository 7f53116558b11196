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

/// Answers 503 problem+json with Retry-After at once while the admission limit of requests is being handled:
/// overload is refused, not queued. The limit is `max`, or, with a `target` latency, adapts between 4 and
/// `max`: it shrinks by a fifth when admitted requests take longer than the target and grows slowly while
/// they do not, so that what is admitted is served in time. Calls between services (/v1/internal/...) belong
/// to requests already admitted and pass uncounted. `max` 0: no limit. Put it outside everything that waits.
middleware limit_in_flight(int max, std::chrono::milliseconds target = std::chrono::milliseconds(0));

/// Logs one JSON line per request: method, route, path, status, duration, request id, remote address.
middleware access_log();

}  // namespace carematch::http
