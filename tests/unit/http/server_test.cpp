// A real server on a loopback port: keep-alive, pipelining, limits (413, 431, 400, 408), graceful stop.
#include "support/test_server.hpp"

#include <carematch/http/middleware.hpp>
#include <carematch/http/router.hpp>
#include <carematch/http/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace carematch::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

class server_test : public ::testing::Test {
  protected:
    explicit server_test(core::http_settings settings = {}) : settings_(settings) {
        routes_.add("GET", "/echo/{word}", [](request& req) -> asio::awaitable<response> {
            co_return json_text_response(200, std::string(req.param("word")));
        });
        routes_.add("POST", "/size", [](request& req) -> asio::awaitable<response> {
            co_return json_text_response(200, std::to_string(req.body.size()));
        });
    }

    void start() {
        server_ =
            std::make_unique<test::test_server>(compose({request_id()}, routes_.as_handler()), settings_);
    }

    void expect_still_serving() {
        test::raw_connection c(server_->port());
        c.send(test::get_request("/echo/alive"));
        auto res = c.read();
        EXPECT_EQ(res.result_int(), 200);
        EXPECT_EQ(res.body(), "alive");
    }

    core::http_settings settings_;
    router routes_;
    std::unique_ptr<test::test_server> server_;
};

TEST_F(server_test, keeps_the_connection_alive) {
    start();
    test::raw_connection c(server_->port());
    for (const char* word : {"one", "two", "three"}) {
        c.send(test::get_request(std::string("/echo/") + word));
        auto res = c.read();
        EXPECT_EQ(res.result_int(), 200);
        EXPECT_EQ(res.body(), word);
        EXPECT_TRUE(res.keep_alive());
        EXPECT_FALSE(res["X-Request-Id"].empty());
    }
    EXPECT_EQ(server_->server().connections(), 1u);
}

TEST_F(server_test, answers_pipelined_requests_in_order) {
    start();
    test::raw_connection c(server_->port());
    std::string batch;
    for (int i = 0; i < 5; ++i) {
        batch += test::get_request("/echo/n" + std::to_string(i));
    }
    batch += "POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    c.send(batch);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(c.read().body(), "n" + std::to_string(i));
    }
    EXPECT_EQ(c.read().body(), "3");
}

TEST_F(server_test, rejects_a_2_mib_body_with_413_and_keeps_serving) {
    start();
    {
        test::raw_connection c(server_->port());
        std::string body(2 * 1024 * 1024, 'x');
        c.send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
        auto res = c.read();
        EXPECT_EQ(res.result_int(), 413);
        EXPECT_EQ(res[bhttp::field::content_type], "application/problem+json");
        EXPECT_TRUE(c.closed_by_peer());
    }
    expect_still_serving();
}

TEST_F(server_test, accepts_a_body_just_under_the_limit) {
    start();
    test::raw_connection c(server_->port());
    std::string body(1024 * 1024, 'y');
    c.send("POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body);
    auto res = c.read();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), std::to_string(body.size()));
}

TEST_F(server_test, rejects_a_huge_header_with_431_and_keeps_serving) {
    start();
    {
        test::raw_connection c(server_->port());
        c.send(test::get_request("/echo/x", "X-Big: " + std::string(32 * 1024, 'h') + "\r\n"));
        EXPECT_EQ(c.read().result_int(), 431);
    }
    expect_still_serving();
}

TEST_F(server_test, rejects_a_malformed_request_line_with_400_and_keeps_serving) {
    start();
    for (const std::string garbage : {"GARBAGE\r\n\r\n", "GET /x HTTP/9\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n"}) {
        test::raw_connection c(server_->port());
        c.send(garbage);
        EXPECT_EQ(c.read().result_int(), 400) << garbage;
    }
    expect_still_serving();
}

class slow_client_test : public server_test {
  protected:
    slow_client_test() : server_test(settings()) {}
    static core::http_settings settings() {
        core::http_settings s;
        s.request_timeout = std::chrono::milliseconds(300);
        return s;
    }
};

TEST_F(slow_client_test, incomplete_request_gets_408_and_server_keeps_serving) {
    start();
    {
        test::raw_connection c(server_->port());
        c.send("GET /echo/slow HTTP/1.1\r\nHost: x\r\n");  // never finishes its header
        EXPECT_EQ(c.read().result_int(), 408);
    }
    expect_still_serving();
}

// Through the server the deadline cancels what the handler waits for (a timer, then a second wait that the
// cancellation reaches at once), answers 503, and the same keep-alive connection then serves requests
// whose waits complete, with nothing left cancelled.
TEST(server_deadline, a_handler_past_its_deadline_is_cancelled_and_the_connection_serves_on) {
    std::atomic<int> cancelled{0};
    router r;
    r.add("GET", "/slow", [&](request&) -> asio::awaitable<response> {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) {
            ++cancelled;
        }
        t.expires_after(std::chrono::hours(1));
        try {
            auto [again] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
            if (again == asio::error::operation_aborted) {
                ++cancelled;
            }
        } catch (const boost::system::system_error& e) {
            if (e.code() == asio::error::operation_aborted) {
                ++cancelled;  // a wait begun after the cancellation ends at once
            }
        }
        co_return json_text_response(200, "{}");
    });
    r.add("GET", "/wait", [](request&) -> asio::awaitable<response> {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
        auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return json_text_response(ec ? 500 : 200, "{}");
    });
    test::test_server srv(r.as_handler(std::chrono::milliseconds(100)));
    test::raw_connection c(srv.port());
    c.send(test::get_request("/slow"));
    auto res = c.read();
    EXPECT_EQ(res.result_int(), 503);
    EXPECT_EQ(res[boost::beast::http::field::retry_after], "1");
    EXPECT_EQ(cancelled.load(), 2);
    for (int i = 0; i < 3; ++i) {
        c.send(test::get_request("/wait"));
        EXPECT_EQ(c.read().result_int(), 200);  // the timer ran its course: no cancellation left over
    }
}

