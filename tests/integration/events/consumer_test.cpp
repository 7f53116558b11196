// The event consumer against the real PostgreSQL and Redis: each event's effect once, also when a consumer
// dies in the middle of a batch; repeats skipped; a failing event retried, then dead-lettered.
#include "support/run_coro.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/redis/commands.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

namespace carematch::events {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class consumer_test : public ::testing::Test {
  protected:
    consumer_test() {
        db::migrate(
            test::db_url(),
            schema,
            {{1, "effects", "CREATE TABLE effects (event_id uuid NOT NULL, at timestamptz DEFAULT now())"}});
    }
    ~consumer_test() override {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
        std::vector<std::string> del{"DEL", stream};
        (void)test::run_coro(io, redis.command(std::move(del)));
    }

    // Publishes `n` events the way the outbox relay does; returns their ids.
    std::vector<std::string> publish(int n, const std::string& type = "order.created") {
        std::vector<std::string> ids;
        for (int k = 0; k < n; ++k) {
            ids.push_back(core::new_uuid());
            redis::field_list fields{{"id", ids.back()},
                                     {"type", type},
                                     {"payload", "{\"n\":" + std::to_string(k) + "}"},
                                     {"occurred_at", "2026-11-28T08:00:00.000Z"}};
            EXPECT_TRUE(test::run_coro(io, redis::xadd(redis, stream, std::move(fields))));
        }
        return ids;
    }
    long long scalar(const std::string& sql) {
        return test::run_coro(
            io, pool.transact([&](pqxx::work& tx) { return tx.exec(sql)[0][0].as<long long>(); }));
    }
    long long pending() {
        std::vector<std::string> args{"XPENDING", stream, group};
        auto r = test::run_coro(io, redis.command(std::move(args)));
        EXPECT_TRUE(r && !r->is_error());
        return r && !r->elements.empty() ? r->elements[0].integer : -1;
    }
    consumer_settings settings(const std::string& name) {
        consumer_settings s;
        s.group = group;
        s.consumer = name;
        s.streams = {stream};
        s.block = 50ms;
        s.claim_idle = 0ms;  // in these tests every other consumer is dead: claim at once
        s.claim_every = 0ms;
        return s;
    }
    static void record(pqxx::work& tx, const event& e) {
        tx.exec_params("INSERT INTO effects (event_id) VALUES ($1::uuid)", e.id);
    }

