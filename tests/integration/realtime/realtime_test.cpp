// realtime against the real Redis and PostgreSQL, with real WebSocket clients: who receives which event, the
// replay of what a reconnecting client missed, the token's lifetime, and a slow reader dropped without
// hurting the others. Domain events are put on the streams as the services' relays publish them.
#include "support/region_tree.hpp"
#include "support/run_coro.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <carematch/auth/jwt.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/http/router.hpp>
#include <carematch/realtime/app.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <future>
#include <map>

namespace carematch::realtime {
namespace {

namespace json = boost::json;

class realtime_fixture : public ::testing::Test {
  protected:
    realtime_fixture() {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_REALTIME_REALTIME_SCHEMA", schema},
            {"CAREMATCH_REALTIME_REGIONS_FILE", tree.path},
            {"CAREMATCH_REALTIME_COMPLAINTS_STREAM", complaints_stream},
            {"CAREMATCH_REALTIME_CONSUMER_GROUP", "realtime-" + schema},
            {"CAREMATCH_REALTIME_PREFIX", prefix},
            {"CAREMATCH_REALTIME_SEND_QUEUE", "16"},
            {"CAREMATCH_REALTIME_AUTH_TIMEOUT_S", "1"},
        };
        core::config_source src("", "realtime", [env](const std::string& name) -> std::optional<std::string> {
            auto it = env.find(name);
            return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
        cfg = read_config(src);
        src.reject_unknown();
        rt = std::make_unique<app>(io, cfg);
        rt->start();
        rt->add_routes(routes);
        server = std::make_unique<test::test_server>(io, routes.as_handler());
        boost::asio::co_spawn(io, rt->run(), [this](std::exception_ptr) { done.set_value(); });
    }

    // A second realtime process on the same feed: its own listener, the same consumer group and channel.
    struct second_process {
        boost::asio::io_context io{2};
        http::router routes;
        std::unique_ptr<app> rt;
        std::unique_ptr<test::test_server> server;
        std::promise<void> done;
        second_process(const config& cfg) {
            rt = std::make_unique<app>(io, cfg);
            rt->start();
            rt->add_routes(routes);
            server = std::make_unique<test::test_server>(io, routes.as_handler());
            boost::asio::co_spawn(io, rt->run(), [this](std::exception_ptr) { done.set_value(); });
        }
        ~second_process() {
            rt->stop();
            done.get_future().wait_for(std::chrono::seconds(20));
            server.reset();
            rt.reset();
        }
    };

    ~realtime_fixture() override {
        rt->stop();
        done.get_future().wait_for(std::chrono::seconds(20));
        server.reset();
        rt.reset();
        redis_call([&] {
            std::vector<std::string> keys{complaints_stream,
                                          "carematch:{region:" + std::to_string(tree.street) + "}:orders",
                                          "carematch:{region:" + std::to_string(tree.street) + "}:matching",
                                          "carematch:{region:" + std::to_string(tree.street) + "}:nursery"};
            return keys;
        }());
        // The feed's own keys, whatever audiences the test touched.
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> scan{"EVAL",
                                          "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do "
                                          "redis.call('DEL', k) end return 0",
                                          "0",
                                          prefix + ":*"};
            co_await r.command(std::move(scan));
        }());
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }

