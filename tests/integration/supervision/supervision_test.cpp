// supervision against the real PostgreSQL and Redis: figures on a known sequence of events (orders, offers,
// ratings, complaints) arriving from their streams, per day and in total, as JSON and CSV; the watchlist; the
// same figures after a rebuild from the streams; and who may read which community or district.
#include "support/region_tree.hpp"
#include "support/run_coro.hpp"
#include "support/test_server.hpp"

#include <carematch/auth/jwt.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/http/client.hpp>
#include <carematch/http/router.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/supervision/app.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <cstdio>
#include <map>

namespace carematch::supervision {
namespace {

namespace json = boost::json;

class supervision_fixture : public ::testing::Test {
  protected:
    supervision_fixture() {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_SUPERVISION_SUPERVISION_SCHEMA", schema},
            {"CAREMATCH_SUPERVISION_REGIONS_FILE", tree.path},
            {"CAREMATCH_SUPERVISION_RATINGS_STREAM", ratings_stream},
            {"CAREMATCH_SUPERVISION_COMPLAINTS_STREAM", complaints_stream},
            {"CAREMATCH_SUPERVISION_PROVIDERS_STREAM", providers_stream},
            {"CAREMATCH_SUPERVISION_CONSUMER_GROUP", "supervision-" + schema},
        };
        core::config_source src(
            "", "supervision", [env](const std::string& name) -> std::optional<std::string> {
                auto it = env.find(name);
                return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
            });
        auto cfg = read_config(src);
        src.reject_unknown();
        sv = std::make_unique<app>(io, cfg);
        sv->start();
        sv->add_routes(routes);
        server = std::make_unique<test::test_server>(io, routes.as_handler());
    }
    ~supervision_fixture() override {
        server.reset();
        sv.reset();
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> del{"DEL",
                                         ratings_stream,
                                         complaints_stream,
                                         providers_stream,
                                         stream("orders"),
                                         stream("matching"),
                                         stream("nursery")};
            co_await r.command(std::move(del));
        }());
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }

    std::string stream(const char* what) const {
        return "carematch:{region:" + std::to_string(tree.street) + "}:" + what;
    }

    void publish(const std::string& to,
                 const std::string& type,
                 const std::string& at,
                 const json::object& p) {
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> add{"XADD",
                                         to,
                                         "*",
                                         "id",
                                         core::new_uuid(),
                                         "type",
                                         type,
                                         "payload",
                                         json::serialize(p),
                                         "occurred_at",
                                         at};
            co_await r.command(std::move(add));
        }());
        ++published;
    }

    // Hands every event published so far to supervision.
    void consume_all() {
        while (handled < published) {
            auto n = test::run_coro(client_io, sv->consume_once());
            handled += n;
            if (n == 0 && handled < published) {
                ++idle_passes;
                ASSERT_LT(idle_passes, 50) << handled << " of " << published << " events handled";
            }
        }
    }

    struct reply {
        int status = 0;
        std::string body;
        std::string type;
    };
    reply get(const std::string& target, const std::string& tok, const std::string& method = "GET") {
        http::outgoing o;
        o.method = method;
        o.target = target;
        if (!tok.empty()) {
            o.headers.emplace_back("Authorization", "Bearer " + tok);
        }
        auto r = test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
        if (!r) {
            throw std::runtime_error("request failed");
        }
        return {r->status, r->body, std::string(r->header("content-type").value_or(""))};
    }

    std::string token(auth::role role, std::vector<std::int64_t> communities = {}) {
        auth::caller who;
        who.id = core::new_uuid();
        who.role = role;
        who.communities = std::move(communities);
        return auth::token_issuer(key, {}, runtime::wall_clock()).issue(who);
    }

    // A known day in the community: four orders, two reviews, two tickets; and an order elsewhere.
    void a_known_day() {
        const auto c = tree.community;
        const auto a = core::new_uuid(), b = core::new_uuid(), p = core::new_uuid(), d = core::new_uuid();
        auto created = [&](const std::string& id, std::int64_t community, bool priority, const char* at) {
            json::array cats;
            if (priority) {
                cats.push_back("living_alone");
            }
            publish(stream("orders"),
                    "order.created",
                    at,
                    json::object{{"order_id", id},
                                 {"community_id", community},
                                 {"kind", "bath"},
                                 {"priority_categories", std::move(cats)}});
        };
        // Events of one order arrive from two streams in any order: A's assignment comes before its creation.
        publish(stream("matching"),
                "order.assigned",
                "2026-11-20T01:00:30Z",
                json::object{{"order_id", a}, {"community_id", c}, {"offer_id", core::new_uuid()}});
        created(a, c, true, "2026-11-20T01:00:00Z");
        publish(stream("orders"),
                "order.completed",
                "2026-11-20T03:00:00Z",
                json::object{{"order_id", a}, {"community_id", c}, {"status", "completed"}});
        created(b, c, false, "2026-11-20T02:00:00Z");
        publish(stream("orders"),
                "order.expired",
                "2026-11-20T04:00:00Z",
                json::object{{"order_id", b}, {"status", "expired"}, {"community_id", c}});
        created(p, c, true, "2026-11-20T02:30:00Z");
        publish(stream("orders"),
                "order.expired",
                "2026-11-20T05:00:00Z",
                json::object{{"order_id", p}, {"status", "expired"}, {"community_id", c}});
        created(d, c, false, "2026-11-20T03:00:00Z");
        publish(stream("matching"),
                "order.assigned",
                "2026-11-20T03:02:00Z",
                json::object{{"order_id", d}, {"community_id", c}});
        publish(stream("orders"),
                "order.cancelled",
                "2026-11-20T03:10:00Z",
                json::object{{"order_id", d}, {"community_id", c}, {"status", "cancelled"}});
        created(core::new_uuid(), c + 1, true, "2026-11-20T03:00:00Z");  // another community

        const auto bad = core::new_uuid();
        publish(ratings_stream,
                "rating.created",
                "2026-11-20T06:00:00Z",
                json::object{{"review_id", bad}, {"community_id", c}, {"org_id", org}, {"level", 1}});
        publish(ratings_stream,
                "rating.created",
                "2026-11-20T06:10:00Z",
                json::object{
                    {"review_id", core::new_uuid()}, {"community_id", c}, {"org_id", org}, {"level", 5}});
        publish(ratings_stream,
                "rating.score_changed",
                "2026-11-20T06:10:00Z",
                json::object{{"subject_type", "org"}, {"subject_id", org}, {"score", 2.8}, {"count", 5}});
        const auto t1 = core::new_uuid(), t2 = core::new_uuid();
        auto ticket = [&](const char* type,
                          const std::string& id,
                          const char* severity,
                          const char* at,
                          json::object extra) {
            extra["ticket_id"] = id;
            extra["community_id"] = c;
            extra["severity"] = severity;
            publish(complaints_stream, type, at, extra);
        };
        ticket("complaint.filed", t1, "urgent", "2026-11-20T07:00:00Z", json::object{{"org_id", org}});
        ticket("complaint.sla_breached", t1, "urgent", "2026-11-20T09:00:00Z", {});
        ticket(
            "complaint.resolved", t1, "urgent", "2026-11-20T10:00:00Z", json::object{{"outcome", "upheld"}});
        ticket("complaint.closed", t1, "urgent", "2026-11-20T12:00:00Z", json::object{{"review_id", bad}});
        ticket("complaint.filed", t2, "normal", "2026-11-20T08:00:00Z", {});
        // A nursery of 30 places in the community (5,000 residents), saved twice: the latest places count.
        const auto nursery = core::new_uuid();
        for (int places : {20, 30}) {
            publish(stream("nursery"),
                    "nursery.saved",
                    "2026-11-20T09:00:00Z",
                    json::object{{"nursery_id", nursery}, {"community_id", c}, {"licensed_places", places}});
        }
        consume_all();
    }

    test::region_tree tree{8100, 8999};
    std::string schema = test::unique_schema("sv");
    std::string ratings_stream = "carematch:{ratings}:sv-" + core::new_uuid();
    std::string complaints_stream = "carematch:{complaints}:sv-" + core::new_uuid();
    std::string providers_stream = "carematch:{providers}:sv-" + core::new_uuid();
    std::string org = core::new_uuid();
    auth::signing_key key = auth::generate_signing_key("sv1");
    boost::asio::io_context io{2};
    boost::asio::io_context client_io;
    http::client client{client_io};
    http::router routes;
    std::unique_ptr<app> sv;
    std::unique_ptr<test::test_server> server;
    std::size_t published = 0, handled = 0;
    int idle_passes = 0;
};

