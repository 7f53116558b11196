// providers against the real PostgreSQL and Redis, beside identity: organisations and their review, worker
// profiles, presence in the GEO candidate sets (expired credentials, offline, a missed heartbeat,
// suspension), availability windows, canteens.
#include "integration/identity/identity_fixture.hpp"
#include "support/roles_table.hpp"

#include <carematch/providers/app.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/runtime/scores.hpp>

#include <random>

namespace carematch::providers {
namespace {

namespace json = boost::json;

class providers_fixture : public identity::test_support::identity_fixture {
  protected:
    providers_fixture() {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_PROVIDERS_PROVIDERS_SCHEMA", providers_schema},
            {"CAREMATCH_PROVIDERS_COMPLAINTS_STREAM", complaints_stream},
            {"CAREMATCH_PROVIDERS_CATALOG_FILE", std::string(CAREMATCH_SOURCE_DIR) + "/config/catalog.json"},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_AUTH_DATA_KEY", cfg.auth.data_key},  // identity's: the sealed address travels
        };
        core::config_source src(
            "", "providers", [env](const std::string& name) -> std::optional<std::string> {
                auto it = env.find(name);
                return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
            });
        auto cfg = read_config(src);
        src.reject_unknown();
        providers = std::make_unique<app>(io, cfg, clock);
        providers->start();
        providers->add_routes(routes);
    }
    ~providers_fixture() override {
        server.reset();
        providers.reset();
        // This test's presence shard and its events.
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            const std::string tag = "carematch:{region:" + std::to_string(community / 1000) + "}";
            std::vector<std::string> del{"DEL",
                                         complaints_stream,
                                         tag + ":seen",
                                         tag + ":online:bath",
                                         tag + ":online:cleaning",
                                         tag + ":online:medical_visit",
                                         tag + ":online:meal"};
            co_await r.command(std::move(del));
        }());
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + providers_schema + " CASCADE");
        tx.commit();
    }

    // Each test has its own street (a presence shard of its own): tests may run side by side.
    static std::int64_t random_community() {
        std::random_device rd;
        return std::uniform_int_distribution<std::int64_t>(900000, 999999)(rd) * 1000 + 1;
    }

    json::object organisation(const char* kind = "home_care") const {
        json::object o{{"kind", kind},
                       {"name", "安心家政"},
                       {"community_id", community},
                       {"address", "安定门东大街 20 号"},
                       {"location", json::object{{"lat", 39.9485}, {"lon", 116.4120}}}};
        if (std::string(kind) == "nursery" || std::string(kind) == "home_nursery_point") {
            o["registration_number"] = "京托备 2026-0001";
        }
        return o;
    }

    // A provider whose organisation is filed (and approved unless told otherwise).
    session approved_provider(const std::string& phone, const char* kind = "home_care", bool approve = true) {
        auto p = new_provider(phone);
        auto filed = call("PUT", "/v1/providers/me/organisation", organisation(kind), p.access);
        EXPECT_EQ(filed.status, 200) << filed.raw.body;
        if (approve) {
            auto ok = call("POST",
                           "/v1/providers/organisations/" + org_of(p) + "/approve",
                           std::nullopt,
                           admin().access);
            EXPECT_EQ(ok.status, 200) << ok.raw.body;
        }
        return p;
    }

    std::string org_of(const session& s) {
        return std::string(call("GET", "/v1/auth/me", std::nullopt, s.access).body.at("org_id").as_string());
    }

    // An approved provider with one worker; returns {provider session, worker session, worker id}.
    std::tuple<session, session, std::string> provider_with_worker() {
        auto p = approved_provider("13600000901");
        auto w = new_worker(p, "13600000902");
        return {p, w, w.user_id};
    }

    std::string service_token() {
        core::system_clock sys;
        return auth::token_issuer(key, {}, sys).issue_service("matching");
    }

    std::string staff_token(std::int64_t scope) {
        core::system_clock sys;
        auth::caller staff;
        staff.id = core::new_uuid();
        staff.role = auth::role::staff;
        staff.communities = {scope};
        return auth::token_issuer(key, {}, sys).issue(staff);
    }

    std::vector<std::string> candidates(const std::string& kind, const std::string& window = "") {
        auto r = call(
            "GET",
            "/v1/internal/providers/candidates?kind=" + kind +
                "&lat=39.9489&lon=116.4128&radius_m=3000&community_id=" + std::to_string(community) + window,
            std::nullopt,
            service_token());
        EXPECT_EQ(r.status, 200) << r.raw.body;
        std::vector<std::string> ids;
        if (r.status == 200) {
            for (const auto& x : r.body.at("items").as_array()) {
                ids.emplace_back(x.at("worker_id").as_string());
            }
        }
        return ids;
    }

    long long outbox_count(const std::string& type) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        return tx
            .exec_params("SELECT count(*) FROM " + providers_schema + ".outbox WHERE event_type = $1",
                         type)[0][0]
            .as<long long>();
    }

    static json::object profile(const char* bath_expiry) {
        return json::object{
            {"name", "周阿姨"},
            {"gender", "female"},
            {"languages", json::array{"mandarin"}},
            {"kinds", json::array{"bath", "cleaning"}},
            {"home", json::object{{"lat", 39.95}, {"lon", 116.41}}},
            {"radius_km", 5},
            {"credentials",
             json::array{
                 json::object{
                     {"type", "bathing_certificate"}, {"number", "B-1"}, {"expires_on", bath_expiry}},
                 json::object{
                     {"type", "health_certificate"}, {"number", "H-1"}, {"expires_on", "2099-01-01"}}}}};
    }

    std::string complaints_stream = "carematch:{complaints}:providers-test-" + core::new_uuid();
    std::string providers_schema = test::unique_schema("providers");
    std::int64_t community = random_community();
    core::manual_clock clock{std::chrono::system_clock::now()};
    std::unique_ptr<app> providers;
};