    void redis_call(std::vector<std::string> keys) {
        keys.insert(keys.begin(), "DEL");
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            co_await r.command(std::move(keys));
        }());
    }

    // An event on a stream as a relay puts it there; returns the event id.
    std::string publish(const std::string& stream,
                        const std::string& type,
                        const json::object& payload,
                        std::string id = core::new_uuid()) {
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> add{"XADD",
                                         stream,
                                         "*",
                                         "id",
                                         id,
                                         "type",
                                         type,
                                         "payload",
                                         json::serialize(payload),
                                         "occurred_at",
                                         "2026-12-04T01:00:00Z"};
            co_await r.command(std::move(add));
        }());
        return id;
    }
    std::string street_stream(const char* what) const {
        return "carematch:{region:" + std::to_string(tree.street) + "}:" + what;
    }

    std::string token(const std::string& id,
                      auth::role role,
                      const std::string& org = "",
                      std::vector<std::int64_t> communities = {},
                      std::chrono::seconds ttl = std::chrono::minutes(15)) {
        auth::caller who;
        who.id = id;
        who.role = role;
        who.org = org;
        who.communities = std::move(communities);
        auth::token_settings s;
        s.access_ttl = ttl;
        return auth::token_issuer(key, s, runtime::wall_clock()).issue(who);
    }

    std::unique_ptr<test::ws_client> connect(const std::string& tok, const std::string& query = "") {
        return std::make_unique<test::ws_client>(
            server->port(), "/v1/ws" + query, "carematch.v1, bearer." + tok);
    }

    // The next frame as JSON (null on silence).
    static json::value next(test::ws_client& ws) {
        auto m = ws.next();
        return m ? json::parse(*m) : json::value();
    }
    static std::string type_of(const json::value& v) {
        return v.is_object() && v.as_object().contains("type") ? std::string(v.at("type").as_string()) : "";
    }

    test::region_tree tree{7100, 7999};
    std::string schema = test::unique_schema("rt");
    std::string prefix = "carematch:rt:" + schema;
    std::string complaints_stream = "carematch:{complaints}:" + schema;
    config cfg;
    auth::signing_key key = auth::generate_signing_key("rt1");
    boost::asio::io_context io{2};
    boost::asio::io_context client_io;
    http::router routes;
    std::unique_ptr<app> rt;
    std::unique_ptr<test::test_server> server;
    std::promise<void> done;
};

// An offer reaches its worker and the worker's organisation with its expiry; the family sees its order move;
// another family receives nothing of it.
TEST_F(realtime_fixture, an_offer_reaches_its_worker_and_the_family_sees_its_order_move) {
    const auto family = core::new_uuid(), other = core::new_uuid(), worker = core::new_uuid();
    const auto org = core::new_uuid(), order = core::new_uuid();
    auto w = connect(token(worker, auth::role::worker, org));
    auto f = connect(token(family, auth::role::family));
    auto o = connect(token(other, auth::role::family));
    auto p = connect(token(core::new_uuid(), auth::role::provider, org));
    ASSERT_TRUE(w->open() && f->open() && o->open() && p->open());
    EXPECT_EQ(w->protocol(), "carematch.v1");
    for (auto* s : {w.get(), f.get(), o.get(), p.get()}) {
        EXPECT_EQ(type_of(next(*s)), "ready");
    }
    publish(street_stream("matching"),
            "order.offered",
            json::object{{"order_id", order},
                         {"offer_id", "of-1"},
                         {"worker_id", worker},
                         {"org_id", org},
                         {"family_id", family},
                         {"kind", "bath"},
                         {"expires_at", "2026-12-04T01:01:00Z"}});
    auto offer = next(*w);
    ASSERT_EQ(type_of(offer), "offer.new") << offer;
    EXPECT_EQ(offer.at("data").at("order_id").as_string(), order);
    EXPECT_EQ(offer.at("data").at("expires_at"), "2026-12-04T01:01:00Z");
    EXPECT_FALSE(offer.at("id").as_string().empty());
    EXPECT_EQ(type_of(next(*p)), "offer.new");  // the provider sees its worker's offer
    auto seen = next(*f);
    ASSERT_EQ(type_of(seen), "order.status");
    EXPECT_EQ(seen.at("data").at("status"), "offered");
    EXPECT_FALSE(seen.at("data").as_object().contains("worker_id"));

    publish(street_stream("matching"),
            "order.assigned",
            json::object{{"order_id", order},
                         {"offer_id", "of-1"},
                         {"worker_id", worker},
                         {"org_id", org},
                         {"family_id", family}});
    EXPECT_EQ(next(*f).at("data").at("status"), "assigned");
    EXPECT_EQ(type_of(next(*w)), "offer.accepted");

    // The worker sets off: the family sees it live, and the worker's job moves.
    publish(street_stream("orders"),
            "order.en_route",
            json::object{{"order_id", order},
                         {"status", "en_route"},
                         {"worker_id", worker},
                         {"org_id", org},
                         {"family_id", family},
                         {"kind", "bath"}});
    EXPECT_EQ(next(*f).at("data").at("status"), "en_route");
    auto job = next(*w);
    ASSERT_EQ(type_of(job), "job.status") << job;
    EXPECT_EQ(job.at("data").at("status"), "en_route");

    // The other family's first frame is its own order's, published after all of the above.
    publish(street_stream("orders"),
            "order.cancelled",
            json::object{{"order_id", core::new_uuid()}, {"status", "cancelled"}, {"family_id", other}});
    auto mine = next(*o);
    ASSERT_EQ(type_of(mine), "order.status");
    EXPECT_EQ(mine.at("data").at("status"), "cancelled");
}

