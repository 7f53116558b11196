// The main() of every CareMatch process: one service alone, or several on one listener (all-in-one).
#pragma once

#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
}
namespace carematch::core {
class config_source;
}

namespace carematch::runtime {

class service;

/// Builds a service from its config table (each service's `make_app`).
using factory = std::unique_ptr<service> (*)(boost::asio::io_context&, core::config_source&);

/// Reads the config file (argv[1], else `default_config`) for `process`, builds every service, starts them,
/// mounts their routes, probes and gauges with /healthz, /readyz and /metrics on one listener, points each
/// service's peers that run in this process at that listener, runs their background work and serves until
/// SIGTERM. Start-up failures are logged and return 1.
int service_main(int argc,
                 char** argv,
                 const char* process,
                 const char* default_config,
                 const std::vector<factory>& services);

}  // namespace carematch::runtime