TEST_F(providers_fixture, an_expired_credential_keeps_a_worker_out_of_that_kinds_candidates) {
    auto [p, w, wid] = provider_with_worker();
    auto put = call("PUT", "/v1/providers/workers/" + wid, profile("2020-01-01"), p.access);
    ASSERT_EQ(put.status, 200) << put.raw.body;
    EXPECT_EQ(put.body.at("eligible_kinds"), (json::array{"cleaning"}));
    {
        // The event tells others the organisation, community and each credential's expiry, never its number.
        pqxx::connection cn(test::db_url());
        pqxx::work tx(cn);
        auto row = tx.exec_params1("SELECT payload::text FROM " + providers_schema +
                                   ".outbox WHERE event_type = 'worker.updated' ORDER BY id DESC LIMIT 1");
        auto fact = json::parse(row[0].as<std::string>()).as_object();
        EXPECT_EQ(fact.at("worker_id").as_string(), wid);
        EXPECT_EQ(fact.at("org_id").as_string(), org_of(p));
        EXPECT_EQ(fact.at("community_id"), community);
        bool bath = false;
        for (const auto& cr : fact.at("credentials").as_array()) {
            EXPECT_FALSE(cr.as_object().contains("number"));
            bath = bath || (cr.at("type") == "bathing_certificate" && cr.at("expires_on") == "2020-01-01");
        }
        EXPECT_TRUE(bath) << json::serialize(fact);
    }
    auto online =
        call("POST", "/v1/providers/me/online", json::object{{"lat", 39.9490}, {"lon", 116.4130}}, w.access);
    ASSERT_EQ(online.status, 200) << online.raw.body;
    EXPECT_EQ(candidates("cleaning"), std::vector<std::string>{wid});
    EXPECT_TRUE(candidates("bath").empty());
    // The certificate renewed: the next heartbeat puts them back into bath candidates.
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    ASSERT_EQ(
        call(
            "POST", "/v1/providers/me/heartbeat", json::object{{"lat", 39.9490}, {"lon", 116.4130}}, w.access)
            .status,
        200);
    EXPECT_EQ(candidates("bath"), std::vector<std::string>{wid});
}

