// ratings against the real PostgreSQL and Redis, with identity beside it for accounts, on a street of its
// own: completed services arrive as order.completed on the street's stream (as orders' relay publishes them);
// a family rates once, edits for a day, the provider replies and appeals, staff decide, scores follow.
#include "integration/identity/identity_fixture.hpp"
#include "support/region_tree.hpp"
#include "support/send_at_once.hpp"

#include <carematch/ratings/app.hpp>
#include <carematch/redis/client.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>

namespace carematch::ratings {
namespace {

namespace json = boost::json;
using identity::test_support::reply;

class ratings_fixture : public identity::test_support::identity_fixture {
  protected:
    ratings_fixture() {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            {"CAREMATCH_DB_QUEUE_LIMIT", "100000"},
            {"CAREMATCH_DB_ACQUIRE_TIMEOUT_MS", "600000"},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_RATINGS_RATINGS_SCHEMA", ratings_schema},
            {"CAREMATCH_RATINGS_REGIONS_FILE", street.path},
            {"CAREMATCH_RATINGS_CONSUMER_GROUP", "ratings-" + ratings_schema},
        };
        core::config_source src("", "ratings", [env](const std::string& name) -> std::optional<std::string> {
            auto it = env.find(name);
            return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
        auto cfg = read_config(src);
        src.reject_unknown();
        ratings = std::make_unique<app>(io, cfg, clock);
        ratings->start();
        ratings->add_routes(routes);
    }
    ~ratings_fixture() override {
        server.reset();
        ratings.reset();
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> del{"DEL",
                                         "carematch:{region:" + std::to_string(street.street) + "}:orders",
                                         "carematch:{region:" + std::to_string(street.street) + "}:nursery"};
            co_await r.command(std::move(del));
        }());
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + ratings_schema + " CASCADE");
        tx.commit();
    }

    static std::string iso(core::clock::time_point t) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
        const std::time_t tt = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
    }

    // A service completed, as publish_completed puts it on the stream, handed to ratings.
    template <class... Args>
    std::string completed(Args&&... args) {
        const auto order = publish_completed(std::forward<Args>(args)...);
        EXPECT_EQ(consume(1), 1u);
        return order;
    }

    // Lets ratings handle `n` events off its streams; returns how many it handled.
    std::size_t consume(std::size_t n) {
        std::size_t handled = 0;
        for (int i = 0; i < 20 + static_cast<int>(n) && handled < n; ++i) {
            handled += test::run_coro(client_io, ratings->consume_once());
        }
        return handled;
    }

    // The order.completed of a service completed `ago` before the clock, on the street's stream as orders'
    // relay publishes it (not yet handled).
    std::string publish_completed(const std::string& family,
                                  const std::string& org,
                                  const std::string& worker,
                                  std::chrono::hours ago = std::chrono::hours(1),
                                  const std::string& kind = "bath",
                                  const std::string& second_worker = "") {
        const std::string order = core::new_uuid();
        json::object payload{{"order_id", order},
                             {"status", "completed"},
                             {"actor_id", worker},
                             {"family_id", family},
                             {"recipient_id", core::new_uuid()},
                             {"community_id", street.community},
                             {"kind", kind},
                             {"sub_type", "home_bath"},
                             {"worker_id", worker},
                             {"org_id", org},
                             {"at", iso(clock.now() - ago)}};
        if (!second_worker.empty()) {
            payload["second_worker_id"] = second_worker;  // a crew (a bath taken by two)
        }
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> add{"XADD",
                                         "carematch:{region:" + std::to_string(street.street) + "}:orders",
                                         "*",
                                         "id",
                                         core::new_uuid(),
                                         "type",
                                         "order.completed",
                                         "payload",
                                         json::serialize(payload),
                                         "occurred_at",
                                         iso(clock.now())};
            co_await r.command(std::move(add));
        }());
        return order;
    }

    // POST /v1/ratings as the family of `access` would send it.
    static http::outgoing rating_request(const std::string& access,
                                         const json::object& body,
                                         const std::string& key = core::new_uuid()) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/ratings";
        o.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + access},
                     {"Idempotency-Key", key}};
        o.body = json::serialize(body);
        return o;
    }

    reply rate(const session& s, json::object body, const std::string& key = core::new_uuid()) {
        auto res = test::run_coro(
            client_io, client.send("127.0.0.1", server->port(), rating_request(s.access, body, key)));
        reply r;
        r.status = res->status;
        r.raw = *res;
        boost::system::error_code ec;
        r.body = json::parse(res->body, ec);
        return r;
    }

    std::string org_of(const session& s) {
        return std::string(call("GET", "/v1/auth/me", std::nullopt, s.access).body.at("org_id").as_string());
    }

    std::string staff_token(std::int64_t scope) {
        core::system_clock sys;
        auth::caller staff;
        staff.id = core::new_uuid();
        staff.role = auth::role::staff;
        staff.communities = {scope};
        return auth::token_issuer(key, {}, sys).issue(staff);
    }

    long long ratings_scalar(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + ratings_schema);
        return tx.exec(sql)[0][0].as<long long>();
    }

    test::region_tree street{7100, 7999};
    std::string ratings_schema = test::unique_schema("ratings");
    core::manual_clock clock{std::chrono::system_clock::now()};
    std::unique_ptr<app> ratings;
};

