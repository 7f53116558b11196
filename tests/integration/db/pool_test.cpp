// The pool against the real PostgreSQL: concurrency without blocking the io thread, and retries.
#include "support/run_coro.hpp"

#include <carematch/db/pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>

namespace carematch::db {
namespace {

namespace asio = boost::asio;

core::db_settings settings(int size) {
    core::db_settings s;
    s.url = test::db_url();
    s.pool_size = size;
    s.queue_limit = 10'000;  // these tests queue on purpose; shedding has its own test
    s.acquire_timeout = std::chrono::seconds(60);
    return s;
}

TEST(pool, two_hundred_concurrent_queries_through_eight_connections_keep_the_io_thread_free) {
    asio::io_context io;  // one io thread: the test's
    pool p(settings(8));
    std::atomic<int> completed{0};
    int max_in_use_seen_by_io_thread = 0;
    int ticks = 0;

    auto scenario = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        for (int i = 0; i < 200; ++i) {
            asio::co_spawn(
                ex,
                [&, i]() -> asio::awaitable<void> {
                    int v = co_await p.transact([i](pqxx::work& tx) {
                        return tx.exec_params1("SELECT $1::int + 0 FROM pg_sleep(0.02)", i)[0].as<int>();
                    });
                    EXPECT_EQ(v, i);
                    ++completed;
                },
                asio::detached);
        }
        // While queries run on the pool's threads, this loop keeps running on the io thread.
        asio::steady_timer t(ex);
        while (completed < 200) {
            max_in_use_seen_by_io_thread = std::max(max_in_use_seen_by_io_thread, p.stats().in_use);
            ++ticks;
            t.expires_after(std::chrono::milliseconds(2));
            co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    };
    test::run_coro(io, scenario());
    EXPECT_EQ(completed, 200);
    // The io thread ran its loop while all eight connections were busy: it never waited on PostgreSQL.
    EXPECT_EQ(max_in_use_seen_by_io_thread, 8);
    EXPECT_GT(ticks, 10);
    EXPECT_LE(p.stats().in_use, 8);
}

TEST(pool, serialization_failure_is_retried_without_losing_an_update) {
    asio::io_context io;
    pool p(settings(4));
    const std::string table = test::unique_schema("counter");
    test::run_coro(io, p.transact([&](pqxx::work& tx) {
        tx.exec("CREATE TABLE " + table + " (id int PRIMARY KEY, v int NOT NULL)");
        tx.exec("INSERT INTO " + table + " VALUES (1, 0)");
    }));

    // Both transactions read before either writes (the latch), so the second writer must fail with a
    // serialization failure and run again.
    std::latch both_read(2);
    std::atomic<int> attempts{0};
    auto increment = [&]() -> asio::awaitable<void> {
        co_await p.transact(
            [&](pqxx::work& tx) {
                int attempt = ++attempts;
                int v = tx.exec("SELECT v FROM " + table + " WHERE id = 1")[0][0].as<int>();
                if (attempt <= 2) {
                    both_read.arrive_and_wait();
                }
                tx.exec_params("UPDATE " + table + " SET v = $1 WHERE id = 1", v + 1);
            },
            isolation::repeatable_read);
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        co_await (increment() && increment());
    };
    test::run_coro(io, scenario());
    int v = test::run_coro(io, p.transact([&](pqxx::work& tx) {
        return tx.exec("SELECT v FROM " + table + " WHERE id = 1")[0][0].as<int>();
    }));
    EXPECT_EQ(v, 2);
    EXPECT_EQ(attempts, 3);
    EXPECT_EQ(p.stats().retries, 1u);
    test::run_coro(io, p.transact([&](pqxx::work& tx) { tx.exec("DROP TABLE " + table); }));
}

TEST(pool, retries_exhausted_by_serialization_failures_are_overload_and_write_nothing) {
    asio::io_context io;
    pool p(settings(2));
    const std::string table = test::unique_schema("exhausted");
    test::run_coro(io, p.transact([&](pqxx::work& tx) { tx.exec("CREATE TABLE " + table + " (v int)"); }));
    // Nine forced serialization failures: more than the pool tries, so the caller is told the database is too
    // busy (503 with Retry-After at the door), never a success and never a 500.
    std::atomic<int> attempts{0};
    EXPECT_THROW(test::run_coro(io, p.transact([&](pqxx::work& tx) {
                     tx.exec("INSERT INTO " + table + " VALUES (1)");
                     if (++attempts <= 9) {
                         tx.exec("DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '40001'; END $$");
                     }
                     return 1;
                 })),
                 core::overloaded_error);
    EXPECT_GE(attempts.load(), 2);
    EXPECT_LE(attempts.load(), 9);
    int n = test::run_coro(io, p.transact([&](pqxx::work& tx) {
        return tx.exec("SELECT count(*) FROM " + table)[0][0].as<int>();
    }));
    EXPECT_EQ(n, 0);
    test::run_coro(io, p.transact([&](pqxx::work& tx) { tx.exec("DROP TABLE " + table); }));
}

TEST(pool, exception_in_the_body_rolls_back_and_propagates) {
    asio::io_context io;
    pool p(settings(2));
    const std::string table = test::unique_schema("rollback");
    test::run_coro(io, p.transact([&](pqxx::work& tx) { tx.exec("CREATE TABLE " + table + " (v int)"); }));
    EXPECT_THROW(test::run_coro(io, p.transact([&](pqxx::work& tx) {
                     tx.exec("INSERT INTO " + table + " VALUES (1)");
                     throw std::logic_error("changed my mind");
                 })),
                 std::logic_error);
    EXPECT_THROW(test::run_coro(io, p.transact([&](pqxx::work& tx) { tx.exec("SELEC nonsense"); })),
                 pqxx::sql_error);
    int n = test::run_coro(io, p.transact([&](pqxx::work& tx) {
        return tx.exec("SELECT count(*) FROM " + table)[0][0].as<int>();
    }));
    EXPECT_EQ(n, 0);
    EXPECT_EQ(p.stats().retries, 0u);
    test::run_coro(io, p.transact([&](pqxx::work& tx) { tx.exec("DROP TABLE " + table); }));
}

TEST(pool, unique_violation_is_a_conflict) {
    asio::io_context io;
    pool p(settings(1));
    bool conflict = test::run_coro(io, p.transact([](pqxx::work& tx) {
        tx.exec("CREATE TEMP TABLE t (k int PRIMARY KEY)");
        tx.exec("INSERT INTO t VALUES (1)");
        try {
            pqxx::subtransaction sub(tx, "dup");
            sub.exec("INSERT INTO t VALUES (1)");
        } catch (const pqxx::sql_error& e) {
            return is_conflict(e);
        }
        return false;
    }));
    EXPECT_TRUE(conflict);
}

TEST(pool, a_savepoint_rolls_back_parameterised_statements_and_the_transaction_goes_on) {
    asio::io_context io;
    pool p(settings(1));
    auto rows = test::run_coro(io, p.transact([](pqxx::work& tx) {
        tx.exec("CREATE TEMP TABLE t (k int PRIMARY KEY)");
        {
            savepoint sub(tx, "first");
            sub.exec_params("INSERT INTO t VALUES ($1)", 1);
            sub.abort();  // undone
        }
        try {
            savepoint sub(tx, "second");
            sub.exec_params("INSERT INTO t VALUES ($1)", 2);
            sub.exec_params("INSERT INTO t VALUES ($1)", 2);  // fails: the savepoint takes both back
        } catch (const pqxx::unique_violation&) {
        }
        tx.exec_params("INSERT INTO t VALUES ($1)", 1);  // the transaction is still usable
        return tx.exec("SELECT count(*) FROM t")[0][0].as<int>();
    }));
    EXPECT_EQ(rows, 1);
}

TEST(pool, overload_is_refused_at_once_not_queued) {
    asio::io_context io;
    core::db_settings s = settings(1);
    s.queue_limit = 2;
    s.acquire_timeout = std::chrono::seconds(60);
    pool p(s);
    std::atomic<int> ran{0};
    std::atomic<int> refused{0};
    auto one = [&]() -> asio::awaitable<void> {
        try {
            co_await p.transact([&](pqxx::work& tx) {
                ++ran;
                tx.exec("SELECT pg_sleep(0.2)");
            });
        } catch (const core::overloaded_error&) {
            ++refused;
        }
    };
    auto rest = [&]() -> asio::awaitable<void> {
        while (p.stats().in_use == 0) {  // the first has its connection
            co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        }
        using namespace asio::experimental::awaitable_operators;
        co_await (one() && one() && one() && one());
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        // One runs, two wait (the limit), two more are refused at once.
        co_await (one() && rest());
    };
    test::run_coro(io, scenario());
    EXPECT_EQ(refused.load(), 2);
    EXPECT_EQ(ran.load(), 3);
    EXPECT_EQ(p.stats().shed, 2u);
}

TEST(pool, a_transaction_that_waited_past_the_acquire_timeout_is_not_started) {
    asio::io_context io;
    core::db_settings s = settings(1);
    s.acquire_timeout = std::chrono::milliseconds(50);
    pool p(s);
    std::atomic<bool> second_ran{false};
    bool second_refused = false;
    auto first = [&]() -> asio::awaitable<void> {
        co_await p.transact([](pqxx::work& tx) { tx.exec("SELECT pg_sleep(0.3)"); });
    };
    auto second = [&]() -> asio::awaitable<void> {
        try {
            co_await p.transact([&](pqxx::work&) { second_ran = true; });
        } catch (const core::overloaded_error&) {
            second_refused = true;
        }
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        co_await (first() && second());
    };
    test::run_coro(io, scenario());
    EXPECT_TRUE(second_refused);
    EXPECT_FALSE(second_ran.load());
}

TEST(pool, a_statement_timeout_is_overload_not_an_internal_error) {
    asio::io_context io;
    pool p(settings(1));
    EXPECT_THROW(test::run_coro(io, p.transact([](pqxx::work& tx) {
                     tx.exec("SET LOCAL statement_timeout = 20");
                     tx.exec("SELECT pg_sleep(2)");
                 })),
                 core::overloaded_error);
    // The connection is clean again for the next transaction.
    EXPECT_EQ(
        test::run_coro(io, p.transact([](pqxx::work& tx) { return tx.exec("SELECT 7")[0][0].as<int>(); })),
        7);
}

TEST(pool, a_lock_timeout_is_overload_not_an_internal_error) {
    asio::io_context io;
    pool p(settings(1));
    const std::string table = test::unique_schema("locked");
    test::run_coro(io, p.transact([&](pqxx::work& tx) {
        tx.exec("CREATE TABLE " + table + " (v int)");
        tx.exec("INSERT INTO " + table + " VALUES (1)");
    }));
    // Another session holds the row's lock while the pool's transaction asks for it.
    pqxx::connection holder(test::db_url());
    pqxx::work held(holder);
    held.exec("SELECT v FROM " + table + " FOR UPDATE");
    EXPECT_THROW(test::run_coro(io, p.transact([&](pqxx::work& tx) {
                     tx.exec("SET LOCAL lock_timeout = 20");
                     tx.exec("UPDATE " + table + " SET v = 2");
                 })),
                 core::overloaded_error);
    held.abort();
    test::run_coro(io, p.transact([&](pqxx::work& tx) { tx.exec("DROP TABLE " + table); }));
}

TEST(pool, transactions_standing_in_line_show_as_queue_delay_and_a_quiet_pool_shows_none) {
    asio::io_context io;
    pool p(settings(1));
    EXPECT_EQ(p.queue_delay(), std::chrono::steady_clock::duration::zero());
    // One connection, eight transactions of 30 ms each at once: every one but the first waits, for at least
    // 30 ms, through more than one 100 ms interval, so the least wait of a whole interval is over 20 ms.
    auto one = [&]() -> asio::awaitable<void> {
        co_await p.transact([](pqxx::work& tx) { tx.exec("SELECT pg_sleep(0.03)"); });
    };
    std::chrono::steady_clock::duration seen{};
    auto watch = [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (p.stats().transactions < 8 || p.stats().in_use > 0) {
            seen = std::max(seen, p.queue_delay());
            t.expires_after(std::chrono::milliseconds(5));
            co_await t.async_wait(asio::use_awaitable);
        }
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        co_await ((one() && one() && one() && one() && one() && one() && one() && one()) && watch());
    };
    test::run_coro(io, scenario());
    EXPECT_GT(seen, std::chrono::milliseconds(20));
}

TEST(pool, unreachable_database_fails_fast_at_check) {
    core::db_settings s;
    s.url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2";
    s.pool_size = 1;
    pool p(s);
    EXPECT_THROW(p.check(), core::unavailable_error);
}

}  // namespace
}  // namespace carematch::db