// Credentials expire at the end of their local day: from 16:00 UTC (00:00 in China) the day after expires_on
// has begun, although the UTC date is still expires_on.
TEST_F(providers_fixture, a_credential_expires_at_local_midnight_not_at_utc_midnight) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2026-03-01"), p.access).status, 200);
    const auto day = std::chrono::sys_days(std::chrono::year{2026} / std::chrono::March / 1);
    auto eligible_at = [&, wid = wid](core::clock::time_point t) {
        clock.advance(t - clock.now());
        auth::caller admin;
        admin.id = core::new_uuid();
        admin.role = auth::role::admin;
        auto r = call("GET",
                      "/v1/providers/workers/" + wid,
                      std::nullopt,
                      auth::token_issuer(key, {}, clock).issue(admin));  // a token of that moment
        EXPECT_EQ(r.status, 200) << r.raw.body;
        return r.body.at("eligible_kinds");
    };
    EXPECT_EQ(eligible_at(day + std::chrono::hours(15) + std::chrono::minutes(59)),
              (json::array{"bath", "cleaning"}));  // 23:59 on 1 March in China
    EXPECT_EQ(eligible_at(day + std::chrono::hours(23) + std::chrono::minutes(30)),
              (json::array{"cleaning"}));  // 07:30 on 2 March in China, 23:30 on 1 March in UTC
}

TEST_F(providers_fixture, offline_and_a_missed_heartbeat_take_a_worker_out) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    const json::object here{{"lat", 39.9490}, {"lon", 116.4130}};
    ASSERT_EQ(call("POST", "/v1/providers/me/online", here, w.access).status, 200);
    ASSERT_EQ(candidates("bath").size(), 1u);
    ASSERT_EQ(call("POST", "/v1/providers/me/offline", std::nullopt, w.access).status, 200);
    EXPECT_TRUE(candidates("bath").empty());

    ASSERT_EQ(call("POST", "/v1/providers/me/online", here, w.access).status, 200);
    clock.advance(std::chrono::seconds(60));
    EXPECT_EQ(test::run_coro(client_io, providers->sweep()), 0u);  // 60 s without a heartbeat: still in
    EXPECT_EQ(candidates("cleaning").size(), 1u);
    clock.advance(std::chrono::seconds(31));
    EXPECT_EQ(test::run_coro(client_io, providers->sweep()), 1u);  // 91 s: out
    EXPECT_TRUE(candidates("cleaning").empty());
    EXPECT_TRUE(candidates("bath").empty());
}

TEST_F(providers_fixture, suspension_takes_a_worker_out_at_once_and_refuses_online) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    const json::object here{{"lat", 39.9490}, {"lon", 116.4130}};
    ASSERT_EQ(call("POST", "/v1/providers/me/online", here, w.access).status, 200);
    const json::object body{{"reason", "complaint under review"}, {"until", "2099-01-01T00:00:00Z"}};
    EXPECT_EQ(call("POST", "/v1/providers/workers/" + wid + "/suspend", body, p.access).status, 403);
    EXPECT_EQ(call("POST", "/v1/providers/workers/" + wid + "/suspend", body, staff_token(110101001)).status,
              404);  // staff of another community
    EXPECT_TRUE(!candidates("bath").empty());
    // An end that has passed would suspend nobody: 422, and nothing changes.
    for (const char* past : {"2000-01-01T00:00:00Z", "2026-01-01T07:00:00+08:00"}) {
        auto r = call("POST",
                      "/v1/providers/workers/" + wid + "/suspend",
                      json::object{{"reason", "late"}, {"until", past}},
                      admin().access);
        EXPECT_EQ(r.status, 422) << past << " " << r.raw.body;
        EXPECT_EQ(r.body.at("field"), "until");
    }
    EXPECT_TRUE(!candidates("bath").empty());
    ASSERT_EQ(call("POST", "/v1/providers/workers/" + wid + "/suspend", body, admin().access).status, 200);
    EXPECT_TRUE(candidates("bath").empty());
    EXPECT_EQ(call("POST", "/v1/providers/me/online", here, w.access).status, 409);
    EXPECT_TRUE(
        call("GET", "/v1/providers/workers/" + wid, std::nullopt, w.access).body.at("suspended").as_bool());
}

