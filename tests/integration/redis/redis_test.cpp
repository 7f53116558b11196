// Redis over hiredis+Asio against the real server: commands, streams in consumer groups, claiming a dead
// consumer's entries, GEO and pub/sub.
#include "support/run_coro.hpp"

#include <carematch/redis/client.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

namespace carematch::redis {
namespace {

namespace asio = boost::asio;

class redis_test : public ::testing::Test {
  protected:
    std::string key(const std::string& what) { return "test:" + core::random_hex(6) + ":" + what; }
    asio::io_context io;
    client c{io, test::redis_settings()};
};

TEST_F(redis_test, command_round_trip_and_error_reply) {
    auto k = key("s");
    auto set = test::run_coro(io, c.command({"SET", k, "value with spaces\r\n"}));
    ASSERT_TRUE(set);
    EXPECT_EQ(set->str, "OK");
    auto get = test::run_coro(io, c.command({"GET", k}));
    ASSERT_TRUE(get);
    EXPECT_EQ(get->str, "value with spaces\r\n");
    auto err = test::run_coro(io, c.command({"INCR", k}));
    ASSERT_TRUE(err);
    EXPECT_TRUE(err->is_error());
    auto missing = test::run_coro(io, c.command({"GET", key("missing")}));
    ASSERT_TRUE(missing);
    EXPECT_TRUE(missing->is_nil());
    EXPECT_EQ(c.connects(), 1u);
}

TEST_F(redis_test, many_concurrent_commands_complete_in_order) {
    auto k = key("counter");
    auto all = [&]() -> asio::awaitable<std::vector<long long>> {
        std::vector<long long> seen;
        for (int i = 0; i < 200; ++i) {
            std::vector<std::string> incr{"INCR", k};
            auto r = co_await c.command(std::move(incr));
            seen.push_back(r ? r->integer : -1);
        }
        co_return seen;
    };
    auto seen = test::run_coro(io, all());
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(seen[i], i + 1);
    }
}

TEST_F(redis_test, stream_round_trip_in_a_consumer_group) {
    auto stream = key("events");
    ASSERT_TRUE(test::run_coro(io, ensure_group(c, stream, "matching")));
    ASSERT_TRUE(test::run_coro(io, ensure_group(c, stream, "matching")));  // existing group is fine
    auto id = test::run_coro(io, xadd(c, stream, {{"type", "order.created"}, {"payload", "{\"id\":1}"}}));
    ASSERT_TRUE(id);
    auto got = test::run_coro(io, xreadgroup(c, "matching", "worker-a", stream, 10, -1));
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].id, *id);
    EXPECT_EQ((*got)[0].field("type"), "order.created");
    EXPECT_EQ((*got)[0].field("payload"), "{\"id\":1}");
    auto none = test::run_coro(io, xreadgroup(c, "matching", "worker-b", stream, 10, -1));
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    auto acked = test::run_coro(io, xack(c, stream, "matching", {*id}));
    ASSERT_TRUE(acked);
    EXPECT_EQ(*acked, 1);
    auto pending = test::run_coro(io, xreadgroup(c, "matching", "worker-a", stream, 10, -1, "0"));
    ASSERT_TRUE(pending);
    EXPECT_TRUE(pending->empty());
}

