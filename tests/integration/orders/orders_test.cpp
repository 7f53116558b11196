// orders against the real PostgreSQL and Redis, with identity beside it on one listener (as in all-in-one):
// quotes, idempotent placement, the lifecycle with fencing, the service code, object-level access, events.
#include "integration/identity/identity_fixture.hpp"
#include "support/send_at_once.hpp"

#include <carematch/db/outbox.hpp>
#include <carematch/observability/metrics.hpp>
#include <carematch/orders/app.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <map>
#include <random>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

namespace carematch::orders {
namespace {

namespace json = boost::json;

class orders_fixture : public identity::test_support::identity_fixture {
  protected:
    orders_fixture() {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            // Bursts of hundreds at once: these tests are about contention, not shedding (its own test).
            {"CAREMATCH_DB_QUEUE_LIMIT", "100000"},
            {"CAREMATCH_ORDERS_ORDERS_CREW_FROM_LEVEL", "2"},  // crews on (off by default): their own test
            {"CAREMATCH_DB_ACQUIRE_TIMEOUT_MS", "600000"},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_ORDERS_ORDERS_SCHEMA", orders_schema},
            {"CAREMATCH_ORDERS_IDENTITY_STREAM", identity_stream},
            {"CAREMATCH_ORDERS_CONSUMER_GROUP", "orders-" + orders_schema},
            {"CAREMATCH_ORDERS_CATALOG_FILE", std::string(CAREMATCH_SOURCE_DIR) + "/config/catalog.json"},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_AUTH_DATA_KEY", cfg.auth.data_key},  // identity's: the sealed address travels
        };
        core::config_source src("", "orders", [env](const std::string& name) -> std::optional<std::string> {
            auto it = env.find(name);
            return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
        auto cfg = read_config(src);
        src.reject_unknown();
        orders = std::make_unique<app>(io, cfg);
        orders->start();
        orders->add_routes(routes);  // before any request: the server reads the router only per request
        orders->set_peer("identity", {"127.0.0.1", server->port()});
    }
    ~orders_fixture() override {
        server.reset();  // stop the io threads before the app goes
        orders.reset();
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + orders_schema + " CASCADE");
        tx.commit();
    }

    void orders_exec(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + orders_schema);
        tx.exec(sql);
        tx.commit();
    }

    // Publishes identity's recipient events (its relay, as in service) and hands them to orders (at least
    // `at_least`).
    void seen_by_orders(std::size_t at_least) {
        redis::client r(client_io, test::redis_settings());
        db::outbox_relay relay(application->pool(), r, schema);
        while (test::run_coro(client_io, relay.run_once()) > 0) {
        }
        std::size_t n = 0;
        for (int i = 0; i < 40 && n < at_least; ++i) {
            n += test::run_coro(client_io, orders->consume_once());
        }
        ASSERT_GE(n, at_least) << "identity's recipient events did not reach orders";
    }

    long long orders_scalar(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + orders_schema);
        return tx.exec(sql)[0][0].as<long long>();
    }

    // The identity fixture's elder with mild disability: a bath takes one worker (crews have their own test).
    static json::object elder(std::int64_t community = 110101001) {
        auto body = identity_fixture::elder(community);
        body["ability_level"] = 1;
        return body;
    }

    // A family with one elder; returns {session, recipient id}.
    std::pair<session, std::string> family_with_elder(const std::string& phone, json::object elder_body) {
        auto s = new_family(phone);
        auto r = call("POST", "/v1/recipients", elder_body, s.access);
        EXPECT_EQ(r.status, 201) << r.raw.body;
        return {s, std::string(r.body.at("id").as_string())};
    }

    // POST /v1/orders as `s` (with `key` unless empty) for `recipient`.
    static http::outgoing order_request(const session& s,
                                        const std::string& recipient,
                                        const std::string& key,
                                        const std::string& kind = "bath",
                                        const std::string& sub = "home_bath") {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/orders";
        o.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + s.access}};
        if (!key.empty()) {
            o.headers.emplace_back("Idempotency-Key", key);
        }
        o.body =
            json::serialize(json::object{{"recipient_id", recipient}, {"kind", kind}, {"sub_type", sub}});
        return o;
    }

    identity::test_support::reply place(const session& s,
                                        const std::string& recipient,
                                        const std::string& key,
                                        const std::string& kind = "bath",
                                        const std::string& sub = "home_bath") {
        auto res = test::run_coro(
            client_io, client.send("127.0.0.1", server->port(), order_request(s, recipient, key, kind, sub)));
        identity::test_support::reply r;
        r.status = res->status;
        r.raw = *res;
        boost::system::error_code ec;
        r.body = json::parse(res->body, ec);
        return r;
    }

    // Sends `requests` all at once, from a client that waits as long as a busy machine needs; the answers in
    // the same order.
    std::vector<http::response> send_at_once(const std::vector<http::outgoing>& requests) {
        return test::send_at_once(client_io, server->port(), requests);
    }

    std::string service_token() {
        core::system_clock clock;
        return auth::token_issuer(key, {}, clock).issue_service("matching");
    }

    std::string orders_schema = test::unique_schema("orders");
    std::unique_ptr<app> orders;
};

TEST_F(orders_fixture, quote_applies_the_subsidy_of_the_elders_category) {
    struct row {
        json::array categories;
        const char* birth_date;
        std::int64_t family_fen;
    };
    const row table[] = {
        {json::array{}, "1956-01-01", 12000},
        {json::array{"extreme_poverty"}, "1956-01-01", 0},
        {json::array{"minimum_allowance"}, "1956-01-01", 6000},
        {json::array{}, "1940-01-01", 8400},  // over 80 by birth date
    };
    int n = 0;
    for (const auto& r : table) {
        auto body = elder();
        body["priority_categories"] = r.categories;
        body["birth_date"] = r.birth_date;
        auto [s, rid] = family_with_elder("1370000030" + std::to_string(n++), body);
        auto q = call("POST",
                      "/v1/orders/quote",
                      json::object{{"recipient_id", rid}, {"kind", "bath"}, {"sub_type", "home_bath"}},
                      s.access);
        ASSERT_EQ(q.status, 200) << q.raw.body;
        EXPECT_EQ(q.body.at("price_fen").as_int64(), 12000);
        EXPECT_EQ(q.body.at("family_fen").as_int64(), r.family_fen) << json::serialize(r.categories);
    }
    auto [s, rid] = family_with_elder("13700000399", elder());
    auto other = new_family("13700000398");
    EXPECT_EQ(call("POST",
                   "/v1/orders/quote",
                   json::object{{"recipient_id", rid}, {"kind", "bath"}, {"sub_type", "home_bath"}},
                   other.access)
                  .status,
              422);  // another family's elder
    EXPECT_EQ(call("POST",
                   "/v1/orders/quote",
                   json::object{{"recipient_id", rid}, {"kind", "bath"}, {"sub_type", "sauna"}},
                   s.access)
                  .body.at("field")
                  .as_string(),
              "sub_type");
}

