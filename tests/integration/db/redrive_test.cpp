// Redis is a transport, not the record: after Redis restarts empty, the relay publishes again what the
// streams lost, each event once. Runs alone (RUN_SERIAL): it restarts the shared Redis.
#include "support/run_coro.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

namespace carematch::db {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(outbox_redrive, after_redis_restarts_empty_under_load_every_event_is_in_its_stream_exactly_once) {
    const std::string schema = test::unique_schema("redrive");
    const std::string stream = "test:{redrive}:" + core::random_hex(6);
    migrate(test::db_url(), schema, {{1, "effects", "CREATE TABLE effects (event_id uuid NOT NULL)"}});
    asio::io_context io;
    pool db(core::db_settings{test::db_url(), 4, 5000ms, {}});
    redis::client redis(io, test::redis_settings());
    relay_settings fast;
    fast.poll_interval = 20ms;
    fast.redrive_interval = 100ms;
    outbox_relay relay(db, redis, schema, fast);
    auto enqueue = [&](int n) -> asio::awaitable<void> {
        for (int i = 0; i < n; ++i) {
            co_await db.transact([&](pqxx::work& tx) {
                enqueue_event(tx, schema, stream, "order.created", "{\"n\":" + std::to_string(i) + "}");
            });
        }
    };
    auto scalar = [&](const std::string& sql) {
        return test::run_coro(
            io, db.transact([&](pqxx::work& tx) { return tx.exec(sql)[0][0].as<long long>(); }));
    };
    // A reader of the stream, to show that its effects stay exactly once across the loss.
    events::consumer_settings cs;
    cs.group = "reader";
    cs.consumer = "reader-1";
    cs.streams = {stream};
    cs.block = 20ms;
    cs.claim_every = 0ms;
    pool reader_db(core::db_settings{test::db_url(), 2, 5000ms, schema});
    events::consumer reader(
        io, reader_db, test::redis_settings(), schema, cs, [](pqxx::work& tx, const events::event& e) {
            tx.exec_params("INSERT INTO effects (event_id) VALUES ($1::uuid)", e.id);
        });
    // 200 events published (and read) before Redis goes.
    test::run_coro(io, enqueue(200));
    while (test::run_coro(io, relay.run_once()) > 0) {
    }
    ASSERT_EQ(scalar("SELECT count(*) FROM " + schema + ".outbox WHERE published_at IS NOT NULL"), 200);
    while (test::run_coro(io, reader.run_once()) > 0) {
    }
    ASSERT_EQ(scalar("SELECT count(*) FROM " + schema + ".effects"), 200);

    ASSERT_EQ(std::system(test::required_env("CAREMATCH_TEST_REDIS_RESTART").c_str()), 0);  // back empty

    // Under load: 100 more orders' events while the relay runs.
    auto count_entries = [&]() -> asio::awaitable<std::map<std::string, int>> {
        std::map<std::string, int> seen;
        std::vector<std::string> range{"XRANGE", stream, "-", "+"};
        auto r = co_await redis.command(std::move(range));
        if (r && !r->is_error()) {
            for (const auto& e : r->elements) {
                const auto& kv = e.elements[1].elements;
                for (std::size_t k = 0; k + 1 < kv.size(); k += 2) {
                    if (kv[k].str == "id") {
                        ++seen[kv[k + 1].str];
                    }
                }
            }
        }
        co_return seen;
    };
    std::map<std::string, int> seen;
    auto scenario = [&]() -> asio::awaitable<void> {
        asio::co_spawn(co_await asio::this_coro::executor, relay.run(), asio::detached);
        co_await enqueue(100);
        asio::steady_timer poll(co_await asio::this_coro::executor);
        for (int pass = 0; pass < 600; ++pass) {
            seen = co_await count_entries();
            if (seen.size() >= 300) {
                break;
            }
            poll.expires_after(50ms);
            co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        relay.stop();
        poll.expires_after(fast.poll_interval * 3);  // lets the relay's loop see stop() and end
        co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    };
    test::run_coro(io, scenario());

    EXPECT_EQ(seen.size(), 300u);
    for (const auto& [id, n] : seen) {
        EXPECT_EQ(n, 1) << id;
    }
    EXPECT_EQ(test::run_coro(io, relay.redrive_once()), 0u);  // nothing lost any more

    // The reader's group went with Redis: it makes it again and reads the re-driven stream from the start;
    // its inbox skips the 200 it had handled.
    for (int pass = 0; pass < 50 && scalar("SELECT count(*) FROM " + schema + ".inbox") < 300; ++pass) {
        try {
            test::run_coro(io, reader.run_once());
        } catch (const core::unavailable_error&) {
            // the first pass finds the group gone
        }
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM " + schema + ".effects"), 300);
    EXPECT_EQ(scalar("SELECT count(DISTINCT event_id) FROM " + schema + ".effects"), 300);
    pqxx::connection c(test::db_url());
    pqxx::work tx(c);
    tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    tx.commit();
    std::vector<std::string> del{"DEL", stream};
    (void)test::run_coro(io, redis.command(std::move(del)));
}

}  // namespace
}  // namespace carematch::db