json::object good(const std::string& order, int level = 5) {
    return json::object{{"order_id", order},
                        {"level", level},
                        {"dimensions", json::object{{"punctuality", 5}, {"attitude", 4}}},
                        {"tags", json::array{"punctual", "patient"}},
                        {"comment", "周阿姨很细心，洗得很干净"},
                        {"anonymous", false}};
}

TEST_F(ratings_fixture, a_service_is_rated_once_even_under_fifty_concurrent_tries) {
    auto family = new_family("13400000001");
    auto provider = new_provider("13400000002");
    const auto order = completed(family.user_id, org_of(provider), core::new_uuid());
    std::vector<std::future<int>> tries;
    const std::uint16_t port = server->port();
    const json::object body = good(order);
    for (int i = 0; i < 50; ++i) {
        tries.push_back(std::async(std::launch::async, [&, port] {
            boost::asio::io_context io;
            http::client c(io);
            return test::run_coro(io, c.send("127.0.0.1", port, rating_request(family.access, body)))->status;
        }));
    }
    int created = 0;
    int conflicts = 0;
    for (auto& t : tries) {
        const int status = t.get();
        created += status == 201 ? 1 : 0;
        conflicts += status == 409 ? 1 : 0;
    }
    EXPECT_EQ(created, 1);
    EXPECT_EQ(conflicts, 49);
    EXPECT_EQ(ratings_scalar("SELECT count(*) FROM reviews"), 1);
}