TEST_F(orders_fixture, placing_is_idempotent_per_caller_and_key) {
    auto [s, rid] = family_with_elder("13700000401", elder());
    EXPECT_EQ(place(s, rid, "").status, 400);

    // 200 concurrent identical requests with one key.
    const auto answers = send_at_once(std::vector<http::outgoing>(200, order_request(s, rid, "k-200")));
    std::set<std::string> created_bodies;
    int created = 0;
    for (const auto& a : answers) {
        ASSERT_TRUE(a.status == 201 || a.status == 409) << a.status << " " << a.body;
        if (a.status == 201) {
            ++created;
            created_bodies.insert(a.body);
        }
    }
    EXPECT_GE(created, 1);
    EXPECT_EQ(created_bodies.size(), 1u);  // every 201 is the same answer, byte for byte
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM orders"), 1);
    auto replay = place(s, rid, "k-200");
    EXPECT_EQ(replay.status, 201);
    EXPECT_EQ(replay.raw.body, *created_bodies.begin());
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM outbox WHERE event_type = 'order.created'"), 1);

    // Same key, another body → 422; the same key from another family is its own key.
    EXPECT_EQ(place(s, rid, "k-200", "cleaning", "standard").status, 422);
    auto [other, other_rid] = family_with_elder("13700000402", elder());
    auto theirs = place(other, other_rid, "k-200");
    EXPECT_EQ(theirs.status, 201);
    EXPECT_NE(theirs.body.at("id"), replay.body.at("id"));

    // A first request still running → 409.
    orders_exec(
        "INSERT INTO idempotency_keys (caller_id, key, request_hash, state) SELECT caller_id, 'k-running',"
        " request_hash, 'in_progress' FROM idempotency_keys WHERE key = 'k-200' AND caller_id = '" +
        s.user_id + "'");
    EXPECT_EQ(place(s, rid, "k-running").status, 409);
}

// Group commit: orders arriving together share transactions, and each is answered as if placed alone: the
// fresh ones created once each, a key given twice in the burst created once and replayed, another family's
// elder refused (that refusal stored for its key like any answer), a kind the catalog lacks refused.
TEST_F(orders_fixture, orders_placed_at_once_share_commits_and_each_gets_the_answer_it_would_alone) {
    auto [s, rid] = family_with_elder("13700000411", elder());
    auto [other, other_rid] = family_with_elder("13700000412", elder());
    seen_by_orders(2);
    // An elder orders has not seen yet: placed alone, with identity's answer.
    auto [late, late_rid] = family_with_elder("13700000413", elder());
    struct ask {
        const session* who;
        std::string recipient;
        std::string key;
        std::string kind = "bath";
    };
    std::vector<ask> burst;
    for (int i = 0; i < 40; ++i) {
        burst.push_back({&s, rid, "g-" + std::to_string(i)});
    }
    for (int i = 0; i < 10; ++i) {
        burst.push_back({&s, rid, "g-" + std::to_string(i)});  // the same key and body again
    }
    for (int i = 0; i < 5; ++i) {
        burst.push_back({&s, other_rid, "theirs-" + std::to_string(i)});
    }
    burst.push_back({&s, rid, "no-kind", "haircut"});
    for (int i = 0; i < 3; ++i) {
        burst.push_back({&late, late_rid, "late-" + std::to_string(i)});
    }
    std::vector<http::outgoing> requests;
    for (const auto& a : burst) {
        requests.push_back(order_request(*a.who, a.recipient, a.key, a.kind));
    }
    const auto answers = send_at_once(requests);
    std::map<std::string, std::string> by_key;
    for (std::size_t i = 0; i < burst.size(); ++i) {
        const auto& a = answers[i];
        if (i < 50 || i >= 56) {
            ASSERT_EQ(a.status, 201) << a.body;
            auto [it, fresh] = by_key.emplace(burst[i].key, a.body);
            EXPECT_EQ(it->second, a.body) << "the repeat of " << burst[i].key << " is the first answer";
        } else {
            EXPECT_EQ(a.status, 422) << a.body;
        }
    }
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM orders"), 43);
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM order_history WHERE to_status = 'created'"), 43);
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM outbox WHERE event_type = 'order.created'"), 43);
    EXPECT_EQ(orders_scalar("SELECT count(DISTINCT payload->>'order_id') FROM outbox"), 43);
    // Fewer transactions than orders: they shared commits.
    EXPECT_LT(orders_scalar("SELECT count(DISTINCT xmin::text) FROM orders WHERE recipient_id::text = '" +
                            rid + "'"),
              40);
    // And the gauges say so: more orders than groups.
    observability::metrics gauges;
    orders->add_gauges(gauges);
    const std::string text = gauges.render();
    auto gauge = [&](const std::string& name) {
        const auto at = text.find("\n" + name + "{service=\"orders\"} ");
        EXPECT_NE(at, std::string::npos) << name;
        return at == std::string::npos ? 0.0 : std::stod(text.substr(text.find("} ", at) + 2));
    };
    EXPECT_GT(gauge("carematch_orders_intake_grouped_total"), gauge("carematch_orders_intake_groups_total"));
    // Every answer was stored with its key: each replays byte for byte, in one transaction.
    for (const auto& [key, body] : by_key) {
        const bool theirs = key.starts_with("late-");
        auto again = place(theirs ? late : s, theirs ? late_rid : rid, key);
        EXPECT_EQ(again.status, 201);
        EXPECT_EQ(again.raw.body, body);
        EXPECT_EQ(again.raw.header("Idempotent-Replayed").value_or(""), "true");
    }
    auto refused = place(s, other_rid, "theirs-0");
    EXPECT_EQ(refused.status, 422);
    EXPECT_EQ(refused.raw.header("Idempotent-Replayed").value_or(""), "true");
}

