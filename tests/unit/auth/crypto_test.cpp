// Sealing of sensitive fields and argon2id passwords.
#include "support/run_coro.hpp"

#include <carematch/auth/password.hpp>
#include <carematch/auth/sealer.hpp>
#include <carematch/core/error.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <gtest/gtest.h>

namespace carematch::auth {
namespace {

TEST(sealer, round_trips_and_detects_tampering) {
    sealer s(sealer::generate_key());
    std::string sealed = s.seal("糖尿病, insulin twice a day");
    EXPECT_EQ(sealed.find("insulin"), std::string::npos);
    EXPECT_EQ(s.open(sealed).value_or(""), "糖尿病, insulin twice a day");
    EXPECT_NE(s.seal("same"), s.seal("same"));  // fresh nonce each time
    sealed[sealed.size() - 1] ^= 1;
    EXPECT_FALSE(s.open(sealed));
    sealer other(sealer::generate_key());
    EXPECT_FALSE(other.open(s.seal("x")));
    EXPECT_THROW(sealer("too-short"), std::invalid_argument);
}

TEST(sealer, text_form_round_trips_and_refuses_what_is_not_its_own) {
    sealer s(sealer::generate_key());
    std::string sealed = s.seal_text("北京市东城区安定门东大街 1 号");
    EXPECT_EQ(sealed.find("安定门"), std::string::npos);
    EXPECT_EQ(s.open_text(sealed), "北京市东城区安定门东大街 1 号");
    EXPECT_EQ(s.open_nullable(std::nullopt), std::nullopt);
    EXPECT_EQ(s.seal_nullable(std::nullopt), std::nullopt);
    EXPECT_EQ(s.open_nullable(s.seal_nullable(std::string("王秀英"))), "王秀英");
    EXPECT_EQ(s.seal_nonempty(""), std::nullopt);
    EXPECT_EQ(s.open_nullable(s.seal_nonempty("门铃坏了")), "门铃坏了");
    EXPECT_THROW(s.open_text("not base64!"), std::runtime_error);
    EXPECT_THROW(sealer(sealer::generate_key()).open_text(sealed), std::runtime_error);
    sealed[5] = sealed[5] == 'A' ? 'B' : 'A';
    EXPECT_THROW(s.open_text(sealed), std::runtime_error);
}

TEST(sealer, index_is_keyed_stable_and_differs_between_values_and_keys) {
    const std::string key = sealer::generate_key();
    sealer s(key);
    EXPECT_EQ(s.index("13800000001"), sealer(key).index("13800000001"));
    EXPECT_EQ(s.index("13800000001").size(), 64u);
    EXPECT_NE(s.index("13800000001"), s.index("13800000002"));
    EXPECT_NE(s.index("13800000001"), sealer(sealer::generate_key()).index("13800000001"));
    EXPECT_EQ(s.index("13800000001").find("13800000001"), std::string::npos);
}

TEST(password_hasher, hashes_with_argon2id_and_verifies) {
    boost::asio::io_context io;
    password_hasher h;
    std::string stored = test::run_coro(io, h.hash("correct horse battery"));
    EXPECT_EQ(stored.rfind("$argon2id$", 0), 0u) << stored;
    EXPECT_NE(stored.find("m=19456,t=2"), std::string::npos) << stored;
    EXPECT_TRUE(test::run_coro(io, h.verify("correct horse battery", stored)));
    EXPECT_FALSE(test::run_coro(io, h.verify("wrong horse battery", stored)));
    EXPECT_FALSE(test::run_coro(io, h.verify("x", "not a hash")));
}

TEST(password_hasher, beyond_its_queue_a_hash_is_refused_at_once) {
    boost::asio::io_context io;
    password_settings s;
    s.threads = 1;
    s.queue_limit = 1;
    password_hasher h(s);
    int done = 0;
    int refused = 0;
    auto one = [&]() -> boost::asio::awaitable<void> {
        try {
            (void)co_await h.hash("correct horse battery");
            ++done;
        } catch (const core::overloaded_error&) {
            ++refused;
        }
    };
    auto scenario = [&]() -> boost::asio::awaitable<void> {
        using namespace boost::asio::experimental::awaitable_operators;
        // Started together: the thread takes at most the first, one more may wait (the limit), the third
        // finds the queue full while the first is still hashing.
        co_await (one() && one() && one());
    };
    test::run_coro(io, scenario());
    EXPECT_GE(done, 1);
    EXPECT_GE(refused, 1);
    EXPECT_EQ(done + refused, 3);
}

}  // namespace
}  // namespace carematch::auth