// A suspension staff ordered when resolving a complaint reaches providers as an event and takes the worker
// out as their own suspension would; a repeat of the event changes nothing more.
TEST_F(providers_fixture, a_suspension_ordered_by_a_complaint_takes_the_worker_out) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    ASSERT_EQ(
        call("POST", "/v1/providers/me/online", json::object{{"lat", 39.9490}, {"lon", 116.4130}}, w.access)
            .status,
        200);
    ASSERT_FALSE(candidates("bath").empty());
    const auto event_id = core::new_uuid();
    for (int i = 0; i < 2; ++i) {  // the relay may deliver it twice
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> add{"XADD",
                                         complaints_stream,
                                         "*",
                                         "id",
                                         event_id,
                                         "type",
                                         "complaint.suspension_ordered",
                                         "payload",
                                         json::serialize(json::object{{"ticket_id", core::new_uuid()},
                                                                      {"target", "worker"},
                                                                      {"subject_id", wid},
                                                                      {"until", "2099-01-01T00:00:00Z"},
                                                                      {"reason", "complaint t-1"},
                                                                      {"actor_id", core::new_uuid()}}),
                                         "occurred_at",
                                         "2026-11-28T01:00:00Z"};
            co_await r.command(std::move(add));
        }());
    }
    std::size_t seen = 0;
    for (int i = 0; i < 20 && seen < 2; ++i) {
        seen += test::run_coro(client_io, providers->consume_once());
    }
    EXPECT_EQ(seen, 2u);
    EXPECT_TRUE(candidates("bath").empty());
    EXPECT_TRUE(
        call("GET", "/v1/providers/workers/" + wid, std::nullopt, w.access).body.at("suspended").as_bool());
    EXPECT_EQ(outbox_count("worker.suspended"), 1);
}

TEST_F(providers_fixture, an_organisation_writes_only_its_own_workers) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    auto q = approved_provider("13600000903");
    EXPECT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), q.access).status, 404);
    EXPECT_EQ(call("GET", "/v1/providers/workers/" + wid, std::nullopt, q.access).status, 404);
    auto bad = profile("2099-01-01");
    bad["kinds"] = json::array{"juggling"};
    EXPECT_EQ(call("PUT", "/v1/providers/workers/" + wid, bad, p.access).body.at("field").as_string(),
              "kinds");
    bad = profile("01/01/2099");
    EXPECT_EQ(call("PUT", "/v1/providers/workers/" + wid, bad, p.access).body.at("field").as_string(),
              "credentials");
    EXPECT_EQ(
        call("POST", "/v1/providers/me/online", json::object{{"lat", 51.5}, {"lon", -0.1}}, w.access).status,
        422);
}