// The holes a newcomer and an attacker found: windows years ahead or outside a meal's hours, control
// characters in notes, a key given twice, integers in queries read leniently. Each is refused and nothing is
// written.
TEST_F(orders_fixture, odd_windows_texts_keys_and_query_integers_are_refused_and_write_nothing) {
    auto [s, rid] = family_with_elder("13700000501", elder());
    auto send = [&](const std::string& body) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/orders";
        o.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + s.access},
                     {"Idempotency-Key", core::new_uuid()}};
        o.body = body;
        return *test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
    };
    auto local_day = [](int days_ahead, const char* hhmm) {
        // A local (UTC+8) time `days_ahead` days from now, as ISO 8601 with its offset.
        const auto t =
            std::chrono::system_clock::now() + std::chrono::hours(24 * days_ahead) + std::chrono::hours(8);
        const std::time_t tt = std::chrono::system_clock::to_time_t(t);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char buf[40];
        std::snprintf(buf,
                      sizeof buf,
                      "%04d-%02d-%02dT%s:00+08:00",
                      tm.tm_year + 1900,
                      tm.tm_mon + 1,
                      tm.tm_mday,
                      hhmm);
        return std::string(buf);
    };
    auto body = [&](const std::string& kind,
                    const std::string& sub,
                    const std::string& start,
                    const std::string& end) {
        return json::serialize(json::object{
            {"recipient_id", rid}, {"kind", kind}, {"sub_type", sub}, {"start", start}, {"end", end}});
    };
    struct row {
        std::string body;
        int status;
        const char* field;
    };
    const std::vector<row> table{
        {body("bath", "home_bath", "9999-01-01T09:00:00+08:00", "9999-01-01T11:00:00+08:00"), 422, "start"},
        {body("bath", "home_bath", "2100-01-01T09:00:00+08:00", "2100-01-01T11:00:00+08:00"), 422, "start"},
        {body("bath", "home_bath", local_day(400, "09:00"), local_day(400, "11:00")), 422, "start"},
        {body("meal", "lunch", local_day(2, "03:00"), local_day(2, "03:30")), 422, "start"},
        {body("meal", "dinner", local_day(2, "11:00"), local_day(2, "11:30")), 422, "start"},
        {json::serialize(json::object{{"recipient_id", rid},
                                      {"kind", "bath"},
                                      {"sub_type", "home_bath"},
                                      {"notes", std::string("门铃\0坏了", 13)}}),
         422,
         "notes"},
        {R"({"recipient_id":")" + rid + R"(","kind":"bath","sub_type":"home_bath","kind":"meal"})",
         400,
         "kind"},
    };
    for (const auto& r : table) {
        auto res = send(r.body);
        EXPECT_EQ(res.status, r.status) << r.body << " → " << res.body;
        boost::system::error_code ec;
        auto v = json::parse(res.body, ec);
        ASSERT_FALSE(ec) << res.body;
        EXPECT_EQ(v.at("field").as_string(), r.field) << res.body;
    }
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM orders"), 0);
    // A lunch inside its hours, two days ahead, is fine.
    EXPECT_EQ(send(body("meal", "lunch", local_day(2, "11:30"), local_day(2, "12:00"))).status, 201);

    core::system_clock sys;
    auth::caller staff;
    staff.id = core::new_uuid();
    staff.role = auth::role::staff;
    staff.communities = {110101001};
    const auto token = auth::token_issuer(key, {}, sys).issue(staff);
    for (const char* q : {"110101001abc", "110101001%20OR%201=1", "1.1e8", ""}) {
        auto r = call("GET", std::string("/v1/orders?community_id=") + q, std::nullopt, token);
        EXPECT_EQ(r.status, 400) << q << " → " << r.raw.body;
    }
    EXPECT_EQ(call("GET", "/v1/orders?community_id=110101001", std::nullopt, token).status, 200);
}

// An elder without a smartphone orders by phone through community staff: staff of the elder's community place
// the order with a reason; the order is the family's, and the family sees who placed it.
// What the body alone decides is answered before the Idempotency-Key is claimed: a bad body costs no
// transaction, and its key stays free for the corrected request.
TEST_F(orders_fixture, a_bad_body_costs_no_transaction_and_leaves_its_key_free) {
    auto [s, rid] = family_with_elder("13700000451", elder());
    seen_by_orders(1);
    const std::string key = core::new_uuid();
    auto send = [&](const std::string& body) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/orders";
        o.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + s.access},
                     {"Idempotency-Key", key}};
        o.body = body;
        return test::run_coro(client_io, client.send("127.0.0.1", server->port(), o))->status;
    };
    const auto before = orders->pool().stats().transactions;
    EXPECT_EQ(send("{\"recipient_id\": "), 400);  // not JSON
    EXPECT_EQ(send(json::serialize(json::object{{"recipient_id", rid},
                                                {"kind", "bath"},
                                                {"sub_type", "home_bath"},
                                                {"start", "2030-01-01T10:00:00+08:00"}})),
              422);  // a start without an end
    EXPECT_EQ(send(json::serialize(json::object{{"recipient_id", rid},
                                                {"kind", "bath"},
                                                {"sub_type", "home_bath"},
                                                {"notes", std::string(501, 'x')}})),
              422);
    EXPECT_EQ(orders->pool().stats().transactions, before);
    // The key was never taken. A good order is one transaction in orders: key, order, history, event and the
    // stored answer together; its replay is one more (reading the key), and changes nothing.
    EXPECT_EQ(place(s, rid, key).status, 201);
    EXPECT_EQ(orders->pool().stats().transactions, before + 1);
    auto replay = place(s, rid, key);
    EXPECT_EQ(replay.status, 201);
    EXPECT_EQ(replay.raw.header("Idempotent-Replayed").value_or(""), "true");
    EXPECT_EQ(orders->pool().stats().transactions, before + 2);
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM orders"), 1);
}

