// runtime::rate_limit against the real Redis: a family over its write budget gets 429 with Retry-After and
// the RateLimit headers while another family is served; classes are apart; the auth class counts per address;
// service calls and probes pass; with Redis unreachable every request passes and is counted.
#include "support/run_coro.hpp"
#include "support/test_server.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/auth/jwt.hpp>
#include <carematch/http/client.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/runtime/rate_limit.hpp>
#include <carematch/runtime/service.hpp>

#include <gtest/gtest.h>

namespace carematch::runtime {
namespace {

class rate_limit_test : public ::testing::Test {
  protected:
    rate_limit_test() { verifier.add_key(key.kid, key.public_key); }
    ~rate_limit_test() override {
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> del{"EVAL",
                                         "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
                                         "redis.call('DEL', k) end return 0",
                                         "0",
                                         prefix + ":*"};
            co_await r.command(std::move(del));
        }());
    }

    // A server whose only route answers 200, behind the limiter on `where`.
    std::unique_ptr<test::test_server> serve(core::redis_settings where) {
        limiter_redis = std::make_unique<redis::client>(server_io, where, quick());
        http::handler ok = [](http::request&) -> boost::asio::awaitable<http::response> {
            http::response r;
            r.body = "ok";
            co_return r;
        };
        return std::make_unique<test::test_server>(
            server_io, http::compose({rate_limit(limits, *limiter_redis, verifier, stats, prefix)}, ok));
    }
    static redis::client_settings quick() {
        redis::client_settings s;
        s.connect_timeout = std::chrono::milliseconds(200);
        s.reply_timeout = std::chrono::milliseconds(200);
        return s;
    }

    http::response call(test::test_server& srv,
                        const std::string& method,
                        const std::string& target,
                        const std::string& token = "") {
        http::outgoing o;
        o.method = method;
        o.target = target;
        if (!token.empty()) {
            o.headers.emplace_back("Authorization", "Bearer " + token);
        }
        auto r = test::run_coro(client_io, client.send("127.0.0.1", srv.port(), o));
        if (!r) {
            throw std::runtime_error("request failed");
        }
        return *r;
    }

    std::string token(const std::string& id, auth::role role) {
        auth::caller who;
        who.id = id;
        who.role = role;
        return auth::token_issuer(key, {}, runtime::wall_clock()).issue(who);
    }

    auth::signing_key key = auth::generate_signing_key("rl1");
    auth::token_verifier verifier{{}, runtime::wall_clock()};
    core::rate_limits limits{.auth = {60, 2}, .writes = {60, 3}, .reads = {600, 5}};
    std::string prefix = "carematch:rl:test-" + core::random_hex(6);
    rate_limit_stats stats;
    boost::asio::io_context server_io{2};
    boost::asio::io_context client_io;
    http::client client{client_io};
    std::unique_ptr<redis::client> limiter_redis;
};

TEST_F(rate_limit_test, a_family_over_its_write_budget_gets_429_while_another_is_served) {
    auto srv = serve(test::redis_settings());
    const auto a = token(core::new_uuid(), auth::role::family);
    const auto b = token(core::new_uuid(), auth::role::family);
    for (int i = 0; i < 3; ++i) {
        auto r = call(*srv, "POST", "/v1/orders", a);
        ASSERT_EQ(r.status, 200) << i;
        EXPECT_EQ(r.header("ratelimit-policy").value_or(""), "\"writes\";q=3;w=3");
        EXPECT_EQ(r.header("ratelimit").value_or("").substr(0, 12), "\"writes\";r=" + std::to_string(2 - i));
    }
    auto over = call(*srv, "POST", "/v1/orders", a);
    EXPECT_EQ(over.status, 429);
    EXPECT_EQ(over.header("content-type").value_or(""), "application/problem+json");
    EXPECT_EQ(over.header("retry-after").value_or(""), "1");  // one a second refills
    EXPECT_NE(over.header("ratelimit").value_or("").find("r=0"), std::string::npos);
    EXPECT_EQ(stats.limited.load(), 1u);

    EXPECT_EQ(call(*srv, "POST", "/v1/orders", b).status, 200);  // another family's budget
    EXPECT_EQ(call(*srv, "GET", "/v1/orders", a).status, 200);   // reads are a class apart
    // Service calls and probes are not charged.
    const auto svc = auth::token_issuer(key, {}, runtime::wall_clock()).issue_service("matching");
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(call(*srv, "POST", "/v1/orders/x/transition", svc).status, 200);
        EXPECT_EQ(call(*srv, "GET", "/readyz").status, 200);
    }
    EXPECT_EQ(stats.fail_open.load(), 0u);
}

TEST_F(rate_limit_test, the_auth_class_counts_per_address_whatever_the_token) {
    auto srv = serve(test::redis_settings());
    EXPECT_EQ(call(*srv, "POST", "/v1/auth/login").status, 200);
    EXPECT_EQ(call(*srv, "POST", "/v1/auth/login", token(core::new_uuid(), auth::role::family)).status, 200);
    auto r = call(*srv, "POST", "/v1/auth/refresh");
    EXPECT_EQ(r.status, 429);
    EXPECT_NE(r.header("ratelimit-policy").value_or("").find("\"auth\""), std::string::npos);
    // Without a token, writes are charged to the address as well, apart from auth.
    EXPECT_EQ(call(*srv, "POST", "/v1/orders").status, 200);
}

TEST_F(rate_limit_test, with_redis_unreachable_requests_pass_and_are_counted) {
    core::redis_settings nowhere = test::redis_settings();
    nowhere.port = 1;  // nothing listens there
    auto srv = serve(nowhere);
    const auto a = token(core::new_uuid(), auth::role::family);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(call(*srv, "POST", "/v1/orders", a).status, 200);
    }
    EXPECT_EQ(stats.fail_open.load(), 5u);
    EXPECT_EQ(stats.limited.load(), 0u);
}

}  // namespace
}  // namespace carematch::runtime