    std::string schema = test::unique_schema("events");
    std::string stream = "test:{events}:" + core::random_hex(6);
    std::string group = "matching";
    asio::io_context io;
    db::pool pool{core::db_settings{test::db_url(), 2, 5000ms, schema}};
    redis::client redis{io, test::redis_settings()};
};

TEST_F(consumer_test, a_consumer_killed_mid_batch_leaves_every_effect_exactly_once_to_the_next) {
    const int n = 600;
    publish(n);
    const std::string db_url = test::db_url();
    const std::string redis_url = test::required_env("CAREMATCH_TEST_REDIS_URL");
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl(CAREMATCH_TEST_CONSUMER_BIN,
              "carematch-test-consumer",
              db_url.c_str(),
              redis_url.c_str(),
              schema.c_str(),
              stream.c_str(),
              group.c_str(),
              "doomed",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    // Killed while it holds a read batch: it committed two reads (one transaction each) and stops inside the
    // third, whose last entry is the stream's 150th; the greatest pending entry says it has read that far.
    std::vector<std::string> first_150{"XRANGE", stream, "-", "+", "COUNT", "150"};
    const auto entries = test::run_coro(io, redis.command(std::move(first_150)));
    ASSERT_TRUE(entries && entries->elements.size() == 150u);
    const std::string third_read_ends = entries->elements.back().elements.at(0).str;
    auto greatest_pending = [&] {
        std::vector<std::string> args{"XPENDING", stream, group};
        auto r = test::run_coro(io, redis.command(std::move(args)));
        return r && r->elements.size() > 2 ? r->elements[2].str : std::string();
    };
    while ((scalar("SELECT count(*) FROM effects") < 100 || greatest_pending() != third_read_ends) &&
           std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "the consumer process ended on its own";
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    const long long at_kill = scalar("SELECT count(*) FROM effects");
    EXPECT_EQ(at_kill, 100);   // two reads committed; nothing of the third
    EXPECT_EQ(pending(), 50);  // its read but unacknowledged batch

    consumer next(io, pool, test::redis_settings(), schema, settings("heir"), &consumer_test::record);
    for (int pass = 0; pass < 200 && (scalar("SELECT count(*) FROM inbox") < n || pending() > 0); ++pass) {
        test::run_coro(io, next.run_once());
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), n);
    EXPECT_EQ(scalar("SELECT count(DISTINCT event_id) FROM effects"), n);
    EXPECT_EQ(scalar("SELECT count(*) FROM inbox"), n);
    EXPECT_EQ(pending(), 0);
    // What the dead consumer had committed but not acknowledged came back as repeats, and was skipped.
    EXPECT_EQ(static_cast<long long>(next.stats().handled), n - at_kill);
}

TEST_F(consumer_test, a_repeated_event_is_acknowledged_and_changes_nothing) {
    const auto ids = publish(3);
    consumer c(io, pool, test::redis_settings(), schema, settings("one"), &consumer_test::record);
    EXPECT_EQ(test::run_coro(io, c.run_once()), 3u);
    // The same event published again (a relay that repeated itself).
    redis::field_list again{
        {"id", ids[1]}, {"type", "order.created"}, {"payload", "{}"}, {"occurred_at", ""}};
    ASSERT_TRUE(test::run_coro(io, redis::xadd(redis, stream, std::move(again))));
    EXPECT_EQ(test::run_coro(io, c.run_once()), 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), 3);
    EXPECT_EQ(c.stats().duplicates, 1u);
    EXPECT_EQ(pending(), 0);
    test::run_coro(io, c.measure_lag());
    EXPECT_EQ(c.lag().at(stream), 0);
}

TEST_F(consumer_test, an_event_twice_in_one_read_is_handled_once_and_an_upper_case_id_is_handled) {
    auto ids = publish(2);
    std::string upper = core::new_uuid();
    for (auto& ch : upper) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    for (const auto& id : {ids[0], upper}) {
        redis::field_list fields{
            {"id", id}, {"type", "order.created"}, {"payload", "{}"}, {"occurred_at", ""}};
        ASSERT_TRUE(test::run_coro(io, redis::xadd(redis, stream, std::move(fields))));
    }
    consumer c(io, pool, test::redis_settings(), schema, settings("one"), &consumer_test::record);
    EXPECT_EQ(test::run_coro(io, c.run_once()), 4u);  // all acknowledged
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), 3);
    EXPECT_EQ(scalar("SELECT count(DISTINCT event_id) FROM effects"), 3);
    EXPECT_EQ(c.stats().handled, 3u);
    EXPECT_EQ(c.stats().duplicates, 1u);
    EXPECT_EQ(pending(), 0);
}

TEST_F(consumer_test,
       a_read_handler_gets_the_fresh_events_of_a_read_in_order_and_a_throw_falls_back_to_one_by_one) {
    const auto first = publish(3);
    consumer c(io, pool, test::redis_settings(), schema, settings("one"), &consumer_test::record);
    std::vector<std::string> seen;
    bool refuse = false;
    c.set_read_handler([&](pqxx::work& tx, const std::vector<const event*>& es) {
        if (refuse) {
            throw std::runtime_error("the read handler refuses");
        }
        for (const auto* e : es) {
            seen.push_back(e->id);
            record(tx, *e);
        }
    });
    EXPECT_EQ(test::run_coro(io, c.run_once()), 3u);
    EXPECT_EQ(seen, first);
    // The next read: two new events and a repeat, and a read handler that throws: the per-event handler
    // handles the new ones, and the repeat changes nothing.
    refuse = true;
    const auto more = publish(2);
    redis::field_list again{
        {"id", first[0]}, {"type", "order.created"}, {"payload", "{}"}, {"occurred_at", ""}};
    ASSERT_TRUE(test::run_coro(io, redis::xadd(redis, stream, std::move(again))));
    EXPECT_EQ(test::run_coro(io, c.run_once()), 3u);
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), 5);
    EXPECT_EQ(scalar("SELECT count(DISTINCT event_id) FROM effects"), 5);
    EXPECT_EQ(c.stats().handled, 5u);
    EXPECT_EQ(c.stats().duplicates, 1u);
    EXPECT_EQ(pending(), 0);
}

