// The operational endpoints: served past admission control, and /readyz answering within a second whatever a
// dependency does.
#include "support/run_coro.hpp"
#include "support/test_server.hpp"

#include <carematch/http/admission.hpp>
#include <carematch/http/client.hpp>
#include <carematch/observability/endpoints.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <atomic>

namespace carematch::observability {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class endpoints_test : public ::testing::Test {
  protected:
    http::response call(test::test_server& srv, const std::string& method, const std::string& target) {
        http::outgoing o;
        o.method = method;
        o.target = target;
        auto r = test::run_coro(client_io, client.send("127.0.0.1", srv.port(), o));
        if (!r) {
            throw std::runtime_error("request failed");
        }
        return *r;
    }

    asio::io_context client_io;
    http::client client{client_io};
    metrics m;
};

TEST_F(endpoints_test, probes_and_metrics_pass_an_admission_limit_that_refuses_everything_else) {
    asio::io_context io{2};
    std::atomic<bool> release{false};
    std::atomic<int> held{0};
    http::router r;
    add_routes(r, m, {probe{"always", []() -> asio::awaitable<bool> { co_return true; }}});
    r.add("GET", "/v1/slow", [&](http::request&) -> asio::awaitable<http::response> {
        ++held;
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (!release) {
            t.expires_after(1ms);
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        co_return http::json_text_response(200, "{}");
    });
    http::admission door(http::admission_settings{1, 1, 20ms, 100ms}, {});
    auto chain = standard_chain(m);
    chain.push_back(door.door());
    test::test_server srv(io, with_operational_bypass(std::move(chain), r.as_handler()));
    // One read holds the whole read budget.
    asio::io_context side;
    http::client side_client{side};
    std::thread holder([&] {
        http::outgoing o;
        o.method = "GET";
        o.target = "/v1/slow";
        test::run_coro(side, side_client.send("127.0.0.1", srv.port(), o));
    });
    while (held == 0) {
        std::this_thread::yield();
    }
    EXPECT_EQ(call(srv, "GET", "/v1/slow").status, 503);
    EXPECT_EQ(call(srv, "GET", "/readyz").status, 200);
    EXPECT_EQ(call(srv, "GET", "/healthz").status, 200);
    EXPECT_EQ(call(srv, "GET", "/metrics").status, 200);
    release = true;
    holder.join();
}

TEST_F(endpoints_test, readyz_answers_within_a_second_while_a_dependency_hangs_and_starts_no_second_check) {
    asio::io_context io{2};
    std::atomic<int> checks{0};
    http::router r;
    add_routes(r,
               m,
               {probe{"fine", []() -> asio::awaitable<bool> { co_return true; }},
                probe{"hanging", [&]() -> asio::awaitable<bool> {
                          ++checks;
                          asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
                          co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
                          co_return true;
                      }}});
    test::test_server srv(io, r.as_handler());
    for (int i = 0; i < 2; ++i) {
        auto res = call(srv, "GET", "/readyz");
        EXPECT_EQ(res.status, 503);
        auto body = boost::json::parse(res.body);
        EXPECT_EQ(body.at("checks").at("hanging").at("status").as_string(), "no answer") << res.body;
        EXPECT_GE(body.at("checks").at("hanging").at("age_ms").as_int64(), 1000);
        EXPECT_EQ(body.at("checks").at("fine").at("status").as_string(), "ok");
    }
    EXPECT_EQ(checks.load(), 1);  // the hanging check is not started again while it runs
}

}  // namespace
}  // namespace carematch::observability
