// The outbox: a committed event is published once; a rolled-back one never.
#include "support/run_coro.hpp"

#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace carematch::db {
namespace {

namespace asio = boost::asio;

class outbox_test : public ::testing::Test {
  protected:
    outbox_test() { migrate(test::db_url(), schema, {}); }
    ~outbox_test() override {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }
    std::vector<redis::reply> stream_entries() {
        std::vector<std::string> args{"XRANGE", stream, "-", "+"};
        auto r = test::run_coro(io, redis.command(std::move(args)));
        EXPECT_TRUE(r);
        return r ? r->elements : std::vector<redis::reply>{};
    }

    std::string schema = test::unique_schema("outbox");
    std::string stream = "test:" + core::random_hex(6) + ":order";
    asio::io_context io;
    pool db{core::db_settings{test::db_url(), 2, std::chrono::milliseconds(5000), {}}};
    redis::client redis{io, test::redis_settings()};
};

TEST_F(outbox_test, committed_event_is_published_once_rolled_back_never) {
    std::string committed = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        return enqueue_event(tx, schema, stream, "order.created", R"({"order_id":"o-1"})");
    }));
    EXPECT_THROW(test::run_coro(io, db.transact([&](pqxx::work& tx) {
                     enqueue_event(tx, schema, stream, "order.created", R"({"order_id":"o-2"})");
                     throw std::runtime_error("the order write failed");
                 })),
                 std::runtime_error);

    outbox_relay relay(db, redis, schema);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 1u);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 0u);

    auto entries = stream_entries();
    ASSERT_EQ(entries.size(), 1u);
    const auto& fields = entries[0].elements[1].elements;
    std::map<std::string, std::string> m;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        m[fields[i].str] = fields[i + 1].str;
    }
    EXPECT_EQ(m["id"], committed);
    EXPECT_EQ(m["type"], "order.created");
    EXPECT_EQ(m["payload"], R"({"order_id": "o-1"})");  // jsonb's canonical text
    EXPECT_FALSE(m["occurred_at"].empty());

    long long unpublished = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        return tx.exec("SELECT count(*) FROM " + schema + ".outbox WHERE published_at IS NULL")[0][0]
            .as<long long>();
    }));
    EXPECT_EQ(unpublished, 0);
}

// A relay asleep between polls is woken by a commit of this process that enqueued an event for its schema:
// with a poll of a minute, the event is in the stream at once.
TEST_F(outbox_test, a_commit_wakes_the_sleeping_relay_of_its_schema) {
    relay_settings slow;
    slow.poll_interval = std::chrono::minutes(1);
    outbox_relay relay(db, redis, schema, slow);
    std::size_t seen = 0;
    auto scenario = [&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        asio::co_spawn(ex, relay.run(), asio::detached);
        asio::steady_timer pause(ex);
        // Lets the relay's first pass find nothing and go to sleep (were it slower, the event would be found
        // by that pass: the test cannot pass wrongly, only less sharply); then an event commits.
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::use_awaitable);
        co_await db.transact([&](pqxx::work& tx) {
            enqueue_event(tx, schema, stream, "order.created", R"({"order_id":"o-9"})");
        });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            std::vector<std::string> args{"XLEN", stream};
            auto r = co_await redis.command(std::move(args));
            seen = r ? static_cast<std::size_t>(r->integer) : 0;
            if (seen > 0) {
                break;
            }
            pause.expires_after(std::chrono::milliseconds(10));
            co_await pause.async_wait(asio::use_awaitable);
        }
        relay.stop();
        // Wake it once more so that its loop sees stop() instead of sleeping out its minute.
        co_await db.transact([&](pqxx::work& tx) {
            enqueue_event(tx, schema, stream, "order.created", R"({"order_id":"o-10"})");
        });
    };
    test::run_coro(io, scenario());
    EXPECT_EQ(seen, 1u);
}

TEST_F(outbox_test, events_are_published_in_commit_order_across_batches) {
    for (int i = 0; i < 5; ++i) {
        test::run_coro(io, db.transact([&](pqxx::work& tx) {
            enqueue_event(tx, schema, stream, "n", "{\"n\":" + std::to_string(i) + "}");
        }));
    }
    relay_settings small;
    small.batch = 2;
    outbox_relay relay(db, redis, schema, small);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 2u);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 2u);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 1u);
    auto entries = stream_entries();
    ASSERT_EQ(entries.size(), 5u);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(entries[i].elements[1].elements[5].str, "{\"n\": " + std::to_string(i) + "}");
    }
}