TEST_F(redis_test, entry_left_by_a_dead_consumer_is_claimed_by_another) {
    auto stream = key("events");
    ASSERT_TRUE(test::run_coro(io, ensure_group(c, stream, "g")));
    auto id = test::run_coro(io, xadd(c, stream, {{"n", "1"}}));
    ASSERT_TRUE(id);
    {
        // The dead consumer reads with a connection of its own and never acknowledges.
        asio::io_context dead_io;
        client dead(dead_io, test::redis_settings());
        auto got = test::run_coro(dead_io, xreadgroup(dead, "g", "dead", stream, 10, -1));
        ASSERT_TRUE(got);
        ASSERT_EQ(got->size(), 1u);
    }
    // Not idle long enough: nothing moves.
    auto early = test::run_coro(io, xautoclaim(c, stream, "g", "alive", 60'000));
    ASSERT_TRUE(early);
    EXPECT_TRUE(early->entries.empty());
    auto claimed = test::run_coro(io, xautoclaim(c, stream, "g", "alive", 0));
    ASSERT_TRUE(claimed);
    ASSERT_EQ(claimed->entries.size(), 1u);
    EXPECT_EQ(claimed->entries[0].id, *id);
    EXPECT_EQ(claimed->entries[0].field("n"), "1");
    // Now it is pending for "alive", which acknowledges it.
    auto mine = test::run_coro(io, xreadgroup(c, "g", "alive", stream, 10, -1, "0"));
    ASSERT_TRUE(mine);
    ASSERT_EQ(mine->size(), 1u);
    EXPECT_EQ(*test::run_coro(io, xack(c, stream, "g", {*id})), 1);
}

TEST_F(redis_test, blocking_read_returns_when_an_entry_arrives) {
    auto stream = key("events");
    ASSERT_TRUE(test::run_coro(io, ensure_group(c, stream, "g", "$")));
    client reader(io, test::redis_settings());
    auto both = [&]() -> asio::awaitable<std::vector<stream_entry>> {
        using namespace asio::experimental::awaitable_operators;
        // The blocking read (on its own connection) and the write run concurrently.
        auto read = xreadgroup(reader, "g", "r", stream, 1, 10'000);
        field_list fields{{"k", "v"}};
        auto add = xadd(c, stream, std::move(fields));
        auto [got, added] = co_await (std::move(read) && std::move(add));
        EXPECT_TRUE(added);
        co_return got ? *got : std::vector<stream_entry>{};
    };
    auto got = test::run_coro(io, both());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].field("k"), "v");
}

TEST_F(redis_test, geo_search_returns_nearest_first) {
    auto k = key("workers:bath");
    // Around Beijing's Dongcheng district.
    ASSERT_TRUE(test::run_coro(io, geoadd(c, k, 116.4160, 39.9280, "near")));
    ASSERT_TRUE(test::run_coro(io, geoadd(c, k, 116.4300, 39.9350, "farther")));
    ASSERT_TRUE(test::run_coro(io, geoadd(c, k, 117.2000, 39.1300, "tianjin")));
    auto hits = test::run_coro(io, geosearch(c, k, 116.4150, 39.9275, 5'000, 10));
    ASSERT_TRUE(hits);
    ASSERT_EQ(hits->size(), 2u);
    EXPECT_EQ((*hits)[0].member, "near");
    EXPECT_EQ((*hits)[1].member, "farther");
    EXPECT_LT((*hits)[0].distance_m, (*hits)[1].distance_m);
    ASSERT_TRUE(test::run_coro(io, georemove(c, k, "near")));
    EXPECT_EQ(test::run_coro(io, geosearch(c, k, 116.4150, 39.9275, 5'000, 10))->size(), 1u);
}

TEST_F(redis_test, pub_sub_delivers_messages_in_order) {
    auto channel = key("offers");
    subscriber sub(io, test::redis_settings());
    ASSERT_TRUE(test::run_coro(io, sub.subscribe(channel)));
    for (const char* m : {"first", "second"}) {
        auto n = test::run_coro(io, publish(c, channel, m));
        ASSERT_TRUE(n);
        EXPECT_EQ(*n, 1);
    }
    EXPECT_EQ(test::run_coro(io, sub.next()).payload, "first");
    auto second = test::run_coro(io, sub.next());
    EXPECT_EQ(second.payload, "second");
    EXPECT_EQ(second.channel, channel);
}

TEST(redis_unreachable, command_fails_with_unavailable) {
    asio::io_context io;
    core::redis_settings nowhere{"127.0.0.1", 1};
    client c(
        io,
        nowhere,
        client_settings{
            std::chrono::milliseconds(300), std::chrono::milliseconds(10), std::chrono::milliseconds(50)});
    auto r = test::run_coro(io, c.command({"PING"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), core::errc::unavailable);
}

// A Redis that accepts and then says nothing (stopped, or wedged): the command fails when its reply is late,
// instead of waiting for ever.
TEST(redis_reply_timeout, a_command_without_a_reply_fails_after_the_reply_timeout) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    boost::asio::ip::tcp::socket accepted(io);
    silent.async_accept(accepted, [](const boost::system::error_code&) {});  // reads nothing, answers nothing
    core::redis_settings where{"127.0.0.1", silent.local_endpoint().port()};
    client_settings s;
    s.connect_timeout = std::chrono::milliseconds(100);
    s.reply_timeout = std::chrono::milliseconds(100);
    client c(io, where, s);
    std::vector<std::string> ping{"PING"};
    auto r = test::run_coro(io, c.command(std::move(ping)));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(core::errc::unavailable));
}

}  // namespace
}  // namespace carematch::redis
