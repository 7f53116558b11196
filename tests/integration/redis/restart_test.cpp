// After Redis restarts, the client reconnects by itself. Runs alone (RUN_SERIAL): it restarts the shared
// server.
#include "support/run_coro.hpp"

#include <carematch/redis/client.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

namespace carematch::redis {
namespace {

TEST(redis_restart, client_reconnects_after_the_server_restarts) {
    boost::asio::io_context io;
    client c(io, test::redis_settings());
    auto before = test::run_coro(io, c.command({"PING"}));
    ASSERT_TRUE(before);
    EXPECT_EQ(before->str, "PONG");

    ASSERT_EQ(std::system(test::required_env("CAREMATCH_TEST_REDIS_RESTART").c_str()), 0);

    // The first command may find the old connection dead (unavailable); a later one must succeed.
    bool recovered = false;
    for (int i = 0; i < 20 && !recovered; ++i) {
        auto r = test::run_coro(io, c.command({"PING"}));
        recovered = r && r->str == "PONG";
    }
    EXPECT_TRUE(recovered);
    EXPECT_EQ(c.connects(), 2u);
}

}  // namespace
}  // namespace carematch::redis