// Orders keeps the elders identity publishes (recipient.saved) and places their orders without calling
// identity; an elder it has not seen yet is read from identity; a change and a deletion reach it too.
TEST_F(orders_fixture,
       orders_places_from_the_elders_identity_published_and_asks_identity_only_for_unseen_ones) {
    auto [s, rid] = family_with_elder("13700000461", elder());
    auto reads = [&] {
        return scalar("SELECT count(*) FROM audit_log WHERE object_id = '" + rid + "' AND purpose = 'order'");
    };
    // Not seen yet: the order reads identity (audited there as a read for an order).
    ASSERT_EQ(place(s, rid, core::new_uuid()).status, 201);
    EXPECT_EQ(reads(), 1);
    // Seen: no call to identity; the hand-over itself is in identity's audit.
    seen_by_orders(1);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE object_id = '" + rid +
                     "' AND action = 'handover:orders'"),
              1);
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM recipients_seen WHERE facts ? 'name'"),
              0);  // no names kept
    auto placed = place(s, rid, core::new_uuid());
    ASSERT_EQ(placed.status, 201) << placed.raw.body;
    EXPECT_EQ(reads(), 1);
    EXPECT_EQ(placed.body.at("address").as_string(), "安定门东大街 12 号 3 单元 401");
    // A change reaches orders: the subsidy follows the new priority categories.
    const auto before = placed.body.at("price").at("subsidy_fen").as_int64();
    ASSERT_EQ(call("PATCH",
                   "/v1/recipients/" + rid,
                   json::object{{"priority_categories", json::array{"extreme_poverty"}}},
                   s.access)
                  .status,
              200);
    seen_by_orders(1);
    auto after = place(s, rid, core::new_uuid());
    ASSERT_EQ(after.status, 201);
    EXPECT_GT(after.body.at("price").at("subsidy_fen").as_int64(), before);
    EXPECT_EQ(reads(), 1);
    // Deleted: gone from orders, and identity says there is no such elder.
    ASSERT_EQ(call("DELETE", "/v1/recipients/" + rid, std::nullopt, s.access).status, 204);
    seen_by_orders(1);
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM recipients_seen WHERE recipient_id = '" + rid + "'"), 0);
    auto gone = place(s, rid, core::new_uuid());
    EXPECT_EQ(gone.status, 422);
    EXPECT_EQ(gone.body.at("field").as_string(), "recipient_id");
}

TEST_F(orders_fixture, staff_order_for_an_elder_of_their_community_with_a_reason) {
    auto [family, rid] = family_with_elder("13700000601", elder());
    core::system_clock sys;
    auto staff_of = [&](std::int64_t community) {
        auth::caller staff;
        staff.id = core::new_uuid();
        staff.role = auth::role::staff;
        staff.communities = {community};
        return auth::token_issuer(key, {}, sys).issue(staff);
    };
    auto order_as = [&](const std::string& token, std::optional<std::string> reason) {
        json::object body{{"recipient_id", rid}, {"kind", "bath"}, {"sub_type", "home_bath"}};
        if (reason) {
            body["reason"] = *reason;
        }
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/orders";
        o.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + token},
                     {"Idempotency-Key", core::new_uuid()}};
        o.body = json::serialize(body);
        return *test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
    };
    EXPECT_EQ(order_as(staff_of(110101001), std::nullopt).status, 422);             // staff say why
    EXPECT_EQ(order_as(staff_of(110101002), std::string("电话下单")).status, 422);  // not their elder
    EXPECT_EQ(order_as(family.access, std::string("电话下单")).status, 422);        // families need no reason
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM orders"), 0);
    auto placed = order_as(staff_of(110101001), std::string("老人来电，要求明天上午助浴"));
    ASSERT_EQ(placed.status, 201) << placed.body;
    const std::string id(json::parse(placed.body).at("id").as_string());
    auto seen = call("GET", "/v1/orders/" + id, std::nullopt, family.access);
    ASSERT_EQ(seen.status, 200);  // the family's order
    const auto& created = seen.body.at("history").as_array()[0];
    EXPECT_EQ(created.at("actor_role").as_string(), "staff");
    EXPECT_EQ(created.at("reason").as_string(), "老人来电，要求明天上午助浴");
}