TEST_F(consumer_test, events_of_types_the_service_does_not_act_on_are_acknowledged_without_an_inbox_row) {
    publish(3, "order.created");
    const auto done = publish(1, "order.completed");
    auto s = settings("one");
    s.types = {"order.completed"};
    consumer c(io, pool, test::redis_settings(), schema, s, &consumer_test::record);
    EXPECT_EQ(test::run_coro(io, c.run_once()), 4u);
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM effects WHERE event_id = '" + done[0] + "'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM inbox"), 1);
    EXPECT_EQ(c.stats().ignored, 3u);
    EXPECT_EQ(c.stats().handled, 1u);
    EXPECT_EQ(pending(), 0);
}

TEST_F(consumer_test, the_entries_of_one_read_are_handled_in_one_transaction) {
    publish(50);
    consumer c(io, pool, test::redis_settings(), schema, settings("one"), &consumer_test::record);
    const auto before = pool.stats().transactions;
    EXPECT_EQ(test::run_coro(io, c.run_once()), 50u);
    EXPECT_EQ(pool.stats().transactions - before, 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), 50);
    EXPECT_EQ(scalar("SELECT count(*) FROM inbox"), 50);
    EXPECT_EQ(c.stats().handled, 50u);
    EXPECT_EQ(pending(), 0);
}

TEST_F(consumer_test, a_failing_event_is_retried_then_dead_lettered_without_blocking_the_others) {
    publish(2, "order.created");
    const auto poison = publish(1, "order.poison");
    publish(2, "order.created");
    auto s = settings("one");
    s.max_failures = 3;
    int poison_tries = 0;
    consumer c(io, pool, test::redis_settings(), schema, s, [&](pqxx::work& tx, const event& e) {
        if (e.type == "order.poison") {
            ++poison_tries;
            tx.exec_params("INSERT INTO effects (event_id) VALUES ($1::uuid)", e.id);  // rolled back
            throw std::runtime_error("cannot handle this");
        }
        record(tx, e);
    });
    for (int pass = 0; pass < 20 && c.stats().dead_lettered == 0; ++pass) {
        test::run_coro(io, c.run_once());
    }
    // Three recorded failures, and one more try: the first read tries its five entries in one transaction
    // before it takes them one by one.
    EXPECT_EQ(poison_tries, 4);
    EXPECT_EQ(c.stats().dead_lettered, 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), 4);  // the others, and nothing of the poison
    EXPECT_EQ(scalar("SELECT count(*) FROM event_failures WHERE dead AND failures = 3 AND event_id = '" +
                     poison[0] + "'"),
              1);
    EXPECT_EQ(pending(), 0);
}

TEST_F(consumer_test, a_malformed_entry_is_dead_lettered_and_acknowledged) {
    redis::field_list junk{{"what", "no id"}};
    ASSERT_TRUE(test::run_coro(io, redis::xadd(redis, stream, std::move(junk))));
    publish(1);
    consumer c(io, pool, test::redis_settings(), schema, settings("one"), &consumer_test::record);
    EXPECT_EQ(test::run_coro(io, c.run_once()), 2u);
    EXPECT_EQ(c.stats().dead_lettered, 1u);
    EXPECT_EQ(scalar("SELECT count(*) FROM effects"), 1);
    EXPECT_EQ(pending(), 0);
}

}  // namespace
}  // namespace carematch::events