TEST_F(ratings_fixture, bad_input_names_its_field_and_writes_nothing) {
    auto family = new_family("13400000011");
    auto other = new_family("13400000012");
    auto provider = new_provider("13400000013");
    const auto order = completed(family.user_id, org_of(provider), core::new_uuid());
    const auto old =
        completed(family.user_id, org_of(provider), core::new_uuid(), std::chrono::hours(16 * 24));
    struct row {
        json::object body;
        int status;
        const char* field;
    };
    auto with = [&](const char* key, json::value v) {
        auto b = good(order);
        b[key] = std::move(v);
        return b;
    };
    auto without = [&](const char* key) {
        auto b = good(order);
        b.erase(key);
        return b;
    };
    const std::vector<row> table{
        {with("level", 0), 422, "level"},
        {with("level", 6), 422, "level"},
        {with("level", "5"), 422, "level"},
        {without("level"), 422, "level"},
        {with("dimensions", json::object{{"taste", 5}}), 422, "dimensions"},  // a meal's, not a bath's
        {with("dimensions", json::object{{"punctuality", 9}}), 422, "dimensions"},
        {with("tags", json::array{"wonderful"}), 422, "tags"},
        {with("tags", json::array{"late", "late"}), 422, "tags"},
        {with("comment", json::string(std::string(501, 'a'))), 422, "comment"},
        {with("comment", json::string(std::string("好\0坏", 7))), 422, "comment"},
        {with("anonymous", "yes"), 422, "anonymous"},
        {with("stars", 5), 422, "stars"},
        {with("order_id", "not-a-uuid"), 422, "order_id"},
        {with("order_id", json::string(core::new_uuid())), 422, "order_id"},  // not a completed service
        {with("order_id", json::string(old)), 422, "order_id"},               // completed 16 days ago
    };
    for (const auto& r : table) {
        auto res = rate(family, r.body);
        EXPECT_EQ(res.status, r.status) << json::serialize(r.body) << " → " << res.raw.body;
        EXPECT_EQ(res.raw.header("Content-Type").value_or(""), "application/problem+json");
        ASSERT_TRUE(res.body.is_object() && res.body.as_object().contains("field")) << res.raw.body;
        EXPECT_EQ(res.body.at("field").as_string(), r.field) << res.raw.body;
    }
    // Another family's service.
    auto theirs = rate(other, good(order));
    EXPECT_EQ(theirs.status, 422);
    EXPECT_EQ(theirs.body.at("field").as_string(), "order_id") << theirs.raw.body;
    // Named as the order, whatever else the body holds: what dimensions fit is a service of one's own's to
    // say.
    auto theirs_odd = rate(other, with("dimensions", json::object{{"taste", 5}}));
    EXPECT_EQ(theirs_odd.body.at("field").as_string(), "order_id") << theirs_odd.raw.body;
    EXPECT_EQ(ratings_scalar("SELECT count(*) FROM reviews"), 0);
    // The roles that may not rate.
    EXPECT_EQ(call("POST", "/v1/ratings", good(order), provider.access).status, 403);
    EXPECT_EQ(call("POST", "/v1/ratings", good(order)).status, 401);
}

TEST_F(ratings_fixture, an_anonymous_review_hides_the_family_from_the_provider_not_from_staff) {
    auto family = new_family("13400000021");
    auto provider = new_provider("13400000022");
    auto stranger = new_provider("13400000023");
    const auto order = completed(family.user_id, org_of(provider), core::new_uuid());
    auto body = good(order, 4);
    body["anonymous"] = true;
    auto created = rate(family, body);
    ASSERT_EQ(created.status, 201) << created.raw.body;
    const std::string id(created.body.at("id").as_string());
    auto seen = call("GET", "/v1/ratings/" + id, std::nullopt, provider.access);
    ASSERT_EQ(seen.status, 200);
    EXPECT_TRUE(seen.body.at("family_id").is_null());
    EXPECT_TRUE(call("GET", "/v1/ratings", std::nullopt, provider.access)
                    .body.at("items")
                    .as_array()[0]
                    .at("family_id")
                    .is_null());
    EXPECT_EQ(call("GET", "/v1/ratings/" + id, std::nullopt, staff_token(street.community))
                  .body.at("family_id")
                  .as_string(),
              family.user_id);
    EXPECT_EQ(call("GET", "/v1/ratings/" + id, std::nullopt, stranger.access).status, 404);
    EXPECT_EQ(call("GET", "/v1/ratings/" + id, std::nullopt, staff_token(street.community + 1)).status, 404);
    EXPECT_EQ(call("GET", "/v1/ratings/" + id, std::nullopt, family.access).body.at("family_id").as_string(),
              family.user_id);
}