// A crew's job (a bath taken by two workers) reaches both workers and both organisations.
TEST_F(realtime_fixture, a_crew_s_job_reaches_both_of_its_workers) {
    const auto family = core::new_uuid(), lead = core::new_uuid(), second = core::new_uuid();
    const auto org = core::new_uuid(), other_org = core::new_uuid(), order = core::new_uuid();
    auto a = connect(token(lead, auth::role::worker, org));
    auto b = connect(token(second, auth::role::worker, other_org));
    auto p = connect(token(core::new_uuid(), auth::role::provider, other_org));
    ASSERT_TRUE(a->open() && b->open() && p->open());
    for (auto* s : {a.get(), b.get(), p.get()}) {
        EXPECT_EQ(type_of(next(*s)), "ready");
    }
    publish(street_stream("matching"),
            "order.assigned",
            json::object{{"order_id", order},
                         {"offer_id", "of-2"},
                         {"worker_id", lead},
                         {"org_id", org},
                         {"second_worker_id", second},
                         {"second_org_id", other_org},
                         {"family_id", family}});
    EXPECT_EQ(type_of(next(*a)), "offer.accepted");
    auto told = next(*b);
    ASSERT_EQ(type_of(told), "offer.accepted") << told;
    EXPECT_EQ(told.at("data").at("order_id").as_string(), order);
    EXPECT_EQ(type_of(next(*p)), "offer.accepted");
}

// Staff receive the complaints of their communities only; nursery bookings reach the family.
TEST_F(realtime_fixture, staff_receive_their_communities_complaints_and_parents_their_bookings) {
    auto staff = connect(token(core::new_uuid(), auth::role::staff, "", {tree.community}));
    auto elsewhere = connect(token(core::new_uuid(), auth::role::staff, "", {tree.community + 1}));
    const auto parent = core::new_uuid();
    auto f = connect(token(parent, auth::role::family));
    for (auto* s : {staff.get(), elsewhere.get(), f.get()}) {
        ASSERT_EQ(type_of(next(*s)), "ready");
    }
    publish(complaints_stream,
            "complaint.filed",
            json::object{{"ticket_id", "t-1"}, {"community_id", tree.community}, {"severity", "urgent"}});
    publish(complaints_stream,
            "complaint.sla_warning",
            json::object{{"ticket_id", "t-2"}, {"community_id", tree.community + 1}, {"severity", "normal"}});
    auto filed = next(*staff);
    ASSERT_EQ(type_of(filed), "complaint.filed");
    EXPECT_EQ(filed.at("data").at("severity"), "urgent");
    auto warned = next(*elsewhere);
    ASSERT_EQ(type_of(warned), "complaint.sla_warning");  // not t-1 first
    EXPECT_EQ(warned.at("data").at("ticket_id"), "t-2");

    publish(street_stream("nursery"),
            "nursery.booking_confirmed",
            json::object{{"booking_id", "b-1"},
                         {"family_id", parent},
                         {"child_id", core::new_uuid()},
                         {"nursery_id", "n-1"},
                         {"community_id", tree.community},
                         {"days", json::array{"2026-12-07"}}});
    auto booking = next(*f);
    ASSERT_EQ(type_of(booking), "booking.status");
    EXPECT_EQ(booking.at("data").at("event"), "booking_confirmed");
    EXPECT_FALSE(booking.at("data").as_object().contains("child_id"));
}

