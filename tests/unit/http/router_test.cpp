// Router: methods, path parameters, 404, 405 with Allow, literal precedence, clashes.
#include "support/run_coro.hpp"

#include <carematch/http/router.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace carematch::http {
namespace {

namespace asio = boost::asio;

handler named(std::string name) {
    return [name](request& req) -> asio::awaitable<response> {
        std::string body = name;
        for (const auto& [k, v] : req.params) {
            body += " " + k + "=" + v;
        }
        co_return json_text_response(200, body);
    };
}

class router_test : public ::testing::Test {
  protected:
    router_test() {
        r.add("GET", "/v1/orders", named("list"));
        r.add("POST", "/v1/orders", named("create"));
        r.add("GET", "/v1/orders/{id}", named("get"));
        r.add("DELETE", "/v1/orders/{id}", named("delete"));
        r.add("GET", "/v1/orders/mine", named("mine"));
        r.add("GET", "/v1/orders/{id}/history/{entry}", named("entry"));
    }

    response call(std::string method, std::string path) {
        request req;
        req.method = std::move(method);
        req.path = std::move(path);
        asio::io_context io;
        return test::run_coro(io, r.as_handler()(req));
    }

    router r;
};

TEST_F(router_test, matches_parameters) {
    EXPECT_EQ(call("GET", "/v1/orders/42").body, "get id=42");
    EXPECT_EQ(call("GET", "/v1/orders/7/history/3").body, "entry id=7 entry=3");
    EXPECT_EQ(call("GET", "/v1/orders/a%20b").body, "get id=a b");
}

TEST_F(router_test, literal_segment_wins_over_parameter) {
    EXPECT_EQ(call("GET", "/v1/orders/mine").body, "mine");
}

TEST_F(router_test, distinguishes_methods) {
    EXPECT_EQ(call("GET", "/v1/orders").body, "list");
    EXPECT_EQ(call("POST", "/v1/orders").body, "create");
}

TEST_F(router_test, unknown_path_is_404_problem) {
    for (const char* path : {"/v1/order", "/v1/orders/1/2", "/", "/v1/orders/%zz", "/v1/orders//history/1"}) {
        auto res = call("GET", path);
        EXPECT_EQ(res.status, 404) << path;
        EXPECT_EQ(res.header("content-type").value_or(""), "application/problem+json");
    }
}

TEST_F(router_test, wrong_method_is_405_with_allow) {
    auto res = call("PATCH", "/v1/orders/9");
    EXPECT_EQ(res.status, 405);
    EXPECT_EQ(res.header("allow").value_or(""), "DELETE, GET");
    EXPECT_EQ(call("PUT", "/v1/orders").header("allow").value_or(""), "GET, POST");
}

TEST_F(router_test, clashing_routes_are_refused) {
    EXPECT_THROW(r.add("GET", "/v1/orders/{other}", named("x")), std::invalid_argument);
    EXPECT_THROW(r.add("GET", "v1/no-slash", named("x")), std::invalid_argument);
    EXPECT_THROW(r.add("GET", "/v1/a{b}", named("x")), std::invalid_argument);
    EXPECT_NO_THROW(r.add("PUT", "/v1/orders/{id}", named("put")));
}

TEST_F(router_test, handler_exception_becomes_500_without_internal_text) {
    r.add("GET", "/boom", [](request&) -> asio::awaitable<response> {
        throw std::runtime_error("secret internal detail");
        co_return response{};
    });
    r.add("GET", "/down", [](request&) -> asio::awaitable<response> {
        throw core::unavailable_error("db down");
        co_return response{};
    });
    auto res = call("GET", "/boom");
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.body.find("secret"), std::string::npos);
    EXPECT_EQ(call("GET", "/down").status, 503);
    EXPECT_EQ(call("GET", "/down").header("retry-after").value_or(""), "1");
    r.add("GET", "/busy", [](request&) -> asio::awaitable<response> {
        throw core::overloaded_error("no connection in time");
        co_return response{};
    });
    auto busy = call("GET", "/busy");
    EXPECT_EQ(busy.status, 503);
    EXPECT_EQ(busy.header("retry-after").value_or(""), "1");
    EXPECT_EQ(busy.body.find("connection"), std::string::npos);
}

TEST(router_deadline, a_handler_past_its_deadline_is_cancelled_and_answered_503) {
    router r;
    bool cancelled = false;
    r.add("GET", "/slow", [&](request&) -> asio::awaitable<response> {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        cancelled = ec == asio::error::operation_aborted;
        co_return json_text_response(200, "{}");
    });
    r.add("GET", "/quick", [](request&) -> asio::awaitable<response> {
        co_return json_text_response(200, "{}");
    });
    handler h = r.as_handler(std::chrono::milliseconds(50));
    asio::io_context io;
    request slow;
    slow.method = "GET";
    slow.path = "/slow";
    auto res = test::run_coro(io, h(slow));
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after").value_or(""), "1");
    EXPECT_TRUE(cancelled);
    request quick;
    quick.method = "GET";
    quick.path = "/quick";
    EXPECT_EQ(test::run_coro(io, h(quick)).status, 200);
}

}  // namespace
}  // namespace carematch::http