TEST_F(ratings_fixture, a_review_is_edited_within_a_day_with_its_history_and_replied_to_once) {
    auto family = new_family("13400000031");
    auto provider = new_provider("13400000032");
    const auto order = completed(family.user_id, org_of(provider), core::new_uuid());
    auto created = rate(family, good(order, 3));
    ASSERT_EQ(created.status, 201);
    const std::string id(created.body.at("id").as_string());
    auto edit = json::object{{"level", 4}, {"comment", "后来想想还不错"}};
    auto edited = call("PUT", "/v1/ratings/" + id, edit, family.access);
    ASSERT_EQ(edited.status, 200) << edited.raw.body;
    EXPECT_EQ(edited.body.at("level").as_int64(), 4);
    EXPECT_EQ(ratings_scalar("SELECT count(*) FROM review_history WHERE review_id = '" + id + "'"), 2);
    // A day later (in the database: the services' clock stays, so that tokens stay valid).
    {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + ratings_schema);
        tx.exec_params("UPDATE reviews SET editable_until = to_timestamp($1::float8 - 1)",
                       std::chrono::duration<double>(clock.now().time_since_epoch()).count());
        tx.commit();
    }
    EXPECT_EQ(call("PUT", "/v1/ratings/" + id, edit, family.access).status, 409);
    EXPECT_EQ(call("PUT", "/v1/ratings/" + id, edit, new_family("13400000033").access).status, 404);

    auto r1 =
        call("POST", "/v1/ratings/" + id + "/reply", json::object{{"text", "感谢您的认可"}}, provider.access);
    ASSERT_EQ(r1.status, 200) << r1.raw.body;
    EXPECT_EQ(r1.body.at("reply").at("text").as_string(), "感谢您的认可");
    EXPECT_EQ(
        call("POST", "/v1/ratings/" + id + "/reply", json::object{{"text", "again"}}, provider.access).status,
        409);
    EXPECT_EQ(
        call("POST", "/v1/ratings/" + id + "/reply", json::object{{"text", ""}}, provider.access).status,
        422);
    EXPECT_EQ(call("POST", "/v1/ratings/" + id + "/reply", json::object{{"text", "x"}}, family.access).status,
              403);
}

// A hundred families rate a hundred services of one worker at once: the worker's score counts all of them
// (each refresh reads the reviews under the subject's lock, after the reviews before it committed).
TEST_F(ratings_fixture, a_hundred_reviews_of_one_worker_at_once_are_all_counted) {
    auto provider = new_provider("13400000071");
    const auto org = org_of(provider);
    const auto worker = core::new_uuid();
    auto family = new_family("13400000072");
    std::vector<http::outgoing> requests;
    std::vector<std::string> orders;
    for (int i = 0; i < 100; ++i) {
        orders.push_back(publish_completed(family.user_id, org, worker));
    }
    ASSERT_EQ(consume(100), 100u);
    for (std::size_t i = 0; i < orders.size(); ++i) {
        requests.push_back(rating_request(family.access, good(orders[i], static_cast<int>(1 + i % 5))));
    }
    int created = 0;
    for (const auto& a : test::send_at_once(client_io, server->port(), requests)) {
        created += a.status == 201 ? 1 : 0;
    }
    EXPECT_EQ(created, 100);
    EXPECT_EQ(ratings_scalar("SELECT count FROM scores WHERE subject_type = 'worker' AND subject_id = '" +
                             worker + "'"),
              100);
    EXPECT_EQ(
        ratings_scalar("SELECT count FROM scores WHERE subject_type = 'org' AND subject_id = '" + org + "'"),
        100);
}