TEST_F(supervision_fixture, figures_of_a_known_day_per_day_and_in_total_and_again_after_a_rebuild) {
    a_known_day();
    const auto staff = token(auth::role::staff, {tree.community});
    const std::string target =
        "/v1/supervision/communities/" + std::to_string(tree.community) + "?from=2026-11-20&to=2026-11-21";
    auto r = get(target, staff);
    ASSERT_EQ(r.status, 200) << r.body;
    auto f = json::parse(r.body);
    const auto& day = f.at("days").at(0);
    EXPECT_EQ(day.at("day"), "2026-11-20");
    const auto& o = day.at("orders");
    EXPECT_EQ(o.at("created"), 4);
    EXPECT_EQ(o.at("completed"), 1);
    EXPECT_EQ(o.at("cancelled"), 1);
    EXPECT_EQ(o.at("expired"), 2);
    EXPECT_EQ(o.at("priority"), 2);
    EXPECT_EQ(o.at("expired_priority"), 1);
    EXPECT_NEAR(o.at("fulfilment_rate").as_double(), 1.0 / 3, 1e-9);
    EXPECT_NEAR(o.at("assigned_after_s").at("p50").as_double(), 75, 1e-6);  // 30 s and 120 s
    EXPECT_NEAR(o.at("assigned_after_s").at("p95").as_double(), 115.5, 1e-6);
    const auto& rt = day.at("ratings");
    EXPECT_EQ(rt.at("count"), 2);
    EXPECT_EQ(rt.at("by_level"), (json::array{1, 0, 0, 0, 1}));
    EXPECT_NEAR(rt.at("mean_level").as_double(), 3, 1e-9);
    EXPECT_EQ(rt.at("bad"), 1);
    EXPECT_EQ(rt.at("bad_followed_up"), 1);
    EXPECT_NEAR(rt.at("followup_rate").as_double(), 1, 1e-9);
    const auto& cm = day.at("complaints");
    EXPECT_EQ(cm.at("filed"), 2);
    EXPECT_EQ(cm.at("sla_breaches"), 1);
    EXPECT_NEAR(cm.at("median_resolve_h").as_double(), 3, 1e-9);
    EXPECT_EQ(cm.at("backlog"), 1);  // the urgent one closed the same evening
    const auto& next = f.at("days").at(1);
    EXPECT_EQ(next.at("orders").at("created"), 0);
    EXPECT_EQ(next.at("complaints").at("backlog"), 1);
    EXPECT_EQ(f.at("total").at("orders").at("created"), 4);
    EXPECT_EQ(f.at("total").at("complaints").at("backlog"), 1);
    EXPECT_EQ(f.at("nursery").at("places"), 30);
    EXPECT_EQ(f.at("nursery").at("residents"), 5000);
    EXPECT_NEAR(f.at("nursery").at("per_1000").as_double(), 6.0, 1e-9);
    EXPECT_NEAR(f.at("nursery").at("target_per_1000").as_double(), 4.5, 1e-9);

    auto csv = get(target + "&format=csv", staff);
    ASSERT_EQ(csv.status, 200);
    EXPECT_EQ(csv.type, "text/csv; charset=utf-8");
    EXPECT_NE(csv.body.find("\n2026-11-20,4,1,1,2,0,1,"), std::string::npos) << csv.body;
    EXPECT_NE(csv.body.find("\n2026-11-21,0,0,0,0,0,0,"), std::string::npos) << csv.body;

    publish(providers_stream,
            "provider.suspended",
            "2026-11-21T01:00:00Z",
            json::object{{"org_id", org}, {"until", "2099-01-01T00:00:00Z"}, {"reason", "complaint"}});
    consume_all();
    auto watch = get("/v1/supervision/watchlist?community_id=" + std::to_string(tree.community), staff);
    ASSERT_EQ(watch.status, 200) << watch.body;
    auto items = json::parse(watch.body).at("items").as_array();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].at("org_id").as_string(), org);
    EXPECT_EQ(items[0].at("reasons"),
              (json::array{"score_below_threshold", "complaints_last_30_days", "suspended"}));
    EXPECT_EQ(items[0].at("suspended_until"), "2099-01-01T00:00:00Z");

    // Another organisation, known only from its workers: one credential expired, one running out in 10 days,
    // a worker suspended; a third with a credential good for a year stays off the list.
    const auto day_from_now = [](int days) {
        const auto local = std::chrono::system_clock::now() + std::chrono::hours(8) + std::chrono::days(days);
        const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(local)};
        char buf[16];
        std::snprintf(buf,
                      sizeof buf,
                      "%04d-%02u-%02u",
                      static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()),
                      static_cast<unsigned>(ymd.day()));
        return std::string(buf);
    };
    const auto org2 = core::new_uuid(), org3 = core::new_uuid();
    const auto w1 = core::new_uuid(), w2 = core::new_uuid(), w3 = core::new_uuid();
    auto worker = [&](const std::string& id, const std::string& o, json::array creds) {
        publish(
            providers_stream,
            "worker.updated",
            "2026-11-21T02:00:00Z",
            json::object{
                {"worker_id", id}, {"org_id", o}, {"community_id", tree.community}, {"credentials", creds}});
    };
    worker(w1,
           org2,
           json::array{json::object{{"type", "health_certificate"}, {"expires_on", day_from_now(-5)}},
                       json::object{{"type", "bathing_certificate"}, {"expires_on", day_from_now(400)}}});
    worker(w2,
           org2,
           json::array{json::object{{"type", "health_certificate"}, {"expires_on", day_from_now(10)}}});
    worker(w3,
           org3,
           json::array{json::object{{"type", "health_certificate"}, {"expires_on", day_from_now(365)}}});
    publish(providers_stream,
            "worker.suspended",
            "2026-11-21T03:00:00Z",
            json::object{
                {"worker_id", w2}, {"org_id", org2}, {"until", "2099-01-01T00:00:00Z"}, {"reason", "x"}});
    // w1 renews the expired certificate: what a later worker.updated says replaces what was kept.
    worker(w1,
           org2,
           json::array{json::object{{"type", "health_certificate"}, {"expires_on", day_from_now(200)}},
                       json::object{{"type", "bathing_certificate"}, {"expires_on", day_from_now(400)}}});
    worker(w1,
           org2,
           json::array{json::object{{"type", "health_certificate"}, {"expires_on", day_from_now(-5)}},
                       json::object{{"type", "bathing_certificate"}, {"expires_on", day_from_now(400)}}});
    consume_all();
    watch = get("/v1/supervision/watchlist?community_id=" + std::to_string(tree.community), staff);
    ASSERT_EQ(watch.status, 200) << watch.body;
    items = json::parse(watch.body).at("items").as_array();
    ASSERT_EQ(items.size(), 2u) << watch.body;
    const auto& by_workers = items[0].at("org_id").as_string() == org2 ? items[0] : items[1];
    EXPECT_EQ(by_workers.at("org_id").as_string(), org2);
    EXPECT_EQ(by_workers.at("reasons"),
              (json::array{"workers_suspended", "credentials_expired", "credentials_expiring_30_days"}));
    EXPECT_EQ(by_workers.at("workers_suspended"), 1);
    EXPECT_EQ(by_workers.at("credentials_expired"), 1);
    EXPECT_EQ(by_workers.at("credentials_expiring_30d"), 1);
    EXPECT_EQ(by_workers.at("next_credential_expiry").as_string(), day_from_now(10));

    // Read again from the streams: the same figures.
    const auto admin = token(auth::role::admin);
    EXPECT_EQ(get("/v1/supervision/rebuild", staff, "POST").status, 403);
    ASSERT_EQ(get("/v1/supervision/rebuild", admin, "POST").status, 202);
    EXPECT_EQ(json::parse(get(target, staff).body).at("total").at("orders").at("created"), 0);  // forgotten
    handled = 0;
    idle_passes = 0;
    consume_all();
    EXPECT_EQ(get(target, staff).body, r.body);
    EXPECT_EQ(get("/v1/supervision/watchlist?community_id=" + std::to_string(tree.community), staff).body,
              watch.body);
}