// A client that reconnects with the last id it saw gets what it missed, in order, once; one whose id is
// unknown or too old is told to refetch.
TEST_F(realtime_fixture, a_reconnect_with_the_last_id_gets_what_was_missed) {
    const auto family = core::new_uuid();
    const auto tok = token(family, auth::role::family);
    auto status = [&](const std::string& s) {
        publish(street_stream("orders"),
                "order.cancelled",
                json::object{{"order_id", core::new_uuid()}, {"status", s}, {"family_id", family}});
    };
    std::string last;
    {
        auto f = connect(tok);
        ASSERT_EQ(type_of(next(*f)), "ready");
        status("one");
        auto first = next(*f);
        ASSERT_EQ(first.at("data").at("status"), "one");
        last = std::string(first.at("id").as_string());
    }
    status("two");
    status("three");
    {
        // The same event twice (a relay's repeat) is pushed once. (Two and three may still be on their way:
        // they were published while nobody was connected, and arrive live or not at all on a fresh socket.)
        auto f = connect(tok);
        ASSERT_EQ(type_of(next(*f)), "ready");
        const json::object four{{"order_id", core::new_uuid()}, {"status", "four"}, {"family_id", family}};
        const auto repeat = publish(street_stream("orders"), "order.cancelled", four);
        publish(street_stream("orders"), "order.cancelled", four, repeat);
        status("five");
        std::vector<std::string> seen;
        while (seen.empty() || seen.back() != "five") {
            auto m = next(*f);
            ASSERT_EQ(type_of(m), "order.status") << m;
            seen.emplace_back(m.at("data").at("status").as_string());
        }
        EXPECT_EQ(std::count(seen.begin(), seen.end(), "four"), 1);
        EXPECT_EQ(std::count(seen.begin(), seen.end(), "one"), 0);
    }
    auto back = connect(tok, "?last_event_id=" + last);
    auto ready = next(*back);
    ASSERT_EQ(type_of(ready), "ready") << ready;
    EXPECT_EQ(ready.at("id").as_string(), last);
    for (const char* s : {"two", "three", "four", "five"}) {
        auto m = next(*back);
        ASSERT_EQ(type_of(m), "order.status") << m;
        EXPECT_EQ(m.at("data").at("status"), s);
    }
    status("six");
    EXPECT_EQ(next(*back).at("data").at("status"), "six");  // and live after the replay, no repeats between

    auto lost = connect(tok, "?last_event_id=1000-1");  // older than the retention window
    EXPECT_EQ(type_of(next(*lost)), "resync");
    auto garbage = connect(tok, "?last_event_id=abc");
    EXPECT_EQ(type_of(next(*garbage)), "resync");
}

// The token: in the protocol list or as the first message; a bad one is refused before the upgrade; none in
// time, or one that expires, closes the socket with 4401 (refresh and reconnect).
TEST_F(realtime_fixture, the_token_decides_who_connects_and_for_how_long) {
    const auto family = core::new_uuid();
    test::ws_client forged(server->port(), "/v1/ws", "carematch.v1, bearer.e30.e30.e30");
    EXPECT_FALSE(forged.open());
    EXPECT_EQ(forged.refused_status(), 401);
    test::ws_client admin(
        server->port(), "/v1/ws", "carematch.v1, bearer." + token(family, auth::role::admin));
    EXPECT_EQ(admin.refused_status(), 403);
    test::ws_client foreign(server->port(), "/v1/ws", "chat, bearer." + token(family, auth::role::family));
    EXPECT_EQ(foreign.refused_status(), 400);
    test::raw_connection plain(server->port());
    plain.send(test::get_request("/v1/ws"));
    EXPECT_EQ(plain.read().result_int(), 426);

    test::ws_client first_message(server->port(), "/v1/ws");
    ASSERT_TRUE(first_message.open());
    first_message.send(
        json::serialize(json::object{{"type", "auth"}, {"token", token(family, auth::role::family)}}));
    EXPECT_EQ(type_of(next(first_message)), "ready");

    test::ws_client silent(server->port(), "/v1/ws");
    ASSERT_TRUE(silent.open());
    EXPECT_EQ(silent.closed(), 4401);  // auth_timeout_s = 1

    auto brief = connect(token(family, auth::role::family, "", {}, std::chrono::seconds(1)));
    ASSERT_EQ(type_of(next(*brief)), "ready");
    EXPECT_EQ(brief->closed(), 4401);
}