TEST_F(outbox_test, a_relay_that_died_mid_batch_is_taken_over_without_repeats) {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(test::run_coro(io, db.transact([&](pqxx::work& tx) {
            return enqueue_event(tx, schema, stream, "order.created", "{\"n\":" + std::to_string(i) + "}");
        })));
    }
    // The dead relay: it claimed all three and gave them entry ids, published the first two under those ids,
    // and died before marking.
    auto given = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        std::vector<std::string> out;
        for (const auto& r : tx.exec("UPDATE " + schema +
                                     ".outbox SET claimed_until = now() + interval '1 hour',"
                                     " stream_id = '1700000000000-' || id RETURNING stream_id")) {
            out.push_back(r[0].as<std::string>());
        }
        return out;
    }));
    ASSERT_EQ(given.size(), 3u);
    std::sort(given.begin(), given.end());
    for (int i = 0; i < 2; ++i) {
        redis::field_list f{{"id", ids[i]}, {"type", "order.created"}};
        ASSERT_TRUE(*test::run_coro(io, redis::xadd_with_id(redis, stream, given[i], f)));
    }
    outbox_relay relay(db, redis, schema);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 0u);  // its lease is live: nobody else publishes

    test::run_coro(io, db.transact([&](pqxx::work& tx) {
        tx.exec("UPDATE " + schema +
                ".outbox SET claimed_until = now() - interval '1 second'");  // lease over
    }));
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 3u);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 0u);
    auto entries = stream_entries();
    ASSERT_EQ(entries.size(), 3u);  // each event once, in order, under the ids it was given
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(entries[i].elements[0].str, given[i]);
        EXPECT_EQ(entries[i].elements[1].elements[1].str, ids[i]);
    }
}

// A transaction that commits after later ones were published: its event still gets a usable id above
// theirs, and so does every event after it (no fallback to fresh ids, so repeats stay impossible).
TEST_F(outbox_test, an_event_committed_out_of_order_gets_an_id_above_those_published_before_it) {
    pqxx::connection slow_conn(test::db_url());
    pqxx::work slow(slow_conn);
    const std::string late = enqueue_event(slow, schema, stream, "order.created", R"({"n":"late"})");
    const std::string early = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        return enqueue_event(tx, schema, stream, "order.created", R"({"n":"early"})");
    }));
    outbox_relay relay(db, redis, schema);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 1u);  // the late one is not committed yet
    slow.commit();
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 1u);
    for (int i = 0; i < 20; ++i) {
        test::run_coro(io, db.transact([&](pqxx::work& tx) {
            enqueue_event(tx, schema, stream, "n", "{\"n\":" + std::to_string(i) + "}");
        }));
    }
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 20u);
    auto entries = stream_entries();
    ASSERT_EQ(entries.size(), 22u);
    EXPECT_EQ(entries[0].elements[1].elements[1].str, early);
    EXPECT_EQ(entries[1].elements[1].elements[1].str, late);
    // Every event sits under the id it was given at its claim: none needed a fresh one.
    auto given = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        std::map<std::string, std::string> out;
        for (const auto& r : tx.exec("SELECT event_id::text, stream_id FROM " + schema + ".outbox")) {
            out[r[0].as<std::string>()] = r[1].as<std::string>();
        }
        return out;
    }));
    for (const auto& e : entries) {
        EXPECT_EQ(given[e.elements[1].elements[1].str], e.elements[0].str);
    }
}

TEST_F(outbox_test, foreign_entries_in_the_stream_never_swallow_an_event) {
    // Another database's relay wrote this stream first, at this outbox's future ids and beyond.
    redis::field_list foreign{{"id", "someone-else"}, {"type", "order.created"}};
    ASSERT_TRUE(*test::run_coro(io, redis::xadd_with_id(redis, stream, "1-0", foreign)));
    ASSERT_TRUE(*test::run_coro(io, redis::xadd_with_id(redis, stream, "99999999999999-0", foreign)));
    std::string mine = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        return enqueue_event(tx, schema, stream, "order.created", R"({"n":1})");
    }));
    outbox_relay relay(db, redis, schema);
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 1u);
    // The next event fits above the foreign entries at once: the fresh id moved the stream's last id.
    std::string next = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        return enqueue_event(tx, schema, stream, "order.created", R"({"n":2})");
    }));
    EXPECT_EQ(test::run_coro(io, relay.run_once()), 1u);
    int found = 0;
    std::string next_entry;
    for (const auto& e : stream_entries()) {
        const auto& kv = e.elements[1].elements;
        found += kv.size() >= 2 && kv[1].str == mine ? 1 : 0;
        if (kv.size() >= 2 && kv[1].str == next) {
            next_entry = e.elements[0].str;
        }
    }
    EXPECT_EQ(found, 1);
    const std::string given = test::run_coro(io, db.transact([&](pqxx::work& tx) {
        return tx
            .exec_params1("SELECT stream_id FROM " + schema + ".outbox WHERE event_id = $1::uuid", next)[0]
            .as<std::string>();
    }));
    EXPECT_EQ(next_entry, given);
}

TEST_F(outbox_test, malformed_payload_is_refused_in_the_transaction) {
    EXPECT_THROW(test::run_coro(io, db.transact([&](pqxx::work& tx) {
                     enqueue_event(tx, schema, stream, "bad", "{not json");
                 })),
                 pqxx::sql_error);
}

}  // namespace
}  // namespace carematch::db
