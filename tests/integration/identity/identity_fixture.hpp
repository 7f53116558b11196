// Test support for identity: the app on its own schema behind a real server, and an HTTP client to call it.
#pragma once

#include "support/run_coro.hpp"
#include "support/test_server.hpp"

#include <carematch/auth/sealer.hpp>
#include <carematch/http/client.hpp>
#include <carematch/http/middleware.hpp>
#include <carematch/identity/app.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

namespace carematch::identity::test_support {

namespace json = boost::json;

struct reply {
    int status = 0;
    json::value body;
    http::response raw;
};

class identity_fixture : public ::testing::Test {
  protected:
    static constexpr const char* admin_phone = "13800000000";
    static constexpr const char* admin_password = "admin-password-1";

    identity_fixture() : identity_fixture(test::required_env("CAREMATCH_TEST_REDIS_URL")) {}

    /// `at`: run identity on a clock stopped there instead of the wall clock; `regions`: another region tree.
    explicit identity_fixture(const std::string& redis_url,
                              std::optional<core::clock::time_point> at = std::nullopt,
                              const std::string& regions = std::string(CAREMATCH_SOURCE_DIR) +
                                                           "/config/regions.json") {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            // Bursts of hundreds at once: these tests are about contention, not shedding (its own test).
            {"CAREMATCH_DB_QUEUE_LIMIT", "100000"},
            {"CAREMATCH_DB_ACQUIRE_TIMEOUT_MS", "600000"},
            {"CAREMATCH_IDENTITY_HASH_QUEUE_LIMIT", "100000"},
            {"CAREMATCH_IDENTITY_HASH_ACQUIRE_TIMEOUT_MS", "600000"},
            {"CAREMATCH_REDIS_URL", redis_url},
            {"CAREMATCH_IDENTITY_IDENTITY_SCHEMA", schema},
            {"CAREMATCH_IDENTITY_EVENTS_STREAM", identity_stream},
            {"CAREMATCH_IDENTITY_REGIONS_FILE", regions},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_AUTH_DATA_KEY", auth::sealer::generate_key()},
            {"CAREMATCH_IDENTITY_BOOTSTRAP_ADMIN", std::string(admin_phone) + ":" + admin_password},
            {"CAREMATCH_IDENTITY_LOGIN_FAILURES_PER_ACCOUNT", "5"},
        };
        core::config_source src("", "identity", [env](const std::string& name) -> std::optional<std::string> {
            if (auto it = env.find(name); it != env.end()) {
                return it->second;
            }
            return std::nullopt;
        });
        cfg = read_config(src);
        src.reject_unknown();
        if (at) {
            stopped_clock = std::make_unique<core::manual_clock>(*at);
            application = std::make_unique<app>(io, cfg, *stopped_clock);
        } else {
            application = std::make_unique<app>(io, cfg);
        }
        application->start();
        application->add_routes(routes);
        application->add_gauges(metrics);
        observability::add_routes(routes, metrics, application->probes());
        server = std::make_unique<test::test_server>(
            io, http::compose(observability::standard_chain(metrics), routes.as_handler()));
    }

    ~identity_fixture() override {
        server.reset();
        application.reset();
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }

    reply call(const std::string& method,
               const std::string& target,
               const std::optional<json::value>& body = std::nullopt,
               const std::string& token = "") {
        http::outgoing o;
        o.method = method;
        o.target = target;
        if (body) {
            o.body = json::serialize(*body);
            o.headers.emplace_back("Content-Type", "application/json");
        }
        if (!token.empty()) {
            o.headers.emplace_back("Authorization", "Bearer " + token);
        }
        auto res = test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
        if (!res) {
            throw std::runtime_error("request failed: " + res.error().message());
        }
        reply r;
        r.status = res->status;
        r.raw = *res;
        if (!res->body.empty()) {
            boost::system::error_code ec;
            r.body = json::parse(res->body, ec);
        }
        return r;
    }

    // Registers a family and logs it in; returns {access, refresh, user id}.
    struct session {
        std::string access;
        std::string refresh;
        std::string user_id;
    };
    session login(const std::string& phone, const std::string& password) {
        auto r = call("POST", "/v1/auth/login", json::object{{"phone", phone}, {"password", password}});
        EXPECT_EQ(r.status, 200) << r.raw.body;
        if (r.status != 200) {
            return {};
        }
        return {std::string(r.body.at("access_token").as_string()),
                std::string(r.body.at("refresh_token").as_string()),
                std::string(r.body.at("user_id").as_string())};
    }
    session new_family(const std::string& phone, const std::string& password = "family-password-1") {
        auto r = call("POST", "/v1/auth/register", json::object{{"phone", phone}, {"password", password}});
        EXPECT_EQ(r.status, 201) << r.raw.body;
        return login(phone, password);
    }
    session admin() { return login(admin_phone, admin_password); }
    // Registers an organisation's account (its organisation is approved in providers) and logs it in.
    session new_provider(const std::string& phone, const std::string& org_name = "安康居家养老") {
        auto r = call("POST",
                      "/v1/auth/register/provider",
                      json::object{{"phone", phone}, {"password", "provider-pass"}, {"org_name", org_name}});
        EXPECT_EQ(r.status, 201) << r.raw.body;
        return login(phone, "provider-pass");
    }
    // A worker account of the provider's organisation, logged in.
    session new_worker(const session& provider,
                       const std::string& phone,
                       const std::string& name = "周阿姨") {
        auto r = call("POST",
                      "/v1/auth/workers",
                      json::object{{"phone", phone}, {"password", "worker-pass"}, {"display_name", name}},
                      provider.access);
        EXPECT_EQ(r.status, 201) << r.raw.body;
        return login(phone, "worker-pass");
    }

    static json::object elder(std::int64_t community = 110101001) {
        return json::object{
            {"kind", "elder"},
            {"name", "王秀英"},
            {"birth_date", "1941-03-02"},
            {"community_id", community},
            {"gender", "female"},
            {"ability_level", 3},
            {"priority_categories", json::array{"age_80_plus", "living_alone"}},
            {"diet", json::array{"low_salt", "soft"}},
            {"languages", json::array{"mandarin"}},
            {"gender_preference", "female"},
            {"address", "安定门东大街 12 号 3 单元 401"},
            {"location", json::object{{"lat", 39.9489}, {"lon", 116.4128}}},
            {"emergency_contacts",
             json::array{json::object{{"name", "王军"}, {"phone", "13912345678"}, {"relation", "son"}}}},
            {"health_notes", "type 2 diabetes; insulin at 8:00"},
            {"consents",
             json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}};
    }

    long long scalar(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + schema);
        return tx.exec(sql)[0][0].as<long long>();
    }

    std::string schema = test::unique_schema("identity");
    std::string identity_stream = "carematch:{identity}:" + schema;  // recipient.* of this test only
    auth::signing_key key = auth::generate_signing_key("test1");
    config cfg;
    std::unique_ptr<core::manual_clock> stopped_clock;  // set when the fixture runs at a given instant
    boost::asio::io_context io{2};                      // the app's and the server's
    std::unique_ptr<app> application;
    http::router routes;
    observability::metrics metrics;
    std::unique_ptr<test::test_server> server;
    boost::asio::io_context client_io;  // the test's own calls
    http::client client{client_io};
};

}  // namespace carematch::identity::test_support
