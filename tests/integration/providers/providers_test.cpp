// providers against the real PostgreSQL and Redis, beside identity: profiles, presence in the GEO candidate
// sets, expired credentials, offline, a missed heartbeat, suspension.
#include "integration/identity/identity_fixture.hpp"
#include "providers/src/app.hpp"

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
            {"CAREMATCH_PROVIDERS_CATALOG_FILE", std::string(CAREMATCH_SOURCE_DIR) + "/config/catalog.json"},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
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
        // Presence keys are shared by every test on this Redis: start from empty sets.
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> del{"DEL",
                                         "carematch:{presence}:seen",
                                         "carematch:{presence}:online:bath",
                                         "carematch:{presence}:online:cleaning",
                                         "carematch:{presence}:online:medical_visit",
                                         "carematch:{presence}:online:meal"};
            co_await r.command(std::move(del));
        }());
    }
    ~providers_fixture() override {
        server.reset();
        providers.reset();
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + providers_schema + " CASCADE");
        tx.commit();
    }

    // An approved provider with one worker; returns {provider session, worker session, worker id}.
    std::tuple<session, session, std::string> provider_with_worker() {
        auto reg = call(
            "POST",
            "/v1/auth/register/provider",
            json::object{{"phone", "13600000901"}, {"password", "provider-pass"}, {"org_name", "安心家政"}});
        call("POST",
             "/v1/admin/users/" + std::string(reg.body.at("id").as_string()) + "/approve",
             std::nullopt,
             admin().access);
        auto p = login("13600000901", "provider-pass");
        auto w = call(
            "POST",
            "/v1/auth/workers",
            json::object{{"phone", "13600000902"}, {"password", "worker-pass"}, {"display_name", "周阿姨"}},
            p.access);
        return {p, login("13600000902", "worker-pass"), std::string(w.body.at("id").as_string())};
    }

    std::vector<std::string> candidates(const std::string& kind) {
        core::system_clock sys;
        auto svc = auth::token_issuer(key, {}, sys).issue_service("matching");
        auto r =
            call("GET",
                 "/v1/internal/providers/candidates?kind=" + kind + "&lat=39.9489&lon=116.4128&radius_m=3000",
                 std::nullopt,
                 svc);
        EXPECT_EQ(r.status, 200) << r.raw.body;
        std::vector<std::string> ids;
        for (const auto& x : r.body.at("items").as_array()) {
            ids.emplace_back(x.at("worker_id").as_string());
        }
        return ids;
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

    std::string providers_schema = test::unique_schema("providers");
    core::manual_clock clock{std::chrono::system_clock::now()};
    std::unique_ptr<app> providers;
};

TEST_F(providers_fixture, an_expired_credential_keeps_a_worker_out_of_that_kinds_candidates) {
    auto [p, w, wid] = provider_with_worker();
    auto put = call("PUT", "/v1/providers/workers/" + wid, profile("2020-01-01"), p.access);
    ASSERT_EQ(put.status, 200) << put.raw.body;
    EXPECT_EQ(put.body.at("eligible_kinds"), (json::array{"cleaning"}));
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
    ASSERT_EQ(call("POST", "/v1/providers/workers/" + wid + "/suspend", body, admin().access).status, 200);
    EXPECT_TRUE(candidates("bath").empty());
    EXPECT_EQ(call("POST", "/v1/providers/me/online", here, w.access).status, 409);
    EXPECT_TRUE(
        call("GET", "/v1/providers/workers/" + wid, std::nullopt, w.access).body.at("suspended").as_bool());
}

TEST_F(providers_fixture, an_organisation_writes_only_its_own_workers) {
    auto [p, w, wid] = provider_with_worker();
    ASSERT_EQ(call("PUT", "/v1/providers/workers/" + wid, profile("2099-01-01"), p.access).status, 200);
    auto other =
        call("POST",
             "/v1/auth/register/provider",
             json::object{{"phone", "13600000903"}, {"password", "provider-pass"}, {"org_name", "别家"}});
    call("POST",
         "/v1/admin/users/" + std::string(other.body.at("id").as_string()) + "/approve",
         std::nullopt,
         admin().access);
    auto q = login("13600000903", "provider-pass");
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

}  // namespace
}  // namespace carematch::providers