TEST_F(providers_fixture, an_organisation_is_reviewed_before_its_workers_may_work) {
    auto p = new_provider("13600000911");
    auto a = admin();
    auto nursery = organisation("nursery");
    nursery.erase("registration_number");
    auto unregistered = call("PUT", "/v1/providers/me/organisation", nursery, p.access);
    EXPECT_EQ(unregistered.status, 422);
    EXPECT_EQ(unregistered.body.at("field").as_string(), "registration_number");
    EXPECT_EQ(call("GET", "/v1/providers/me/organisation", std::nullopt, p.access).status,
              404);  // nothing filed

    auto filed = call("PUT", "/v1/providers/me/organisation", organisation("nursery"), p.access);
    ASSERT_EQ(filed.status, 200) << filed.raw.body;
    EXPECT_EQ(filed.body.at("status").as_string(), "pending");
    const std::string org(filed.body.at("id").as_string());
    const std::string base = "/v1/providers/organisations/" + org;

    auto w = new_worker(p, "13600000912");
    EXPECT_EQ(call("PUT", "/v1/providers/workers/" + w.user_id, profile("2099-01-01"), p.access).status,
              409);  // workers wait for the approval

    EXPECT_EQ(call("POST", base + "/approve", std::nullopt, p.access).status, 403);
    EXPECT_EQ(call("POST", base + "/approve", std::nullopt, staff_token(community)).status, 403);
    EXPECT_EQ(call("POST", base + "/reject", json::object{{"reason", ""}}, a.access).status, 422);
    EXPECT_EQ(call("GET", base, std::nullopt, a.access).body.at("status").as_string(), "pending");
    auto rejected = call(
        "POST", base + "/reject", json::object{{"reason", "number not in the district register"}}, a.access);
    ASSERT_EQ(rejected.status, 200) << rejected.raw.body;
    EXPECT_EQ(rejected.body.at("status").as_string(), "rejected");
    EXPECT_EQ(rejected.body.at("status_reason").as_string(), "number not in the district register");
    EXPECT_EQ(outbox_count("provider.rejected"), 1);

    // Filed again, it is reviewed again; approved once, then its details are fixed.
    EXPECT_EQ(call("PUT", "/v1/providers/me/organisation", organisation("nursery"), p.access)
                  .body.at("status")
                  .as_string(),
              "pending");
    auto approved = call("POST", base + "/approve", std::nullopt, a.access);
    ASSERT_EQ(approved.status, 200) << approved.raw.body;
    EXPECT_EQ(approved.body.at("status").as_string(), "approved");
    EXPECT_EQ(call("POST", base + "/approve", std::nullopt, a.access).status, 409);
    EXPECT_EQ(call("PUT", "/v1/providers/me/organisation", organisation("clinic"), p.access).status, 409);
    EXPECT_EQ(outbox_count("provider.approved"), 1);
    EXPECT_EQ(call("PUT", "/v1/providers/workers/" + w.user_id, profile("2099-01-01"), p.access).status, 200);

    // Who sees it: its own people, staff of its community, admins, services.
    EXPECT_EQ(call("GET", base, std::nullopt, w.access).status, 200);
    EXPECT_EQ(call("GET", base, std::nullopt, staff_token(community)).status, 200);
    EXPECT_EQ(call("GET", base, std::nullopt, service_token()).status, 200);
    EXPECT_EQ(call("GET", base, std::nullopt, staff_token(110101001)).status, 404);
    EXPECT_EQ(call("GET", base, std::nullopt, approved_provider("13600000913").access).status, 404);
    EXPECT_EQ(call("GET", base, std::nullopt, new_family("13700000911").access).status, 403);
    auto queue = call("GET", "/v1/providers/organisations?status=approved", std::nullopt, a.access);
    ASSERT_EQ(queue.status, 200);
    EXPECT_EQ(queue.body.at("items").as_array().size(), 2u);
    EXPECT_TRUE(call("GET", "/v1/providers/organisations", std::nullopt, staff_token(110101001))
                    .body.at("items")
                    .as_array()
                    .empty());
    EXPECT_EQ(call("GET", "/v1/providers/organisations?status=maybe", std::nullopt, a.access).status, 422);

    // The rule lives in the database too.
    pqxx::connection c(test::db_url());
    pqxx::work tx(c);
    EXPECT_THROW(
        tx.exec("INSERT INTO " + providers_schema +
                ".organisations (id, kind, name, community_id, address, lat, lon)"
                " VALUES (gen_random_uuid(), 'home_nursery_point', 'x', 110101001, 'x', 39.9, 116.4)"),
        pqxx::check_violation);
}

TEST_F(providers_fixture, suspending_an_organisation_takes_all_its_workers_out_at_once) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    const json::object here{{"lat", 39.9490}, {"lon", 116.4130}};
    ASSERT_EQ(call("POST", "/v1/providers/me/online", here, w.access).status, 200);
    ASSERT_EQ(candidates("bath"), std::vector<std::string>{wid});
    const std::string target = "/v1/providers/organisations/" + org_of(p) + "/suspend";
    const json::object body{{"reason", "food safety inspection"}, {"until", "2099-01-01T00:00:00Z"}};
    EXPECT_EQ(call("POST", target, body, p.access).status, 403);
    EXPECT_EQ(call("POST", target, body, staff_token(110101001)).status, 404);
    EXPECT_EQ(call("POST", target, json::object{{"reason", "x"}, {"until", "soon"}}, staff_token(community))
                  .body.at("field")
                  .as_string(),
              "until");
    EXPECT_EQ(candidates("bath"), std::vector<std::string>{wid});  // nothing changed so far
    auto done = call("POST", target, body, staff_token(community));
    ASSERT_EQ(done.status, 200) << done.raw.body;
    EXPECT_EQ(done.body.at("workers_withdrawn").as_int64(), 1);
    EXPECT_TRUE(candidates("bath").empty());
    EXPECT_TRUE(candidates("cleaning").empty());
    EXPECT_EQ(call("POST", "/v1/providers/me/online", here, w.access).status, 409);
    EXPECT_EQ(outbox_count("provider.suspended"), 1);
}