// A crew's job (a bath taken by two workers) is rated once, and the review scores both workers.
TEST_F(ratings_fixture, a_crew_s_job_is_rated_once_and_scores_both_workers) {
    auto provider = new_provider("13400000061");
    const auto org = org_of(provider);
    const auto lead = core::new_uuid();
    const auto second = core::new_uuid();
    auto family = new_family("13400000062");
    const auto order = completed(family.user_id, org, lead, std::chrono::hours(1), "bath", second);
    auto r = rate(family, good(order, 2));
    ASSERT_EQ(r.status, 201) << r.raw.body;
    EXPECT_EQ(r.body.at("worker_id").as_string(), lead);
    EXPECT_EQ(r.body.at("second_worker_id").as_string(), second);
    for (const auto& w : {lead, second}) {
        EXPECT_EQ(ratings_scalar("SELECT count FROM scores WHERE subject_type = 'worker' AND subject_id = '" +
                                 w + "'"),
                  1)
            << w;
        EXPECT_EQ(ratings_scalar("SELECT count(*) FROM outbox WHERE event_type = 'rating.score_changed'"
                                 " AND payload->>'subject_id' = '" +
                                 w + "'"),
                  1);
    }
    EXPECT_EQ(ratings_scalar("SELECT count(*) FROM outbox WHERE event_type = 'rating.bad'"
                             " AND payload->>'second_worker_id' = '" +
                             second + "'"),
              1);
    // A job of one worker names no second.
    auto alone = rate(family, good(completed(family.user_id, org, lead), 5));
    ASSERT_EQ(alone.status, 201) << alone.raw.body;
    EXPECT_FALSE(alone.body.as_object().contains("second_worker_id"));
}

