// A task on a timer, until the service stops.
#include <carematch/core/log.hpp>
#include <carematch/http/periodic.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>

namespace carematch::http {

boost::asio::awaitable<void> every(std::chrono::steady_clock::duration interval,
                                   const std::atomic<bool>& stopping,
                                   std::function<boost::asio::awaitable<void>()> task,
                                   const char* what) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!stopping) {
        try {
            co_await task();
        } catch (const std::exception& e) {
            core::log::warn(std::string(what) + " failed", {{"error", e.what()}});
        }
        timer.expires_after(interval);
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
}

}  // namespace carematch::http
