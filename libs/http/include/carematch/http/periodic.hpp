// Background work a service runs beside its listener: a task every so often until the service stops.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>

namespace carematch::http {

/// Runs `task` now and then every `interval` until `stopping` is set. A task that throws is logged (as `what`
/// failed) and run again at the next interval. Pass `task` as a named std::function: GCC 12 destroys a
/// closure temporary inside a co_await expression twice.
boost::asio::awaitable<void> every(std::chrono::steady_clock::duration interval,
                                   const std::atomic<bool>& stopping,
                                   std::function<boost::asio::awaitable<void>()> task,
                                   const char* what);

}  // namespace carematch::http