TEST_F(ratings_fixture, an_overturned_appeal_takes_the_review_out_of_the_bayesian_score) {
    auto provider = new_provider("13400000041");
    const auto org = org_of(provider);
    const auto worker = core::new_uuid();
    // Reviews 5, 5, 1 of one organisation: (4 × 10 + 11) / 13 = 3.923…
    std::vector<std::string> ids;
    int n = 0;
    for (int level : {5, 5, 1}) {
        auto family = new_family("1340000005" + std::to_string(n++));
        const auto order = completed(family.user_id, org, worker);
        auto body = good(order, level);
        if (level == 1) {
            body["tags"] = json::array{"late", "rude"};
            body["dimensions"] = json::object{{"attitude", 1}};
        }
        auto r = rate(family, body);
        ASSERT_EQ(r.status, 201) << r.raw.body;
        ids.emplace_back(r.body.at("id").as_string());
    }
    auto score = [&] {
        return call("GET", "/v1/ratings/organisations/" + org, std::nullopt, provider.access).body;
    };
    EXPECT_NEAR(score().at("score").as_double(), 3.92, 1e-9);
    EXPECT_EQ(score().at("count").as_int64(), 3);
    EXPECT_EQ(score().at("counts").at("1").as_int64(), 1);
    // The bad review was reported for follow-up, once.
    EXPECT_EQ(ratings_scalar("SELECT count(*) FROM outbox WHERE event_type = 'rating.bad'"), 1);
    EXPECT_GE(ratings_scalar("SELECT count(*) FROM outbox WHERE event_type = 'rating.score_changed'"), 6);

    const std::string bad = ids[2];
    EXPECT_EQ(call("POST",
                   "/v1/ratings/" + bad + "/appeal/decision",
                   json::object{{"decision", "overturned"}, {"note", "n"}},
                   staff_token(street.community))
                  .status,
              409);  // nothing appealed yet
    auto appealed = call("POST",
                         "/v1/ratings/" + bad + "/appeal",
                         json::object{{"reason", "当天并未上门，订单记录为证"}},
                         provider.access);
    ASSERT_EQ(appealed.status, 200) << appealed.raw.body;
    EXPECT_EQ(
        call("POST", "/v1/ratings/" + bad + "/appeal", json::object{{"reason", "again"}}, provider.access)
            .status,
        409);
    // Staff of another community may not decide; of this one, they overturn it.
    EXPECT_EQ(call("POST",
                   "/v1/ratings/" + bad + "/appeal/decision",
                   json::object{{"decision", "overturned"}, {"note", "核实"}},
                   staff_token(street.community + 1))
                  .status,
              404);
    EXPECT_EQ(call("POST",
                   "/v1/ratings/" + bad + "/appeal/decision",
                   json::object{{"decision", "maybe"}, {"note", "核实"}},
                   staff_token(street.community))
                  .status,
              422);
    auto decided = call("POST",
                        "/v1/ratings/" + bad + "/appeal/decision",
                        json::object{{"decision", "overturned"}, {"note", "核实为恶意差评"}},
                        staff_token(street.community));
    ASSERT_EQ(decided.status, 200) << decided.raw.body;
    EXPECT_FALSE(decided.body.at("counted").as_bool());
    // (4 × 10 + 10) / 12 = 4.1666…: the overturned review left the score; staff still see it.
    EXPECT_NEAR(score().at("score").as_double(), 4.17, 1e-9);
    EXPECT_EQ(score().at("count").as_int64(), 2);
    EXPECT_EQ(call("GET", "/v1/ratings/" + bad, std::nullopt, staff_token(street.community)).status, 200);

    // Upheld: the review stays in the score.
    auto again = new_family("13400000059");
    const auto order = completed(again.user_id, org, worker);
    auto low = rate(again, good(order, 2));
    ASSERT_EQ(low.status, 201);
    const std::string low_id(low.body.at("id").as_string());
    ASSERT_EQ(
        call("POST", "/v1/ratings/" + low_id + "/appeal", json::object{{"reason", "不同意"}}, provider.access)
            .status,
        200);
    auto upheld = call("POST",
                       "/v1/ratings/" + low_id + "/appeal/decision",
                       json::object{{"decision", "upheld"}, {"note", "回访属实"}},
                       staff_token(street.community));
    ASSERT_EQ(upheld.status, 200);
    // (40 + 12) / 13 = 4.0
    EXPECT_NEAR(score().at("score").as_double(), 4.0, 1e-9);
    EXPECT_EQ(ratings_scalar("SELECT count(*) FROM outbox WHERE event_type = 'rating.bad'"), 2);

    // The month's ranking of the community, as JSON and CSV.
    const std::string month = iso(clock.now()).substr(0, 7);
    auto rank =
        call("GET",
             "/v1/ratings/ranking?community_id=" + std::to_string(street.community) + "&month=" + month,
             std::nullopt,
             staff_token(street.community));
    ASSERT_EQ(rank.status, 200) << rank.raw.body;
    ASSERT_EQ(rank.body.at("items").as_array().size(), 1u);
    EXPECT_EQ(rank.body.at("items").as_array()[0].at("reviews").as_int64(), 3);
    auto csv = call("GET",
                    "/v1/ratings/ranking?community_id=" + std::to_string(street.community) +
                        "&month=" + month + "&format=csv",
                    std::nullopt,
                    staff_token(street.community));
    ASSERT_EQ(csv.status, 200);
    EXPECT_EQ(csv.raw.header("Content-Type").value_or(""), "text/csv; charset=utf-8");
    EXPECT_NE(csv.raw.body.find(org), std::string::npos);
    EXPECT_EQ(call("GET",
                   "/v1/ratings/ranking?community_id=" + std::to_string(street.community) + "&month=" + month,
                   std::nullopt,
                   provider.access)
                  .status,
              403);
}

