// Group commit against the real PostgreSQL: writes that arrive while a group runs share the next commit, each
// resumes only after it, and a failed group fails each of its writes and commits none.
#include "support/run_coro.hpp"

#include <carematch/db/group_commit.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <set>

namespace carematch::db {
namespace {

namespace asio = boost::asio;

core::db_settings settings() {
    core::db_settings s;
    s.url = test::db_url();
    s.pool_size = 4;
    s.queue_limit = 10'000;
    s.acquire_timeout = std::chrono::seconds(60);
    return s;
}

struct write : group_commit::entry {
    int id = 0;
    std::string txid;  // the transaction that wrote it
};

class group_commit_test : public ::testing::Test {
  protected:
    group_commit_test() {
        test::run_coro(io, p.transact([&](pqxx::work& tx) {
            tx.exec("CREATE TABLE " + table + " (id int PRIMARY KEY, txid text NOT NULL)");
        }));
    }
    ~group_commit_test() override {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP TABLE IF EXISTS " + table);
        tx.commit();
    }

    // Writes the group's rows in one statement; the group holding `hold_id` waits for `held` first (the
    // others queue meanwhile), and one holding `poison_id` fails.
    group_commit::batch_fn writer() {
        return [this](pqxx::work& tx, const std::vector<group_commit::entry*>& group) {
            const auto txid = tx.exec("SELECT txid_current()::text")[0][0].as<std::string>();
            std::vector<std::int64_t> ids;
            for (auto* e : group) {
                auto* w = static_cast<write*>(e);
                if (w->id == hold_id) {
                    held.wait();
                }
                if (w->id == poison_id) {
                    throw std::runtime_error("poison");
                }
                w->txid = txid;
                ids.push_back(w->id);
            }
            tx.exec_params("INSERT INTO " + table + " SELECT unnest($1::int[]), $2", int_array(ids), txid);
        };
    }

    long long count() {
        return test::run_coro(io, p.transact([&](pqxx::work& tx) {
            return tx.exec("SELECT count(*) FROM " + table)[0][0].as<long long>();
        }));
    }

    // Submits writes 0 … n−1, each from a coroutine of its own, in that order: write 0's group runs alone and
    // is held until every other write has reached its submit (and those refused at once have been resumed),
    // when `before_release` runs. `resumed` sees each write once its submit returned (failure: what it
    // threw).
    std::vector<write> submit_all(group_commit& g,
                                  int n,
                                  std::function<asio::awaitable<void>(write&, std::exception_ptr)> resumed,
                                  std::function<void()> before_release = {}) {
        std::vector<write> ws(static_cast<std::size_t>(n));
        auto scenario = [&]() -> asio::awaitable<void> {
            auto ex = co_await asio::this_coro::executor;
            std::atomic<int> done{0};
            for (int i = 0; i < n; ++i) {
                ws[static_cast<std::size_t>(i)].id = i;
                asio::co_spawn(
                    ex,
                    [&, i]() -> asio::awaitable<void> {
                        auto& w = ws[static_cast<std::size_t>(i)];
                        std::exception_ptr failure;
                        try {
                            co_await g.submit(w);
                        } catch (...) {
                            failure = std::current_exception();
                        }
                        co_await resumed(w, failure);
                        ++done;
                    },
                    asio::detached);
            }
            // The submitters were posted before this: a few turns of the io thread run each up to its submit,
            // and resume those refused at once.
            for (int k = 0; k < 3; ++k) {
                co_await asio::post(ex, asio::use_awaitable);
            }
            if (before_release) {
                before_release();
            }
            held.count_down();
            asio::steady_timer t(ex);
            while (done < n) {
                t.expires_after(std::chrono::milliseconds(2));
                co_await t.async_wait(asio::use_awaitable);
            }
        };
        test::run_coro(io, scenario());
        return ws;
    }

    asio::io_context io;
    pool p{settings()};
    std::string table = test::unique_schema("grouped");
    std::latch held{1};
    int hold_id = 0;
    int poison_id = -1;
};

TEST_F(group_commit_test, writes_arriving_while_a_group_runs_share_the_next_commit_and_resume_after_it) {
    group_commit g(p, writer(), 64, 1);
    std::atomic<int> visible_at_resume{0};
    auto ws = submit_all(g, 51, [&](write& w, std::exception_ptr failure) -> asio::awaitable<void> {
        EXPECT_FALSE(failure);
        // Resumed only after the commit: another transaction sees the row.
        std::function<int(pqxx::work&)> visible = [&](pqxx::work& tx) {
            return tx.exec_params("SELECT count(*) FROM " + table + " WHERE id = $1", w.id)[0][0].as<int>();
        };
        const int n = co_await p.transact(std::move(visible));
        visible_at_resume += n;
    });
    EXPECT_EQ(visible_at_resume.load(), 51);
    EXPECT_EQ(count(), 51);
    std::set<std::string> txids;
    for (std::size_t i = 1; i < ws.size(); ++i) {
        txids.insert(ws[i].txid);
    }
    EXPECT_EQ(txids.size(), 1u) << "the 50 that waited share one transaction";
    EXPECT_NE(*txids.begin(), ws[0].txid);
    EXPECT_EQ(g.stats().groups, 2u);
    EXPECT_EQ(g.stats().entries, 51u);
}

TEST_F(group_commit_test, a_group_is_at_most_max_batch_and_a_failed_group_fails_each_write_and_commits_none) {
    group_commit g(p, writer(), 16, 1);
    poison_id = 7;  // in the second group: writes 1 to 16
    std::vector<int> failed(40, 0);
    submit_all(g, 40, [&](write& w, std::exception_ptr failure) -> asio::awaitable<void> {
        try {
            if (failure) {
                std::rethrow_exception(failure);
            }
        } catch (const std::runtime_error&) {
            failed[static_cast<std::size_t>(w.id)] = 1;
        }
        co_return;
    });
    // Groups: {0}, {1..16} (poisoned), {17..32}, {33..39}.
    EXPECT_EQ(g.stats().groups, 4u);
    for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(failed[static_cast<std::size_t>(i)], i >= 1 && i <= 16 ? 1 : 0) << i;
    }
    EXPECT_EQ(count(), 40 - 16);
}

TEST_F(group_commit_test, writes_beyond_the_queue_limit_are_refused_at_once) {
    core::db_settings s = settings();
    s.queue_limit = 5;
    pool small(s);
    group_commit g(small, writer(), 64, 1);
    std::atomic<int> refused{0};
    auto count_refusal = [&](write&, std::exception_ptr failure) -> asio::awaitable<void> {
        try {
            if (failure) {
                std::rethrow_exception(failure);
            }
        } catch (const core::overloaded_error&) {
            ++refused;
        }
        co_return;
    };
    // Write 0 runs (held), five wait, six are refused at once: before the first group is let go.
    submit_all(g, 12, count_refusal, [&] { EXPECT_EQ(refused.load(), 6); });
    EXPECT_EQ(refused.load(), 6);
    EXPECT_EQ(g.stats().shed, 6u);
    EXPECT_EQ(count(), 6);
}

}  // namespace
}  // namespace carematch::db
