// Middleware: the in-flight limit refuses at once what it cannot take, and lets the rest through.
#include "support/run_coro.hpp"

#include <carematch/http/middleware.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace carematch::http {
namespace {

namespace asio = boost::asio;

TEST(middleware, over_the_in_flight_limit_a_request_is_refused_at_once_with_retry_after) {
    asio::io_context io;
    asio::steady_timer gate(io, std::chrono::hours(1));  // holds the first request until the test opens it
    int entered = 0;
    handler slow = [&](request&) -> asio::awaitable<response> {
        ++entered;
        co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return json_text_response(200, "{}");
    };
    handler h = compose({limit_in_flight(1)}, slow);
    response first, second, third;
    auto held = [&]() -> asio::awaitable<void> {
        request r;
        first = co_await h(r);
    };
    auto refused_then_open = [&]() -> asio::awaitable<void> {
        while (entered == 0) {  // let the first one in
            co_await asio::post(io, asio::use_awaitable);
        }
        request r;
        second = co_await h(r);                       // answered without waiting for the first
        gate.expires_after(std::chrono::seconds(0));  // opens the gate for the waiting and later ones
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        co_await (held() && refused_then_open());
        request r;
        third = co_await h(r);  // room again
    };
    test::run_coro(io, scenario());
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(second.status, 503);
    EXPECT_EQ(second.header("retry-after").value_or(""), "1");
    EXPECT_EQ(entered, 2);  // the refused one never reached the handler
    EXPECT_EQ(third.status, 200);
}

TEST(middleware, the_admission_limit_shrinks_when_admitted_requests_take_longer_than_the_target) {
    asio::io_context io;
    asio::steady_timer gate(io, std::chrono::hours(1));
    int entered = 0;
    bool slow_once = true;
    handler h = compose({limit_in_flight(10, std::chrono::milliseconds(1))},
                        [&](request&) -> asio::awaitable<response> {
                            ++entered;
                            if (slow_once) {  // one request over the target
                                slow_once = false;
                                asio::steady_timer t(io, std::chrono::milliseconds(20));
                                co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
                            } else {
                                co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
                            }
                            co_return json_text_response(200, "{}");
                        });
    std::vector<int> statuses;
    auto one = [&]() -> asio::awaitable<void> {
        request r;
        statuses.push_back((co_await h(r)).status);
    };
    auto nine_then_open = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (int k = 0; k < 8; ++k) {
            asio::co_spawn(ex, one(), asio::detached);
        }
        while (entered < 9) {  // the slow one and eight held ones are in
            co_await asio::post(ex, asio::use_awaitable);
        }
        co_await one();  // the ninth held one: over the shrunk limit of 8
        gate.expires_after(std::chrono::seconds(0));
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        co_await one();  // slow: 20 ms against a 1 ms target, so the limit of 10 becomes 8
        statuses.clear();
        co_await nine_then_open();
        while (statuses.size() < 9) {
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        }
    };
    test::run_coro(io, scenario());
    EXPECT_EQ(entered, 9);  // the slow one and eight of the nine
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 503), 1);
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 8);
}

}  // namespace
}  // namespace carematch::http
