// After PostgreSQL restarts, the pool's next transaction reconnects. Runs alone (RUN_SERIAL).
#include "support/run_coro.hpp"

#include <carematch/db/pool.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

namespace carematch::db {
namespace {

TEST(pool_restart, recovers_after_the_server_restarts) {
    boost::asio::io_context io;
    core::db_settings s;
    s.url = test::db_url();
    s.pool_size = 2;
    pool p(s);
    auto backend_pid = [&] {
        return test::run_coro(io, p.transact([](pqxx::work& tx) {
            return tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
        }));
    };
    int before = backend_pid();

    ASSERT_EQ(std::system(test::required_env("CAREMATCH_TEST_PG_RESTART").c_str()), 0);

    int after = backend_pid();  // the pooled connection is dead: the pool must reconnect and run again
    EXPECT_NE(before, after);
    EXPECT_GE(p.stats().reconnects, 1u);
}

}  // namespace
}  // namespace carematch::db
