// Admission control: refuses at once over a class's limit, never for slowness alone, and only while a queue
// stands.
#include "support/run_coro.hpp"

#include <carematch/http/admission.hpp>

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
#include <atomic>
#include <vector>

namespace carematch::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

request make(std::string method, std::string path = "/v1/orders") {
    request r;
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
}

// Requests held in the handler until the gate opens.
struct held_handler {
    asio::steady_timer gate;
    int entered = 0;
    explicit held_handler(asio::io_context& io) : gate(io, std::chrono::hours(1)) {}
    handler get() {
        return [this](request&) -> asio::awaitable<response> {
            ++entered;
            co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
            co_return json_text_response(200, "{}");
        };
    }
};

// Waits (on timers, never blocking the io thread) until `done` holds.
template <class Pred>
asio::awaitable<void> until(Pred done) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (!done()) {
        t.expires_after(1ms);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

TEST(admission, over_a_class_s_limit_a_request_is_refused_at_once_and_the_other_class_has_its_own_budget) {
    asio::io_context io;
    held_handler held(io);
    admission a(admission_settings{1, 1, 20ms, 100ms}, {});
    handler h = compose({a.door()}, held.get());
    response first_read, second_read, a_write, later_read;
    auto hold_read = [&]() -> asio::awaitable<void> {
        request r = make("GET");
        first_read = co_await h(r);
    };
    auto write = [&]() -> asio::awaitable<void> {
        request w = make("POST");
        a_write = co_await h(w);
    };
    auto others = [&]() -> asio::awaitable<void> {
        co_await until([&] { return held.entered == 1; });
        request r = make("GET");
        second_read = co_await h(r);  // answered without waiting for the first
        asio::co_spawn(co_await asio::this_coro::executor, write(), asio::detached);
        co_await until([&] { return held.entered == 2; });  // the write got in beside the held read
        held.gate.expires_after(0s);
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        co_await (hold_read() && others());
        co_await until([&] { return a_write.status != 0; });
        request r = make("GET");
        later_read = co_await h(r);  // room again
    };
    test::run_coro(io, scenario());
    EXPECT_EQ(first_read.status, 200);
    EXPECT_EQ(second_read.status, 503);
    EXPECT_EQ(second_read.header("retry-after").value_or(""), "1");
    EXPECT_EQ(second_read.header("content-type").value_or(""), "application/problem+json");
    EXPECT_EQ(a_write.status, 200);
    EXPECT_EQ(later_read.status, 200);
    EXPECT_EQ(held.entered, 3);  // the refused one never reached the handler
    EXPECT_EQ(a.snapshot().reads_refused, 1u);
    EXPECT_EQ(a.snapshot().writes_refused, 0u);
}

TEST(admission, slow_requests_with_no_queue_keep_every_one_admitted) {
    asio::io_context io;
    // No queue stands (delay 0) while 40 requests of 30 ms each run at once, over many intervals.
    admission a(admission_settings{64, 4, 1ms, 1ms}, {[] { return std::chrono::steady_clock::duration{}; }});
    handler h = compose({a.door()}, [&](request&) -> asio::awaitable<response> {
        asio::steady_timer t(io, 30ms);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return json_text_response(200, "{}");
    });
    std::vector<int> statuses;
    auto one = [&]() -> asio::awaitable<void> {
        request r = make("POST");
        statuses.push_back((co_await h(r)).status);
    };
    auto waves = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (std::size_t round = 1; round <= 3; ++round) {
            for (int k = 0; k < 40; ++k) {
                asio::co_spawn(ex, one(), asio::detached);
            }
            co_await until([&] { return statuses.size() == 40 * round; });
        }
    };
    test::run_coro(io, waves());
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 120);
    EXPECT_EQ(a.snapshot().write_limit, 64);
}

TEST(admission, a_standing_queue_cuts_the_limit_below_what_is_in_flight_and_it_grows_back_once_it_is_gone) {
    asio::io_context io;
    held_handler held(io);
    std::atomic<long> delay_ms{40};  // every request stands 40 ms in a queue: four times the target
    admission a(admission_settings{100, 2, 10ms, 1ms}, {[&] {
                    return std::chrono::steady_clock::duration(std::chrono::milliseconds(delay_ms.load()));
                }});
    handler h = compose({a.door()}, held.get());
    std::vector<int> statuses;
    auto one = [&]() -> asio::awaitable<void> {
        request r = make("POST");
        statuses.push_back((co_await h(r)).status);
    };
    auto refused = [&] { return static_cast<int>(std::count(statuses.begin(), statuses.end(), 503)); };
    // Sends one request a little over an interval after the last, until `stop` says so.
    auto send_until = [&](auto stop) -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer t(ex);
        while (!stop()) {
            t.expires_after(2ms);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            const auto before = held.entered + refused();
            asio::co_spawn(ex, one(), asio::detached);
            co_await until([&] { return held.entered + refused() > before; });
        }
    };
    int held_when_refused = 0;
    int held_when_admitted_again = 0;
    auto scenario = [&]() -> asio::awaitable<void> {
        co_await send_until([&] { return refused() > 0; });
        held_when_refused = held.entered;
        delay_ms = 0;  // the queue is gone: the limit grows past what is held
        const int before = held.entered;
        co_await send_until([&] { return held.entered > before; });
        held_when_admitted_again = held.entered;
        held.gate.expires_after(0s);
        co_await until([&] { return static_cast<int>(statuses.size()) == held.entered + refused(); });
    };
    test::run_coro(io, scenario());
    EXPECT_GE(held_when_refused, 3);   // the limit is cut only once more than the floor was in flight
    EXPECT_LE(held_when_refused, 10);  // and then below what was in flight, at once
    EXPECT_GT(held_when_admitted_again, held_when_refused);
    EXPECT_EQ(static_cast<int>(std::count(statuses.begin(), statuses.end(), 200)), held.entered);
}

TEST(admission, calls_between_services_pass_uncounted) {
    asio::io_context io;
    held_handler held(io);
    admission a(admission_settings{1, 1, 20ms, 100ms}, {});
    handler h = compose({a.door()}, held.get());
    response outer, inner;
    auto hold = [&]() -> asio::awaitable<void> {
        request r = make("POST");
        outer = co_await h(r);
    };
    auto internal = [&]() -> asio::awaitable<void> {
        request r = make("POST", "/v1/internal/orders/x");
        inner = co_await h(r);
    };
    auto call = [&]() -> asio::awaitable<void> {
        co_await until([&] { return held.entered == 1; });
        asio::co_spawn(co_await asio::this_coro::executor, internal(), asio::detached);
        co_await until([&] { return held.entered == 2; });  // admitted beside the held write
        held.gate.expires_after(0s);
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        co_await (hold() && call());
        co_await until([&] { return inner.status != 0; });
    };
    test::run_coro(io, scenario());
    EXPECT_EQ(outer.status, 200);
    EXPECT_EQ(inner.status, 200);
}

}  // namespace
}  // namespace carematch::http