// The server writes responses itself: each header once (its last value), no line break smuggled into a value,
// its own Content-Length, and no body after a status that admits none, so the keep-alive connection goes on.
TEST(server_wire, headers_go_out_once_each_without_line_breaks_and_a_bodiless_status_sends_no_body) {
    namespace bh = boost::beast::http;
    router r;
    r.add("GET", "/odd", [](request&) -> asio::awaitable<response> {
        response res;
        res.status = 204;
        res.body = "not sent";
        res.headers = {
            {"X-A", "1"}, {"x-a", "2"}, {"X-Evil", "a\r\nSet-Cookie: y"}, {"Content-Length", "99"}};
        co_return res;
    });
    r.add(
        "GET", "/ok", [](request&) -> asio::awaitable<response> { co_return json_text_response(200, "{}"); });
    test::test_server srv(r.as_handler());
    test::raw_connection c(srv.port());
    c.send(test::get_request("/odd"));
    auto odd = c.read();
    EXPECT_EQ(odd.result_int(), 204);
    EXPECT_EQ(std::distance(odd.equal_range("X-A").first, odd.equal_range("X-A").second), 1);
    EXPECT_EQ(odd["X-A"], "2");
    EXPECT_EQ(odd["X-Evil"], "aSet-Cookie: y");
    EXPECT_EQ(odd.count(bh::field::set_cookie), 0u);
    EXPECT_EQ(odd.count(bh::field::content_length), 0u);
    EXPECT_EQ(odd[bh::field::server], "carematch");
    EXPECT_TRUE(odd.body().empty());
    c.send(test::get_request("/ok"));
    auto ok = c.read();
    EXPECT_EQ(ok.result_int(), 200);
    EXPECT_EQ(ok.body(), "{}");
    EXPECT_EQ(ok[bh::field::content_length], "2");
    EXPECT_TRUE(ok.keep_alive());
}

TEST(server_shutdown, finishes_in_flight_requests_then_stops_accepting) {
    asio::io_context gate_io;
    std::promise<void> entered;
    std::promise<void> release;
    auto released = release.get_future().share();
    router r;
    r.add("GET", "/slow", [&](request&) -> asio::awaitable<response> {
        entered.set_value();
        // Wait for the test's signal without blocking an io thread: poll a shared future on a timer.
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (released.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            t.expires_after(std::chrono::milliseconds(5));
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        co_return json_text_response(200, "done");
    });
    test::test_server srv(r.as_handler());
    test::raw_connection busy(srv.port());
    test::raw_connection idle(srv.port());
    idle.send(test::get_request("/slow-missing"));
    EXPECT_EQ(idle.read().result_int(), 404);  // idle is now an idle keep-alive connection
    busy.send(test::get_request("/slow"));
    entered.get_future().wait();

    srv.server().stop();
    EXPECT_TRUE(idle.closed_by_peer());
    EXPECT_THROW(test::raw_connection refused(srv.port()), boost::system::system_error);

    release.set_value();
    auto res = busy.read();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "done");
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(busy.closed_by_peer());
}

}  // namespace
}  // namespace carematch::http

namespace carematch::http {
namespace {

// The server's reading of a request's bytes, without a socket (what the fuzz target feeds): the same limits
// and refusals as on the wire.
TEST(parse_request, reads_a_request_or_names_the_refusal_the_server_would_answer) {
    auto ok = parse_request(
        "POST /v1/orders?x=1 HTTP/1.1\r\nHost: a\r\nX-Thing: B\r\nContent-Length: 2\r\n\r\n{}", 16384, 1024);
    ASSERT_TRUE(ok.req.has_value());
    EXPECT_EQ(ok.req->method, "POST");
    EXPECT_EQ(ok.req->path, "/v1/orders");
    EXPECT_EQ(ok.req->query, "x=1");
    EXPECT_EQ(ok.req->header("x-thing").value_or(""), "B");
    EXPECT_EQ(ok.req->body, "{}");
    EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 16384, 1024).refusal, 413);
    EXPECT_EQ(
        parse_request("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 16384, 1024).refusal,
        431);
    EXPECT_EQ(parse_request("G@T / HTTP/1.1\r\n\r\n", 16384, 1024).refusal, 400);
    EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 16384, 1024).refusal, 400);
    // Cut short: neither a request nor a refusal (the server would wait for the rest).
    auto partial = parse_request("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}", 16384, 1024);
    EXPECT_FALSE(partial.req.has_value());
    EXPECT_EQ(partial.refusal, 0);
}

}  // namespace
}  // namespace carematch::http