TEST_F(providers_fixture, availability_decides_who_is_offered_a_window) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    ASSERT_EQ(
        call("POST", "/v1/providers/me/online", json::object{{"lat", 39.9490}, {"lon", 116.4130}}, w.access)
            .status,
        200);
    // Mondays 08:00–12:00 and 14:00–18:00 (China time); Monday 2030-01-07 off.
    const json::object calendar{
        {"weekly",
         json::array{json::object{{"weekday", 1},
                                  {"hours",
                                   json::array{json::object{{"from", "14:00"}, {"to", "18:00"}},
                                               json::object{{"from", "08:00"}, {"to", "12:00"}}}}}}},
        {"exceptions", json::array{json::object{{"date", "2030-01-07"}, {"hours", json::array{}}}}}};
    auto put = call("PUT", "/v1/providers/workers/" + wid + "/availability", calendar, w.access);
    ASSERT_EQ(put.status, 200) << put.raw.body;
    EXPECT_EQ(put.body.at("weekly").at(0).at("hours").at(0).at("from").as_string(), "08:00");
    EXPECT_EQ(call("GET", "/v1/providers/workers/" + wid + "/availability", std::nullopt, p.access).body,
              put.body);

    auto window = [](const char* from, const char* to) { return std::string("&from=") + from + "&to=" + to; };
    // 2030-01-14 is a Monday: 09:00–11:00 local is 01:00–03:00 UTC.
    EXPECT_EQ(candidates("bath", window("2030-01-14T01:00:00Z", "2030-01-14T03:00:00Z")),
              std::vector<std::string>{wid});
    EXPECT_TRUE(candidates("bath", window("2030-01-14T03:30:00Z", "2030-01-14T04:30:00Z")).empty());  // 11:30
    EXPECT_TRUE(candidates("bath", window("2030-01-15T01:00:00Z", "2030-01-15T02:00:00Z")).empty());  // Tue
    EXPECT_TRUE(candidates("bath", window("2030-01-07T01:00:00Z", "2030-01-07T02:00:00Z")).empty());  // off
    EXPECT_EQ(candidates("bath").size(), 1u);  // no window: online is enough

    // Bad calendars change nothing.
    auto bad = [&](json::object body) {
        return call("PUT", "/v1/providers/workers/" + wid + "/availability", body, p.access);
    };
    auto r = bad({{"weekly", json::array{json::object{{"weekday", 8}, {"hours", json::array{}}}}},
                  {"exceptions", json::array{}}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body.at("field").as_string(), "weekly");
    r = bad({{"weekly",
              json::array{json::object{{"weekday", 2},
                                       {"hours",
                                        json::array{json::object{{"from", "08:00"}, {"to", "12:00"}},
                                                    json::object{{"from", "11:00"}, {"to", "13:00"}}}}}}},
             {"exceptions", json::array{}}});
    EXPECT_EQ(r.status, 422);
    r = bad({{"weekly", json::array{}},
             {"exceptions",
              json::array{
                  json::object{{"date", "2030-02-30"},
                               {"hours", json::array{json::object{{"from", "08:00"}, {"to", "25:00"}}}}}}}});
    EXPECT_EQ(r.body.at("field").as_string(), "exceptions");
    r = bad({{"weekly", json::array{}},
             {"exceptions", json::array{json::object{{"date", "2030-02-30"}, {"hours", json::array{}}}}}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(call("GET", "/v1/providers/workers/" + wid + "/availability", std::nullopt, w.access).body,
              put.body);
    auto q = approved_provider("13600000904");
    EXPECT_EQ(call("PUT", "/v1/providers/workers/" + wid + "/availability", calendar, q.access).status, 404);
    auto reversed =
        call("GET",
             "/v1/internal/providers/candidates?kind=bath&lat=39.9489&lon=116.4128&community_id=" +
                 std::to_string(community) + window("2030-01-14T03:00:00Z", "2030-01-14T01:00:00Z"),
             std::nullopt,
             service_token());
    EXPECT_EQ(reversed.status, 422);

    // A worker who never declared a weekly pattern is available whenever online.
    ASSERT_EQ(bad({{"weekly", json::array{}}, {"exceptions", json::array{}}}).status, 200);
    EXPECT_EQ(candidates("bath", window("2030-01-15T01:00:00Z", "2030-01-15T02:00:00Z")),
              std::vector<std::string>{wid});
}

TEST_F(providers_fixture, canteens_serve_their_slots_diets_and_delivery_radius) {
    auto home_care = approved_provider("13600000921");
    const json::object details{{"delivery_radius_km", 2},
                               {"diet_tags", json::array{"soft", "low_salt"}},
                               {"slots",
                                json::array{json::object{{"slot", "lunch"}, {"meals", 80}},
                                            json::object{{"slot", "dinner"}, {"meals", 60}}}}};
    EXPECT_EQ(call("PUT", "/v1/providers/me/canteen", details, home_care.access).status, 409);

    auto canteen = approved_provider("13600000922", "canteen");
    auto put = call("PUT", "/v1/providers/me/canteen", details, canteen.access);
    ASSERT_EQ(put.status, 200) << put.raw.body;
    EXPECT_EQ(put.body.at("diet_tags"), (json::array{"low_salt", "soft"}));
    auto pending = approved_provider("13600000923", "canteen", false);
    ASSERT_EQ(call("PUT", "/v1/providers/me/canteen", details, pending.access).status, 200);

    auto bad = details;
    bad["slots"] = json::array{json::object{{"slot", "supper"}, {"meals", 10}}};
    EXPECT_EQ(call("PUT", "/v1/providers/me/canteen", bad, canteen.access).body.at("field").as_string(),
              "slots");
    bad = details;
    bad["diet_tags"] = json::array{"keto"};
    EXPECT_EQ(call("PUT", "/v1/providers/me/canteen", bad, canteen.access).body.at("field").as_string(),
              "diet_tags");
    bad = details;
    bad["delivery_radius_km"] = 20;
    EXPECT_EQ(call("PUT", "/v1/providers/me/canteen", bad, canteen.access).status, 422);

    auto family = new_family("13700000921");
    auto search = [&](const std::string& query) {
        auto r = call("GET", "/v1/providers/canteens?" + query, std::nullopt, family.access);
        EXPECT_EQ(r.status, 200) << r.raw.body;
        return r.status == 200 ? r.body.at("items").as_array() : json::array{};
    };
    auto near = search("lat=39.9489&lon=116.4128&slot=lunch&diet=soft");
    ASSERT_EQ(near.size(), 1u);  // the pending canteen is not offered
    EXPECT_EQ(near[0].at("org_id").as_string(), org_of(canteen));
    EXPECT_EQ(near[0].at("meals").as_int64(), 80);
    EXPECT_LT(near[0].at("distance_m").as_int64(), 200);
    EXPECT_TRUE(near[0].at("rating").is_null());  // no reviews yet
    // Once ratings publishes the organisation's score, families see it with the canteen.
    {
        pqxx::connection db(test::db_url());
        pqxx::work tx(db);
        tx.exec("SET search_path TO " + providers_schema);
        runtime::scores::apply(
            tx,
            R"({"subject_type":"org","subject_id":")" + org_of(canteen) + R"(","score":4.321,"count":12})");
        runtime::scores::apply(tx,
                               R"({"subject_type":"worker","subject_id":")" + core::new_uuid() +
                                   R"(","score":2.0,"count":1})");  // not a canteen's
        tx.commit();
    }
    auto rated = search("lat=39.9489&lon=116.4128&slot=lunch&diet=soft");
    ASSERT_EQ(rated.size(), 1u);
    EXPECT_DOUBLE_EQ(rated[0].at("rating").at("score").as_double(), 4.32);
    EXPECT_EQ(rated[0].at("rating").at("count").as_int64(), 12);
    EXPECT_TRUE(search("lat=39.9489&lon=116.4128&slot=lunch&diet=soft,halal").empty());
    EXPECT_TRUE(search("lat=39.9489&lon=116.4128&slot=breakfast").empty());
    EXPECT_TRUE(search("lat=39.9700&lon=116.4128&slot=lunch").empty());  // 2.3 km: beyond its radius
    EXPECT_EQ(call("GET",
                   "/v1/providers/canteens?lat=39.9&lon=116.4&slot=lunch&diet=keto",
                   std::nullopt,
                   family.access)
                  .status,
              422);
    EXPECT_EQ(
        call("GET", "/v1/providers/canteens?lat=39.9&lon=116.4&slot=lunch", std::nullopt, canteen.access)
            .status,
        403);

    // Only a canteen has canteen details, in the database too.
    pqxx::connection c(test::db_url());
    pqxx::work tx(c);
    EXPECT_THROW(tx.exec_params("INSERT INTO " + providers_schema +
                                    ".canteens (org_id, delivery_radius_km) VALUES ($1::uuid, 1)",
                                org_of(home_care)),
                 pqxx::foreign_key_violation);
}

