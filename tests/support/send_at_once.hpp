// Test support: many requests sent to one server at once, each on a connection of its own, answered in order.
#pragma once

#include "support/run_coro.hpp"

#include <carematch/http/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <vector>

namespace carematch::test {

/// Sends every request at once to 127.0.0.1:`port` and returns the answers in the requests' order (status 0:
/// no answer).
inline std::vector<http::response> send_at_once(boost::asio::io_context& io,
                                                std::uint16_t port,
                                                const std::vector<http::outgoing>& requests) {
    http::client patient(io, http::client::settings{std::chrono::seconds(120), 256});
    std::vector<http::response> answers(requests.size());
    auto all = [&]() -> boost::asio::awaitable<void> {
        std::atomic<std::size_t> done{0};
        auto ex = co_await boost::asio::this_coro::executor;
        for (std::size_t i = 0; i < requests.size(); ++i) {
            boost::asio::co_spawn(
                ex,
                [&, i]() -> boost::asio::awaitable<void> {
                    auto r = co_await patient.send("127.0.0.1", port, requests[i]);
                    if (r) {
                        answers[i] = *r;
                    }
                    ++done;
                },
                boost::asio::detached);
        }
        boost::asio::steady_timer t(ex);
        while (done < requests.size()) {
            t.expires_after(std::chrono::milliseconds(5));
            co_await t.async_wait(boost::asio::use_awaitable);
        }
    };
    run_coro(io, all());
    return answers;
}

}  // namespace carematch::test
