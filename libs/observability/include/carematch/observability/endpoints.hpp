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

/// The middleware every service runs, outermost first: request id, access log, metrics.
std::vector<http::middleware> standard_chain(metrics& m);

/// GET /healthz → 200 while the process serves; GET /readyz → 200 when every probe passes, else 503 naming
/// the failing ones; GET /metrics → Prometheus text. Routes are added to `r`; `m` and the probes' targets
/// must outlive it.
void add_routes(http::router& r, metrics& m, std::vector<probe> probes);

}  // namespace carematch::observability
