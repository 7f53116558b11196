// Sealing of sensitive fields and argon2id passwords.
#include "support/run_coro.hpp"

#include <carematch/auth/password.hpp>
#include <carematch/auth/sealer.hpp>

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

}  // namespace
}  // namespace carematch::auth
