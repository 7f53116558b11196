// The three operational endpoints every service mounts: /healthz, /readyz and /metrics.
#pragma once

#include <carematch/http/router.hpp>
#include <carematch/observability/metrics.hpp>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

namespace carematch::observability {

/// A named readiness check: true when the dependency answers.
struct probe {
    std::string name;
    std::function<boost::asio::awaitable<bool>()> check;
};

/// The operational paths (/healthz, /readyz, /metrics): served before admission control and rate limits,
/// so that a probe never reads "too many requests" from a healthy, busy instance.
bool is_operational(std::string_view path) noexcept;

/// The process's root handler: `chain` (the standard chain, admission, budgets) around `routed` for every
/// path but the operational ones, which `routed` serves behind a request id only.
http::handler with_operational_bypass(std::vector<http::middleware> chain, const http::handler& routed);

/// The middleware every service runs, outermost first: request id, access log, metrics.
std::vector<http::middleware> standard_chain(metrics& m);

/// GET /healthz → 200 while the process serves; GET /readyz → 200 when every probe passes, else 503 naming
/// the failing ones; GET /metrics → Prometheus text. Routes are added to `r`; `m` and the probes' targets
/// must outlive it.
///
/// /readyz answers within a second whatever a dependency does: a probe's result is reused while it is younger
/// than a quarter second, a probe is checked by one request at a time, and a check that has not answered
/// after a second counts as failing ("no answer"). Each check is shown with its age in milliseconds.
void add_routes(http::router& r, metrics& m, std::vector<probe> probes);

}  // namespace carematch::observability