TEST_F(orders_fixture, the_lifecycle_refuses_illegal_moves_and_stale_actors) {
    auto [s, rid] = family_with_elder("13700000501", elder());
    auto placed = place(s, rid, "k1");
    ASSERT_EQ(placed.status, 201) << placed.raw.body;
    const std::string id(placed.body.at("id").as_string());
    const std::string code(placed.body.at("service_code").as_string());
    EXPECT_EQ(placed.body.at("status").as_string(), "created");

    // A worker of a provider.
    auto prov = new_provider("13600000501", "康乐助浴");
    auto w =
        call("POST",
             "/v1/auth/workers",
             json::object{{"phone", "13600000502"}, {"password", "worker-pass"}, {"display_name", "赵师傅"}},
             prov.access);
    const std::string worker_id(w.body.at("id").as_string());
    auto worker = login("13600000502", "worker-pass");
    auto stranger = login("13600000501", "provider-pass");

    const std::string svc = service_token();
    auto step = [&](json::object body) {
        return call("POST", "/v1/internal/orders/" + id + "/transition", body, svc);
    };
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/en-route", std::nullopt, worker.access).status,
              404);                                                     // not theirs
    EXPECT_EQ(step({{"to", "assigned"}, {"attempt", 0}}).status, 409);  // not offered
    EXPECT_EQ(step({{"to", "matching"}}).status, 422);                  // no attempt
    ASSERT_EQ(step({{"to", "matching"}, {"attempt", 0}}).status, 200);
    auto offered = step({{"to", "offered"},
                         {"worker_id", worker_id},
                         {"org_id", std::string(w.body.at("org_id").as_string())}});
    ASSERT_EQ(offered.status, 200) << offered.raw.body;
    EXPECT_EQ(step({{"to", "assigned"}, {"attempt", 0}}).status, 409);  // stale fencing token
    ASSERT_EQ(step({{"to", "assigned"}, {"attempt", 1}}).status, 200);

    auto seen = call("GET", "/v1/orders/" + id, std::nullopt, worker.access);
    ASSERT_EQ(seen.status, 200);
    EXPECT_FALSE(seen.body.as_object().contains("service_code"));
    // Health notes reach the assigned worker only with the family's consent to share them, and each read is
    // audited under the order.
    EXPECT_TRUE(seen.body.at("health_notes").is_null());
    ASSERT_EQ(call("POST",
                   "/v1/recipients/" + rid + "/consents",
                   json::object{{"purpose", "share_health_with_provider"}, {"text_version", "v1"}},
                   s.access)
                  .status,
              201);
    auto shared = call("GET", "/v1/orders/" + id, std::nullopt, worker.access);
    EXPECT_EQ(shared.body.at("health_notes").as_string(), "type 2 diabetes; insulin at 8:00");
    EXPECT_GE(scalar("SELECT count(*) FROM audit_log WHERE purpose = 'order:" + id +
                     "' AND action = 'read_sensitive'"),
              1);
    EXPECT_EQ(seen.body.at("address").as_string(), "安定门东大街 12 号 3 单元 401");
    const json::object at_the_door{{"lat", 39.9490}, {"lon", 116.4130}};  // about 20 m from the address
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/check-in", at_the_door, worker.access).status,
              409);  // not en route
    ASSERT_EQ(call("POST", "/v1/orders/" + id + "/en-route", std::nullopt, worker.access).status, 200);
    // Check-in takes the worker's position: missing or two kilometres away is refused, and nothing moves.
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/check-in", std::nullopt, worker.access).status, 415);
    auto far = call("POST",
                    "/v1/orders/" + id + "/check-in",
                    json::object{{"lat", 39.9669}, {"lon", 116.4128}},
                    worker.access);
    EXPECT_EQ(far.status, 422) << far.raw.body;
    EXPECT_EQ(far.body.at("field").as_string(), "lat");
    ASSERT_EQ(call("POST", "/v1/orders/" + id + "/check-in", at_the_door, worker.access).status, 200);
    EXPECT_EQ(orders_scalar("SELECT round(check_in_distance_m) FROM orders WHERE id = '" + id + "'"), 20);
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/cancel", std::nullopt, s.access).status, 409);  // too late

    std::string wrong = code == "123456" ? "654321" : "123456";
    // Five wrong codes, then completion is locked, even for the right one, until the family issues a new
    // code.
    for (int i = 0; i < 5; ++i) {
        auto bad = call(
            "POST", "/v1/orders/" + id + "/complete", json::object{{"service_code", wrong}}, worker.access);
        EXPECT_EQ(bad.status, 422);
    }
    EXPECT_EQ(call("GET", "/v1/orders/" + id, std::nullopt, s.access).body.at("status").as_string(),
              "in_service");
    EXPECT_EQ(
        call("POST", "/v1/orders/" + id + "/complete", json::object{{"service_code", code}}, worker.access)
            .status,
        409);
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/service-code", std::nullopt, worker.access).status, 403);
    auto reissued = call("POST", "/v1/orders/" + id + "/service-code", std::nullopt, s.access);
    ASSERT_EQ(reissued.status, 200) << reissued.raw.body;
    const std::string fresh(reissued.body.at("service_code").as_string());
    // Every attempt is recorded: five wrong, one refused while locked, the new code.
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM code_attempts WHERE order_id = '" + id + "'"), 7);
    auto done =
        call("POST", "/v1/orders/" + id + "/complete", json::object{{"service_code", fresh}}, worker.access);
    ASSERT_EQ(done.status, 200) << done.raw.body;
    EXPECT_EQ(done.body.at("status").as_string(), "completed");
    EXPECT_EQ(
        call("POST", "/v1/orders/" + id + "/complete", json::object{{"service_code", code}}, worker.access)
            .status,
        409);  // completed once
    EXPECT_EQ(call("GET", "/v1/orders/" + id, std::nullopt, worker.access).status, 404);
    EXPECT_EQ(call("GET", "/v1/orders/" + id, std::nullopt, stranger.access).status, 403);

    auto history = call("GET", "/v1/orders/" + id, std::nullopt, s.access).body.at("history").as_array();
    std::vector<std::string> path;
    for (std::size_t i = 0; i < history.size(); ++i) {
        path.emplace_back(history[i].at("to").as_string());
        // Every step names the state it left, matching's steps too.
        if (i == 0) {
            EXPECT_TRUE(history[i].at("from").is_null());
        } else {
            EXPECT_EQ(history[i].at("from"), history[i - 1].at("to")) << i;
        }
    }
    EXPECT_EQ(path,
              (std::vector<std::string>{
                  "created", "matching", "offered", "assigned", "en_route", "in_service", "completed"}));
    // The family hears of each step of the job: setting off, starting, done.
    EXPECT_EQ(
        orders_scalar("SELECT count(*) FROM outbox WHERE event_type IN ('order.en_route', 'order.started',"
                      " 'order.completed')"),
        3);
}

// Accept, decline and expiry of one offer race: exactly one wins, and the order shows that one.
TEST_F(orders_fixture, an_offer_has_exactly_one_outcome_when_accept_decline_and_expiry_race) {
    auto [s, rid] = family_with_elder("13700000611", elder());
    const std::string svc = service_token();
    const std::string worker = core::new_uuid();
    auto internal = [&](const std::string& id, json::object body) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/internal/orders/" + id + "/transition";
        o.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + svc}};
        o.body = json::serialize(body);
        return o;
    };
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) {
        auto placed = place(s, rid, "race-" + std::to_string(i));
        ASSERT_EQ(placed.status, 201);
        ids.emplace_back(placed.body.at("id").as_string());
        ASSERT_EQ(call("POST",
                       "/v1/internal/orders/" + ids.back() + "/transition",
                       json::object{{"to", "matching"}, {"attempt", 0}},
                       svc)
                      .status,
                  200);
        ASSERT_EQ(call("POST",
                       "/v1/internal/orders/" + ids.back() + "/transition",
                       json::object{{"to", "offered"}, {"worker_id", worker}},
                       svc)
                      .status,
                  200);
    }
    // For every order at once: the worker's accept, a decline and the offer's expiry, all at attempt 1.
    http::client racing(client_io, http::client::settings{std::chrono::seconds(60), 256});
    std::map<std::string, std::vector<std::pair<std::string, int>>> wins;
    auto one = [&](std::string id, std::string to, http::outgoing o) -> boost::asio::awaitable<void> {
        auto r = co_await racing.send("127.0.0.1", server->port(), std::move(o));
        wins[id].emplace_back(to, r ? r->status : 0);
    };
    // Built outside the coroutines: GCC 12 miscompiles a braced list inside one.
    const std::vector<std::string> outcomes{"assigned", "matching", "expired"};
    std::map<std::string, http::outgoing> requests;
    for (const auto& id : ids) {
        for (const auto& to : outcomes) {
            requests[id + to] = internal(id, json::object{{"to", to}, {"attempt", 1}});
        }
    }
    auto scenario = [&]() -> boost::asio::awaitable<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        for (const auto& id : ids) {
            for (const auto& to : outcomes) {
                boost::asio::co_spawn(ex, one(id, to, requests.at(id + to)), boost::asio::detached);
            }
        }
        boost::asio::steady_timer poll(ex);
        while (wins.size() < ids.size() ||
               std::any_of(wins.begin(), wins.end(), [](const auto& w) { return w.second.size() < 3; })) {
            poll.expires_after(std::chrono::milliseconds(10));
            co_await poll.async_wait(boost::asio::use_awaitable);
        }
    };
    test::run_coro(client_io, scenario());
    for (const auto& id : ids) {
        std::string winner;
        for (const auto& [to, status] : wins[id]) {
            EXPECT_TRUE(status == 200 || status == 409) << id << " " << to << " " << status;
            if (status == 200) {
                EXPECT_TRUE(winner.empty()) << id << ": both " << winner << " and " << to << " won";
                winner = to;
            }
        }
        ASSERT_FALSE(winner.empty()) << id;
        // What the family sees is what won.
        auto seen = call("GET", "/v1/orders/" + id, std::nullopt, s.access);
        EXPECT_EQ(seen.body.at("status").as_string(), winner) << id;
    }
}