// Walks the endpoints × roles table of services/providers/README.md for who may call what at all: 401 for
// no token, 403 for a role that may never, anything else (`ok`: 2xx, 404, 409, 422) where it may.
TEST_F(providers_fixture, every_endpoint_refuses_the_roles_the_table_refuses) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    const std::string org = org_of(p);
    constexpr int ok = test::role_allowed;
    const std::array<std::string, test::role_columns> tokens{"",
                                                             new_family("13700000999").access,
                                                             p.access,
                                                             w.access,
                                                             staff_token(community),
                                                             admin().access,
                                                             service_token()};
    const json::object suspend{{"reason", "check"}, {"until", "2000-01-01T00:00:00Z"}};  // already over
    const json::object here{{"lat", 39.9490}, {"lon", 116.4130}};
    const std::string where = "lat=39.9489&lon=116.4128";
    const std::vector<test::role_row> table{
        {"PUT", "/v1/providers/me/organisation", organisation(), {401, 403, ok, 403, 403, 403, 401}},
        {"GET", "/v1/providers/me/organisation", std::nullopt, {401, 403, ok, ok, 403, 403, 401}},
        {"GET", "/v1/providers/organisations", std::nullopt, {401, 403, 403, 403, ok, ok, 401}},
        {"GET", "/v1/providers/organisations/" + org, std::nullopt, {401, 403, ok, ok, ok, ok, ok}},
        {"POST",
         "/v1/providers/organisations/" + org + "/approve",
         std::nullopt,
         {401, 403, 403, 403, 403, ok, 401}},
        {"POST",
         "/v1/providers/organisations/" + org + "/reject",
         json::object{{"reason", "x"}},
         {401, 403, 403, 403, 403, ok, 401}},
        {"POST",
         "/v1/providers/organisations/" + org + "/suspend",
         suspend,
         {401, 403, 403, 403, ok, ok, 401}},
        {"PUT", "/v1/providers/me/canteen", json::object{}, {401, 403, ok, 403, 403, 403, 401}},
        {"GET",
         "/v1/providers/organisations/" + org + "/canteen",
         std::nullopt,
         {401, 403, ok, ok, ok, ok, ok}},
        {"GET",
         "/v1/providers/canteens?" + where + "&slot=lunch",
         std::nullopt,
         {401, ok, 403, 403, 403, 403, ok}},
        {"PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), {401, 403, ok, 403, 403, 403, 401}},
        {"GET", "/v1/providers/workers/" + wid, std::nullopt, {401, 403, ok, ok, ok, ok, 401}},
        {"POST", "/v1/providers/workers/" + wid + "/suspend", suspend, {401, 403, 403, 403, ok, ok, 401}},
        {"PUT",
         "/v1/providers/workers/" + wid + "/availability",
         json::object{{"weekly", json::array{}}, {"exceptions", json::array{}}},
         {401, 403, ok, ok, 403, 403, 401}},
        {"GET",
         "/v1/providers/workers/" + wid + "/availability",
         std::nullopt,
         {401, 403, ok, ok, ok, ok, 401}},
        {"POST", "/v1/providers/me/online", here, {401, 403, 403, ok, 403, 403, 401}},
        {"POST", "/v1/providers/me/heartbeat", here, {401, 403, 403, ok, 403, 403, 401}},
        {"POST", "/v1/providers/me/offline", std::nullopt, {401, 403, 403, ok, 403, 403, 401}},
        {"GET",
         "/v1/internal/providers/candidates?kind=bath&" + where +
             "&community_id=" + std::to_string(community),
         std::nullopt,
         {401, 403, 403, 403, 403, 403, ok}},
    };
    test::walk_roles(
        table, tokens, [&](const char* method, const std::string& path, const auto& body, const auto& t) {
            return call(method, path, body, t).status;
        });
}

}  // namespace
}  // namespace carematch::providers
