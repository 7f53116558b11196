// The service-to-service client reuses kept-alive connections and reports unreachable peers.
#include "support/run_coro.hpp"
#include "support/test_server.hpp"

#include <carematch/http/client.hpp>
#include <carematch/http/router.hpp>

#include <gtest/gtest.h>

namespace carematch::http {
namespace {

namespace asio = boost::asio;

TEST(http_client, reuses_one_connection_for_sequential_requests) {
    router r;
    r.add("POST", "/v1/echo", [](request& req) -> asio::awaitable<response> {
        co_return json_text_response(200, req.body);
    });
    test::test_server srv(r.as_handler());

    asio::io_context io;
    client c(io);
    for (int i = 0; i < 5; ++i) {
        outgoing o;
        o.method = "POST";
        o.target = "/v1/echo";
        o.body = "{\"n\":" + std::to_string(i) + "}";
        o.headers = {{"Content-Type", "application/json"}};
        auto res = test::run_coro(io, c.send("127.0.0.1", srv.port(), o));
        ASSERT_TRUE(res) << res.error().message();
        EXPECT_EQ(res->status, 200);
        EXPECT_EQ(res->body, o.body);
    }
    EXPECT_EQ(c.idle_connections(), 1u);
    EXPECT_EQ(srv.server().connections(), 1u);
}

TEST(http_client, replaces_a_connection_the_server_closed) {
    router r;
    r.add("GET", "/v1/ping", [](request&) -> asio::awaitable<response> {
        co_return json_text_response(200, "{}");
    });
    asio::io_context io;
    client c(io);
    std::uint16_t port = 0;
    {
        test::test_server first(r.as_handler());
        port = first.port();
        ASSERT_TRUE(test::run_coro(io, c.send("127.0.0.1", port, outgoing{})));
    }
    // The kept connection is dead now; nothing listens: the client reports unavailable, not a crash.
    auto res = test::run_coro(io, c.send("127.0.0.1", port, outgoing{}));
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), core::errc::unavailable);
}

}  // namespace
}  // namespace carematch::http