// One account holds at most max_sockets_per_user live sockets in a process (10 by default): one more is
// closed with 4429 and a clear reason, while another account connects as before.
TEST_F(realtime_fixture, one_account_s_live_sockets_are_capped) {
    const auto family = core::new_uuid();
    const auto tok = token(family, auth::role::family);
    std::vector<std::unique_ptr<test::ws_client>> held;
    for (std::size_t i = 0; i < cfg.max_sockets_per_user; ++i) {
        held.push_back(connect(tok));
        ASSERT_EQ(type_of(next(*held.back())), "ready") << i;
    }
    auto one_more = connect(tok);
    ASSERT_TRUE(one_more->open());  // upgraded, then closed with the reason
    EXPECT_EQ(one_more->closed(), 4429);
    auto someone_else = connect(token(core::new_uuid(), auth::role::family));
    EXPECT_EQ(type_of(next(*someone_else)), "ready");
    for (const auto& h : held) {
        EXPECT_TRUE(h->open());  // the ones held are untouched
    }
}

// Two realtime processes share the work: whichever fans an event out, a family connected to either receives
// it; no sticky routing.
TEST_F(realtime_fixture, any_process_serves_any_user) {
    second_process other(cfg);
    const auto a = core::new_uuid(), b = core::new_uuid();
    auto on_first = connect(token(a, auth::role::family));
    auto on_second = std::make_unique<test::ws_client>(
        other.server->port(), "/v1/ws", "carematch.v1, bearer." + token(b, auth::role::family));
    ASSERT_EQ(type_of(next(*on_first)), "ready");
    ASSERT_EQ(type_of(next(*on_second)), "ready");
    for (int i = 0; i < 10; ++i) {  // the two consumers split these between them
        for (const auto& family : {a, b}) {
            publish(
                street_stream("orders"),
                "order.cancelled",
                json::object{{"order_id", core::new_uuid()}, {"status", "cancelled"}, {"family_id", family}});
        }
    }
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(type_of(next(*on_first)), "order.status") << i;
        EXPECT_EQ(type_of(next(*on_second)), "order.status") << i;
    }
}

// A client that does not keep up is closed (1013) once its queue is full; another user is served meanwhile.
TEST_F(realtime_fixture, a_slow_reader_is_closed_without_hurting_the_others) {
    const auto slow_user = core::new_uuid(), other = core::new_uuid();
    auto slow = connect(token(slow_user, auth::role::family));
    auto fine = connect(token(other, auth::role::family));
    ASSERT_EQ(type_of(next(*fine)), "ready");
    // A burst far beyond the queue (16) and the socket buffers, straight onto the live channel.
    const std::string big(64 * 1024, 'x');
    test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
        redis::client r(client_io, test::redis_settings());
        for (int i = 1; i <= 300; ++i) {
            std::vector<std::string> pub{
                "PUBLISH",
                prefix + ":live",
                "u:" + slow_user + "\n9000000000000-" + std::to_string(i) + "\n" +
                    json::serialize(
                        json::object{{"type", "order.status"}, {"data", json::object{{"pad", big}}}})};
            co_await r.command(std::move(pub));
        }
    }());
    publish(street_stream("orders"),
            "order.cancelled",
            json::object{{"order_id", core::new_uuid()}, {"status", "cancelled"}, {"family_id", other}});
    auto served = next(*fine);
    EXPECT_EQ(type_of(served), "order.status");
    auto code = slow->closed(std::chrono::seconds(20));
    ASSERT_TRUE(code.has_value()) << "the slow reader was never closed";
    EXPECT_TRUE(*code == 1013 || *code == 0) << *code;
    EXPECT_LT(slow->pending(), 300u);
}

}  // namespace
}  // namespace carematch::realtime