// Staff read their communities (and a district whose every community they hold); others get 403; bad spans
// and formats are refused.
TEST_F(supervision_fixture, who_may_read_which_community_or_district) {
    const auto community = std::to_string(tree.community);
    const auto district = std::to_string(tree.street / 100 * 100);
    const auto mine = token(auth::role::staff, {tree.community});
    const auto other = token(auth::role::staff, {tree.community + 1});
    const auto admin = token(auth::role::admin);
    EXPECT_EQ(get("/v1/supervision/communities/" + community, "").status, 401);
    EXPECT_EQ(get("/v1/supervision/communities/" + community, token(auth::role::family)).status, 403);
    EXPECT_EQ(get("/v1/supervision/communities/" + community, token(auth::role::provider)).status, 403);
    EXPECT_EQ(get("/v1/supervision/communities/" + community, other).status, 403);
    EXPECT_EQ(get("/v1/supervision/communities/" + community, mine).status, 200);
    EXPECT_EQ(get("/v1/supervision/communities/" + community, admin).status, 200);
    EXPECT_EQ(get("/v1/supervision/watchlist?community_id=" + community, other).status, 403);
    EXPECT_EQ(get("/v1/supervision/districts/" + district, mine).status, 200);
    EXPECT_EQ(get("/v1/supervision/districts/" + district, other).status, 403);
    EXPECT_EQ(get("/v1/supervision/districts/" + district, admin).status, 200);
    EXPECT_EQ(get("/v1/supervision/districts/999999", admin).status, 404);
    for (const char* q : {"?from=2026-13-01",
                          "?from=2026-11-21&to=2026-11-20",
                          "?from=2020-01-01&to=2026-11-20",
                          "?format=xml",
                          "?to=tomorrow"}) {
        auto r = get("/v1/supervision/communities/" + community + q, mine);
        EXPECT_EQ(r.status, 422) << q;
        EXPECT_EQ(r.type, "application/problem+json") << q;
    }
    EXPECT_EQ(get("/v1/supervision/communities/12abc", mine).status, 422);
}

}  // namespace
}  // namespace carematch::supervision