// Many transitions in one call: each answered as the one-order call would, in one transaction; a malformed
// item refuses the whole call, and only services may call it.
// A bath for an elder of ability level 2 or worse takes a crew of two: an offer names both workers (seat 0 as
// worker_id, seat 1 as second_worker_id), never one or the same twice; both then see the job and either moves
// it on; the events of the job name both.
TEST_F(orders_fixture, a_frail_elder_s_bath_is_offered_to_a_crew_of_two_and_both_serve_it) {
    auto frail = identity_fixture::elder();
    frail["ability_level"] = 2;
    auto [s, rid] = family_with_elder("13700000631", frail);
    const std::string svc = service_token();
    auto placed = place(s, rid, "crew-1");
    ASSERT_EQ(placed.status, 201) << placed.raw.body;
    EXPECT_EQ(placed.body.at("crew").as_int64(), 2);
    const std::string id(placed.body.at("id").as_string());
    auto one = place(s, rid, "crew-2", "medical_visit", "check_up");  // not a bath: one worker
    ASSERT_EQ(one.status, 201) << one.raw.body;
    EXPECT_EQ(one.body.at("crew").as_int64(), 1);
    auto provider = new_provider("13600000631");
    const auto lead = new_worker(provider, "13600000632");
    const auto second = new_worker(provider, "13600000633");
    auto transition = [&](const json::object& body) {
        return call("POST", "/v1/internal/orders/" + id + "/transition", body, svc);
    };
    // One worker, the same one twice, or a second worker without an offer: refused, nothing changes.
    EXPECT_EQ(transition({{"to", "offered"}, {"worker_id", lead.user_id}, {"attempt", 0}}).status, 409);
    auto same = transition(
        {{"to", "offered"}, {"worker_id", lead.user_id}, {"second_worker_id", lead.user_id}, {"attempt", 0}});
    EXPECT_EQ(same.status, 422);
    EXPECT_EQ(same.body.at("field").as_string(), "second_worker_id");
    EXPECT_EQ(transition({{"to", "matching"}, {"second_worker_id", second.user_id}, {"attempt", 0}}).status,
              422);
    EXPECT_EQ(call("POST",
                   "/v1/internal/orders/" + std::string(one.body.at("id").as_string()) + "/transition",
                   json::object{{"to", "offered"},
                                {"worker_id", lead.user_id},
                                {"second_worker_id", second.user_id},
                                {"attempt", 0}},
                   svc)
                  .status,
              409);  // a crew for a one-worker job
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM order_history WHERE to_status = 'offered'"), 0);

    auto offered = transition({{"to", "offered"},
                               {"worker_id", lead.user_id},
                               {"second_worker_id", second.user_id},
                               {"attempt", 0}});
    ASSERT_EQ(offered.status, 200) << offered.raw.body;
    EXPECT_EQ(offered.body.at("second_worker_id").as_string(), second.user_id);
    ASSERT_EQ(transition({{"to", "assigned"}, {"attempt", 1}}).status, 200);
    for (const auto* w : {&lead, &second}) {
        auto seen = call("GET", "/v1/orders/" + id, std::nullopt, w->access);
        EXPECT_EQ(seen.status, 200) << seen.raw.body;
    }
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/en-route", std::nullopt, second.access).status, 200);
    // Setting off is told too, naming both workers of the crew.
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM outbox WHERE event_type = 'order.en_route'"
                            " AND payload->>'second_worker_id' = '" +
                            second.user_id + "' AND payload->>'worker_id' = '" + lead.user_id + "'"),
              1);
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/cancel", json::object{{"reason", "下雨"}}, s.access).status,
              200);
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM outbox WHERE event_type = 'order.cancelled'"
                            " AND payload->>'second_worker_id' = '" +
                            second.user_id + "' AND payload->>'worker_id' = '" + lead.user_id + "'"),
              1);
}