// A nursery booking becomes ratable once the child attended a day (nursery.attended), with the nursery's
// dimensions.
TEST_F(ratings_fixture, an_attended_nursery_booking_is_rated_with_the_nursery_dimensions) {
    auto family = new_family("13400000071");
    const std::string booking = core::new_uuid();
    const std::string nursery = core::new_uuid();
    test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
        redis::client r(client_io, test::redis_settings());
        json::object payload{{"booking_id", booking},
                             {"family_id", family.user_id},
                             {"child_id", core::new_uuid()},
                             {"nursery_id", nursery},
                             {"class_id", core::new_uuid()},
                             {"community_id", street.community},
                             {"days", json::array{"2026-12-01"}}};
        std::vector<std::string> add{"XADD",
                                     "carematch:{region:" + std::to_string(street.street) + "}:nursery",
                                     "*",
                                     "id",
                                     core::new_uuid(),
                                     "type",
                                     "nursery.attended",
                                     "payload",
                                     json::serialize(payload),
                                     "occurred_at",
                                     iso(clock.now())};
        co_await r.command(std::move(add));
    }());
    std::size_t handled = 0;
    for (int i = 0; i < 20 && handled == 0; ++i) {
        handled = test::run_coro(client_io, ratings->consume_once());
    }
    ASSERT_EQ(handled, 1u);
    auto bath_dims = rate(family, good(booking));  // punctuality is not a nursery's dimension
    EXPECT_EQ(bath_dims.status, 422);
    auto r = rate(family,
                  json::object{{"order_id", booking},
                               {"level", 5},
                               {"dimensions", json::object{{"care", 5}, {"communication", 4}}}});
    ASSERT_EQ(r.status, 201) << r.raw.body;
    EXPECT_EQ(r.body.at("kind").as_string(), "nursery");
    EXPECT_EQ(r.body.at("org_id").as_string(), nursery);
}

// The endpoints × roles table of services/ratings/README.md, walked for who may call what at all: 401 for no
// token and for a service token, 403 for a role that never may, anything else for a role that may.
TEST_F(ratings_fixture, the_endpoints_by_roles_table_holds) {
    core::system_clock sys;
    const auth::token_issuer issuer(key, {}, sys);
    auto as = [&](auth::role role) {
        auth::caller who;
        who.id = core::new_uuid();
        who.role = role;
        who.org = role == auth::role::provider || role == auth::role::worker ? core::new_uuid() : "";
        who.communities = role == auth::role::staff ? std::vector<std::int64_t>{street.community}
                                                    : std::vector<std::int64_t>{};
        return issuer.issue(who);
    };
    using r = auth::role;
    const std::vector<std::pair<std::string, std::string>> roles_tokens{
        {"family", as(r::family)},
        {"provider", as(r::provider)},
        {"worker", as(r::worker)},
        {"staff", as(r::staff)},
        {"admin", as(r::admin)},
        {"svc", issuer.issue_service("matching")},
        {"anonymous", ""}};
    const std::string some = "/v1/ratings/" + core::new_uuid();
    struct row {
        const char* method;
        std::string target;
        std::set<std::string> may;  // the roles allowed past the role check
    };
    const std::string community = std::to_string(street.community);
    const std::vector<row> table{
        {"POST", "/v1/ratings", {"family"}},
        {"PUT", some, {"family"}},
        {"GET", some, {"family", "provider", "staff", "admin"}},
        {"GET", "/v1/ratings", {"family", "provider", "staff", "admin"}},
        {"POST", some + "/reply", {"provider"}},
        {"POST", some + "/appeal", {"provider"}},
        {"POST", some + "/appeal/decision", {"staff", "admin"}},
        {"GET",
         "/v1/ratings/organisations/" + core::new_uuid(),
         {"family", "provider", "worker", "staff", "admin"}},
        {"GET", "/v1/ratings/ranking?community_id=" + community + "&month=2026-12", {"staff", "admin"}},
    };
    for (const auto& t : table) {
        for (const auto& [role, token] : roles_tokens) {
            std::optional<json::value> body;
            if (std::string(t.method) != "GET") {
                body = json::object{};
            }
            const int status = call(t.method, t.target, body, token).status;
            if (role == "anonymous" || role == "svc") {
                EXPECT_EQ(status, 401) << t.method << " " << t.target << " as " << role;
            } else if (t.may.contains(role)) {
                EXPECT_TRUE(status != 401 && status != 403)
                    << t.method << " " << t.target << " as " << role << ": " << status;
            } else {
                EXPECT_EQ(status, 403) << t.method << " " << t.target << " as " << role;
            }
        }
    }
}

}  // namespace
}  // namespace carematch::ratings