TEST_F(orders_fixture, a_batch_of_transitions_answers_each_as_the_single_call_would) {
    auto [s, rid] = family_with_elder("13700000621", elder());
    const std::string svc = service_token();
    const std::string worker = core::new_uuid();
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto placed = place(s, rid, "batch-" + std::to_string(i));
        ASSERT_EQ(placed.status, 201);
        ids.emplace_back(placed.body.at("id").as_string());
    }
    auto to_matching = [&](const std::string& id, int attempt) {
        return json::object{{"order_id", id}, {"to", "matching"}, {"attempt", attempt}};
    };
    const json::object good{{"items", json::array{to_matching(ids[0], 0), to_matching(ids[1], 0)}}};
    // Refused whole: a malformed item, no items, another role.
    const auto history = orders_scalar("SELECT count(*) FROM order_history");
    auto bad = call("POST",
                    "/v1/internal/orders/transitions",
                    json::object{{"items",
                                  json::array{to_matching(ids[0], 0),
                                              json::object{{"order_id", ids[1]}, {"to", "assigned"}}}}},
                    svc);
    EXPECT_EQ(bad.status, 422);
    EXPECT_EQ(bad.body.at("field").as_string(), "items[1].attempt");
    EXPECT_EQ(
        call("POST", "/v1/internal/orders/transitions", json::object{{"items", json::array{}}}, svc).status,
        422);
    EXPECT_EQ(call("POST", "/v1/internal/orders/transitions", good, s.access).status, 403);
    EXPECT_EQ(call("POST", "/v1/internal/orders/transitions", good).status, 401);
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM order_history"), history);

    auto r = call("POST", "/v1/internal/orders/transitions", good, svc);
    ASSERT_EQ(r.status, 200) << r.raw.body;
    ASSERT_EQ(r.body.at("items").as_array().size(), 2u);
    EXPECT_EQ(r.body.at("items").at(0).at("status"), 200);
    EXPECT_EQ(r.body.at("items").at(0).at("order_id").as_string(), ids[0]);
    // Offer the first; the second is offered with a stale attempt in the same call only after it moved on;
    // the third is not in matching: 409 for it, and the others still land.
    const auto offer = [&](const std::string& id) {
        return json::object{{"order_id", id}, {"to", "offered"}, {"worker_id", worker}, {"attempt", 0}};
    };
    auto mixed =
        call("POST",
             "/v1/internal/orders/transitions",
             json::object{{"items", json::array{offer(ids[0]), to_matching(ids[2], 5), offer(ids[1])}}},
             svc);
    ASSERT_EQ(mixed.status, 200) << mixed.raw.body;
    const auto& items = mixed.body.at("items").as_array();
    EXPECT_EQ(items.at(0).at("status"), 200);
    EXPECT_EQ(items.at(0).at("attempt"), 1);
    EXPECT_EQ(items.at(1).at("status"), 409);
    EXPECT_EQ(items.at(2).at("status"), 200);
    EXPECT_EQ(call("GET", "/v1/orders/" + ids[0], std::nullopt, s.access).body.at("status").as_string(),
              "offered");
    EXPECT_EQ(call("GET", "/v1/orders/" + ids[2], std::nullopt, s.access).body.at("status").as_string(),
              "created");
    // The same call again (its answer lost) gets the same answers for the offers.
    auto again = call("POST",
                      "/v1/internal/orders/transitions",
                      json::object{{"items", json::array{offer(ids[0]), offer(ids[1])}}},
                      svc);
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(again.body.at("items").at(0).at("status"), 200);
    EXPECT_EQ(again.body.at("items").at(1).at("status"), 200);
}

TEST_F(orders_fixture, cancelling_costs_nothing_before_assignment_and_a_fifth_after) {
    auto [s, rid] = family_with_elder("13700000601", elder());
    auto a = place(s, rid, "a");
    auto cancelled = call("POST",
                          "/v1/orders/" + std::string(a.body.at("id").as_string()) + "/cancel",
                          json::object{{"reason", "plans changed"}},
                          s.access);
    ASSERT_EQ(cancelled.status, 200);
    EXPECT_EQ(cancelled.body.at("price").at("cancellation_fee_fen").as_int64(), 0);

    auto b = place(s, rid, "b");
    const std::string id(b.body.at("id").as_string());
    const std::string svc = service_token();
    const std::string worker = core::new_uuid();
    call("POST",
         "/v1/internal/orders/" + id + "/transition",
         json::object{{"to", "matching"}, {"attempt", 0}},
         svc);
    call("POST",
         "/v1/internal/orders/" + id + "/transition",
         json::object{{"to", "offered"}, {"worker_id", worker}},
         svc);
    call("POST",
         "/v1/internal/orders/" + id + "/transition",
         json::object{{"to", "assigned"}, {"attempt", 1}},
         svc);
    auto late = call("POST", "/v1/orders/" + id + "/cancel", std::nullopt, s.access);
    ASSERT_EQ(late.status, 200) << late.raw.body;
    // A fifth of the family's share (this elder, over 80, pays 70 % of 120 yuan).
    EXPECT_EQ(late.body.at("price").at("family_fen").as_int64(), 8400);
    EXPECT_EQ(late.body.at("price").at("cancellation_fee_fen").as_int64(), 8400 / 5);
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/cancel", std::nullopt, s.access).status, 409);
}

TEST_F(orders_fixture, families_and_staff_see_only_what_is_theirs) {
    auto [a, arid] = family_with_elder("13700000701", elder(110101001));
    auto [b, brid] = family_with_elder("13700000702", elder(110102001));
    auto order_a = place(a, arid, "x");
    const std::string id(order_a.body.at("id").as_string());
    place(b, brid, "x");
    EXPECT_EQ(call("GET", "/v1/orders/" + id, std::nullopt, b.access).status, 404);
    EXPECT_EQ(call("POST", "/v1/orders/" + id + "/cancel", std::nullopt, b.access).status, 404);
    auto b_list = call("GET", "/v1/orders", std::nullopt, b.access);
    ASSERT_EQ(b_list.body.at("items").as_array().size(), 1u);
    EXPECT_NE(b_list.body.at("items").as_array()[0].at("id"), order_a.body.at("id"));
    // B may not place an order for A's elder.
    EXPECT_EQ(place(b, arid, "y").status, 422);

    call("POST",
         "/v1/admin/users",
         json::object{{"phone", "13500000701"},
                      {"password", "staff-password"},
                      {"role", "staff"},
                      {"communities", json::array{110101001}}},
         admin().access);
    auto staff = login("13500000701", "staff-password");
    auto seen = call("GET", "/v1/orders/" + id, std::nullopt, staff.access);
    ASSERT_EQ(seen.status, 200);
    EXPECT_FALSE(seen.body.as_object().contains("service_code"));
    auto listed = call("GET", "/v1/orders?community_id=110101001", std::nullopt, staff.access);
    EXPECT_EQ(listed.body.at("items").as_array().size(), 1u);
    EXPECT_EQ(call("GET", "/v1/orders?community_id=110102001", std::nullopt, staff.access).status, 403);
}

TEST_F(orders_fixture, lists_page_with_a_cursor) {
    auto [s, rid] = family_with_elder("13700000801", elder());
    std::set<std::string> placed;
    for (int i = 0; i < 5; ++i) {
        placed.insert(std::string(place(s, rid, "p" + std::to_string(i)).body.at("id").as_string()));
    }
    std::set<std::string> seen;
    std::string cursor;
    for (int page = 0; page < 5; ++page) {
        auto r = call("GET",
                      "/v1/orders?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor),
                      std::nullopt,
                      s.access);
        ASSERT_EQ(r.status, 200) << r.raw.body;
        for (const auto& o : r.body.at("items").as_array()) {
            EXPECT_TRUE(seen.insert(std::string(o.at("id").as_string())).second);
        }
        if (r.body.at("next_cursor").is_null()) {
            break;
        }
        cursor = std::string(r.body.at("next_cursor").as_string());
    }
    EXPECT_EQ(seen, placed);
    EXPECT_EQ(call("GET", "/v1/orders?limit=0", std::nullopt, s.access).status, 422);
    EXPECT_EQ(call("GET", "/v1/orders?cursor=garbage", std::nullopt, s.access).status, 422);
}

TEST_F(orders_fixture, each_order_created_event_reaches_the_stream_once) {
    auto [s, rid] = family_with_elder("13700000901", elder());
    auto placed = place(s, rid, "e1");
    place(s, rid, "e1");  // a replay publishes nothing new
    const std::string id(placed.body.at("id").as_string());
    redis::client r(client_io, test::redis_settings());
    db::outbox_relay relay(orders->pool(), r, orders_schema);
    EXPECT_EQ(test::run_coro(client_io, relay.run_once()), 1u);
    EXPECT_EQ(test::run_coro(client_io, relay.run_once()), 0u);
    std::vector<std::string> range{"XRANGE", "carematch:{region:110101}:orders", "-", "+"};
    auto entries = test::run_coro(client_io, r.command(std::move(range)));
    ASSERT_TRUE(entries);
    int mine = 0;
    for (const auto& e : entries->elements) {
        const auto& f = e.elements[1].elements;
        for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
            if (f[i].str == "payload" && f[i + 1].str.find(id) != std::string::npos) {
                ++mine;
            }
        }
    }
    EXPECT_EQ(mine, 1);
}

TEST_F(orders_fixture, each_order_created_reaches_the_stream_exactly_once_when_the_relay_is_killed_mid_way) {
    // A street of its own, so that this test's stream holds no other database's entries: with foreign entries
    // at higher ids the relay falls back to fresh ids, which is at-least-once by design (see db/outbox.hpp).
    std::random_device rd;
    const std::int64_t street = std::uniform_int_distribution<std::int64_t>(900000, 999999)(rd);
    const std::string stream = "carematch:{region:" + std::to_string(street) + "}:orders";
    auto a = admin();
    ASSERT_EQ(call("POST",
                   "/v1/regions",
                   json::object{{"id", street},
                                {"parent_id", 110100},
                                {"level", "street"},
                                {"name", "测试街道"},
                                {"residents", 0}},
                   a.access)
                  .status,
              201);
    ASSERT_EQ(call("POST",
                   "/v1/regions",
                   json::object{{"id", street * 1000 + 1},
                                {"parent_id", street},
                                {"level", "community"},
                                {"name", "测试社区"},
                                {"residents", 1000}},
                   a.access)
                  .status,
              201);
    redis::client r(client_io, test::redis_settings());
    std::vector<std::string> del{"DEL", stream};
    ASSERT_TRUE(test::run_coro(client_io, r.command(std::move(del))));
    auto [s, rid] = family_with_elder("13700000902", elder(street * 1000 + 1));
    constexpr int n = 300;
    std::map<std::string, int> seen;  // order id → times in the stream
    for (int i = 0; i < n; ++i) {
        auto placed = place(s, rid, "kill-" + std::to_string(i));
        ASSERT_EQ(placed.status, 201) << placed.raw.body;
        seen[std::string(placed.body.at("id").as_string())] = 0;
    }
    auto published = [&] {
        return orders_scalar("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL");
    };

    // A relay process publishing one event per batch, killed once it is well under way.
    const std::string batch = "1";
    const std::string redis_url = test::required_env("CAREMATCH_TEST_REDIS_URL");
    const std::string db_url = test::db_url();
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl(CAREMATCH_TEST_RELAY_BIN,
              "carematch-test-relay",
              db_url.c_str(),
              redis_url.c_str(),
              orders_schema.c_str(),
              batch.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (published() < 20 && std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "the relay process ended on its own";
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    const long long at_kill = published();
    EXPECT_GE(at_kill, 20);
    EXPECT_LT(at_kill, n);  // killed mid-way

    // The dead relay's lease is short: what it left is at most one lease away from being taken over.
    EXPECT_EQ(orders_scalar("SELECT count(*) FROM outbox WHERE claimed_until > now() + interval '5 seconds'"),
              0);
    // A new relay takes over once that lease has run out (a relay's own poll interval between passes).
    db::outbox_relay relay(orders->pool(), r, orders_schema);
    boost::asio::steady_timer poll(client_io);
    for (int pass = 0; pass < 200 && published() < n; ++pass) {
        if (test::run_coro(client_io, relay.run_once()) == 0) {
            poll.expires_after(std::chrono::milliseconds(100));
            test::run_coro(client_io, poll.async_wait(boost::asio::use_awaitable));
        }
    }
    EXPECT_EQ(published(), n + 0LL);

    std::vector<std::string> range{"XRANGE", stream, "-", "+"};
    auto entries = test::run_coro(client_io, r.command(std::move(range)));
    ASSERT_TRUE(entries);
    for (const auto& e : entries->elements) {
        const auto& f = e.elements[1].elements;
        for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
            if (f[i].str != "payload") {
                continue;
            }
            boost::system::error_code ec;
            auto payload = json::parse(f[i + 1].str, ec);
            if (ec || !payload.is_object() || !payload.as_object().contains("order_id")) {
                continue;
            }
            auto it = seen.find(std::string(payload.at("order_id").as_string()));
            if (it != seen.end()) {
                ++it->second;
            }
        }
    }
    int wrong = 0;
    for (const auto& [id, times] : seen) {
        wrong += times != 1;
    }
    EXPECT_EQ(wrong, 0) << "orders whose order.created is not in the stream exactly once";
    EXPECT_EQ(entries->elements.size(), static_cast<std::size_t>(n));  // and nothing else
    std::vector<std::string> cleanup{"DEL", stream};
    test::run_coro(client_io, r.command(std::move(cleanup)));
}

}  // namespace
}  // namespace carematch::orders
