// Accounts and tokens against the real PostgreSQL and Redis: register, login, refresh rotation and reuse,
// logout, password change, throttling, forged tokens, and hashing that never stalls the io threads.
#include "identity_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <future>
#include <set>

namespace carematch::identity {
namespace {

using test_support::identity_fixture;
namespace json = boost::json;

TEST_F(identity_fixture, register_login_me_refresh_logout) {
    auto s = new_family("13700000001");
    ASSERT_FALSE(s.access.empty());
    auto me = call("GET", "/v1/auth/me", std::nullopt, s.access);
    ASSERT_EQ(me.status, 200);
    EXPECT_EQ(me.body.at("role").as_string(), "family");
    EXPECT_EQ(me.body.at("phone").as_string(), "13700000001");
    EXPECT_FALSE(me.body.as_object().contains("password_hash"));

    auto again = call(
        "POST", "/v1/auth/register", json::object{{"phone", "13700000001"}, {"password", "another-pass"}});
    EXPECT_EQ(again.status, 409);

    auto r1 = call("POST", "/v1/auth/refresh", json::object{{"refresh_token", s.refresh}});
    ASSERT_EQ(r1.status, 200) << r1.raw.body;
    std::string second = std::string(r1.body.at("refresh_token").as_string());
    EXPECT_NE(second, s.refresh);
    EXPECT_EQ(
        call("GET", "/v1/auth/me", std::nullopt, std::string(r1.body.at("access_token").as_string())).status,
        200);

    EXPECT_EQ(call("POST", "/v1/auth/logout", json::object{{"refresh_token", second}}, s.access).status, 204);
    EXPECT_EQ(call("POST", "/v1/auth/refresh", json::object{{"refresh_token", second}}).status, 401);
}

TEST_F(identity_fixture, reusing_a_rotated_refresh_token_revokes_the_whole_family) {
    auto s = new_family("13700000002");
    auto r1 = call("POST", "/v1/auth/refresh", json::object{{"refresh_token", s.refresh}});
    ASSERT_EQ(r1.status, 200);
    std::string current = std::string(r1.body.at("refresh_token").as_string());

    // The old token again (a thief's copy): refused, and the legitimate current token dies with it.
    EXPECT_EQ(call("POST", "/v1/auth/refresh", json::object{{"refresh_token", s.refresh}}).status, 401);
    EXPECT_EQ(call("POST", "/v1/auth/refresh", json::object{{"refresh_token", current}}).status, 401);
    EXPECT_EQ(scalar("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL"), 0);
    // A new login starts a new family.
    auto fresh = login("13700000002", "family-password-1");
    EXPECT_EQ(call("POST", "/v1/auth/refresh", json::object{{"refresh_token", fresh.refresh}}).status, 200);
}

TEST_F(identity_fixture, changing_the_password_revokes_sessions) {
    auto s = new_family("13700000003");
    auto changed =
        call("POST",
             "/v1/auth/password",
             json::object{{"old_password", "family-password-1"}, {"new_password", "a-new-password"}},
             s.access);
    ASSERT_EQ(changed.status, 204) << changed.raw.body;
    EXPECT_EQ(call("POST", "/v1/auth/refresh", json::object{{"refresh_token", s.refresh}}).status, 401);
    EXPECT_EQ(call("POST",
                   "/v1/auth/login",
                   json::object{{"phone", "13700000003"}, {"password", "family-password-1"}})
                  .status,
              401);
    login("13700000003", "a-new-password");
    auto wrong = call("POST",
                      "/v1/auth/password",
                      json::object{{"old_password", "not-the-password"}, {"new_password", "whatever-else"}},
                      s.access);
    EXPECT_EQ(wrong.status, 422);
}

TEST_F(identity_fixture, failed_logins_are_throttled_per_account) {
    new_family("13700000004");
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(call("POST",
                       "/v1/auth/login",
                       json::object{{"phone", "13700000004"}, {"password", "wrong-password"}})
                      .status,
                  401);
    }
    // Over the limit (5 in this test's config; 100 by default): even the right password waits.
    auto r = call(
        "POST", "/v1/auth/login", json::object{{"phone", "13700000004"}, {"password", "family-password-1"}});
    EXPECT_EQ(r.status, 429);
    ASSERT_TRUE(r.raw.header("Retry-After").has_value());
    int retry = std::stoi(std::string(*r.raw.header("Retry-After")));
    EXPECT_GT(retry, 0);
    EXPECT_LE(retry, 3600);
    // Another account from the same address is not affected.
    new_family("13700000005");
}

// Counted before the password is checked: concurrent wrong passwords cannot all slip under the limit.
TEST_F(identity_fixture, concurrent_failed_logins_never_exceed_the_limit) {
    new_family("13700000006");
    const std::uint16_t port = server->port();
    std::vector<std::future<int>> tries;
    for (int i = 0; i < 60; ++i) {
        tries.push_back(std::async(std::launch::async, [port] {
            boost::asio::io_context io;
            http::client c(io);
            http::outgoing o;
            o.method = "POST";
            o.target = "/v1/auth/login";
            o.headers = {{"Content-Type", "application/json"}};
            o.body = R"({"phone":"13700000006","password":"wrong-password"})";
            return test::run_coro(io, c.send("127.0.0.1", port, o))->status;
        }));
    }
    int checked = 0;
    int refused = 0;
    for (auto& t : tries) {
        const int status = t.get();
        checked += status == 401 ? 1 : 0;
        refused += status == 429 ? 1 : 0;
    }
    EXPECT_EQ(checked, 5);  // the limit in this test's config
    EXPECT_EQ(refused, 55);
}

TEST_F(identity_fixture, a_provider_account_logs_in_at_once_and_creates_workers_of_its_organisation) {
    auto reg = call(
        "POST",
        "/v1/auth/register/provider",
        json::object{{"phone", "13600000001"}, {"password", "provider-pass"}, {"org_name", "安康居家养老"}});
    ASSERT_EQ(reg.status, 201) << reg.raw.body;
    EXPECT_EQ(reg.body.at("status").as_string(), "active");
    auto p = login("13600000001", "provider-pass");
    auto w =
        call("POST",
             "/v1/auth/workers",
             json::object{{"phone", "13600000002"}, {"password", "worker-pass"}, {"display_name", "李护工"}},
             p.access);
    ASSERT_EQ(w.status, 201) << w.raw.body;
    EXPECT_EQ(w.body.at("org_id"), reg.body.at("org_id"));
    auto ws = login("13600000002", "worker-pass");
    auto me = call("GET", "/v1/auth/me", std::nullopt, ws.access);
    EXPECT_EQ(me.body.at("role").as_string(), "worker");
    EXPECT_EQ(me.body.at("org_id"), reg.body.at("org_id"));
    // A worker cannot make workers, nor a family.
    EXPECT_EQ(call("POST",
                   "/v1/auth/workers",
                   json::object{{"phone", "13600000003"}, {"password", "worker-pass"}, {"display_name", "x"}},
                   ws.access)
                  .status,
              403);
}

TEST_F(identity_fixture, forged_tokens_are_401_and_change_nothing) {
    auto s = new_family("13700000006");
    auto a = admin();
    auto parts = [](const std::string& t) {
        auto d1 = t.find('.');
        auto d2 = t.find('.', d1 + 1);
        return std::tuple{t.substr(0, d1), t.substr(d1 + 1, d2 - d1 - 1), t.substr(d2 + 1)};
    };
    auto [h, p, sig] = parts(s.access);
    auto claims = json::parse(*auth::base64url_decode(p)).as_object();
    auto with_claims = [&](json::object c) {
        return h + "." + auth::base64url_encode(json::serialize(c)) + "." + sig;
    };
    json::object as_admin = claims;
    as_admin["role"] = "admin";
    json::object none_header{{"alg", "none"}, {"typ", "JWT"}, {"kid", "test1"}};
    auth::signing_key other = auth::generate_signing_key("test1");
    auth::signing_key unknown_kid = auth::generate_signing_key("nobody");
    core::system_clock clock;
    auth::token_settings wrong_iss;
    wrong_iss.issuer = "evil";
    auth::token_settings wrong_aud;
    wrong_aud.audience = "elsewhere";
    auth::caller fam;
    fam.id = s.user_id;
    const std::vector<std::pair<std::string, std::string>> forged{
        {"alg none", auth::base64url_encode(json::serialize(none_header)) + "." + p + "."},
        {"wrong signature", auth::token_issuer(other, {}, clock).issue(fam)},
        {"tampered role", with_claims(as_admin)},
        {"wrong iss", auth::token_issuer(key, wrong_iss, clock).issue(fam)},
        {"wrong aud", auth::token_issuer(key, wrong_aud, clock).issue(fam)},
        {"unknown kid", auth::token_issuer(unknown_kid, {}, clock).issue(fam)},
        {"refresh token as access", s.refresh},
        {"service token as access", auth::token_issuer(key, {}, clock).issue_service("orders")},
    };
    core::manual_clock past(clock.now() - std::chrono::hours(2));
    auto expired = auth::token_issuer(key, {}, past).issue(fam);
    std::vector<std::pair<std::string, std::string>> all = forged;
    all.emplace_back("expired", expired);

    long long before = scalar("SELECT count(*) FROM recipients") + scalar("SELECT count(*) FROM users");
    for (const auto& [what, token] : all) {
        auto r = call("POST", "/v1/recipients", elder(), token);
        EXPECT_EQ(r.status, 401) << what;
        EXPECT_EQ(r.raw.header("WWW-Authenticate").value_or(""), "Bearer") << what;
        EXPECT_EQ(call("POST",
                       "/v1/admin/users",
                       json::object{{"phone", "13500000009"},
                                    {"password", "staff-password"},
                                    {"role", "admin"},
                                    {"communities", json::array{}}},
                       token)
                      .status,
                  401)
            << what;
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM recipients") + scalar("SELECT count(*) FROM users"), before);
    EXPECT_EQ(call("POST", "/v1/recipients", elder(), s.access).status, 201);  // the genuine token works
}

TEST_F(identity_fixture, bad_registration_input_is_refused_naming_the_field) {
    struct bad {
        json::object body;
        int status;
        const char* field;
    };
    const bad cases[] = {
        {{{"phone", "1370000000"}, {"password", "long-enough"}}, 422, "phone"},
        {{{"phone", "23700000000"}, {"password", "long-enough"}}, 422, "phone"},
        {{{"phone", "1370000000x"}, {"password", "long-enough"}}, 422, "phone"},
        {{{"phone", "13700000010"}, {"password", "short"}}, 422, "password"},
        {{{"phone", "13700000010"}, {"password", std::string(129, 'p')}}, 422, "password"},
        {{{"phone", "13700000010"}, {"password", "long-enough"}, {"role", "admin"}}, 422, "role"},
        {{{"phone", "13700000010"}, {"password", "long-enough"}, {"org", "x"}}, 422, "org"},
        {{{"phone", 13700000010}, {"password", "long-enough"}}, 422, "phone"},
        {{{"phone", "13700000010"}, {"password", "long-enough"}, {"display_name", std::string(51, 'n')}},
         422,
         "display_name"},
    };
    for (const auto& c : cases) {
        auto r = call("POST", "/v1/auth/register", c.body);
        EXPECT_EQ(r.status, c.status) << json::serialize(c.body);
        EXPECT_EQ(r.raw.header("Content-Type").value_or(""), "application/problem+json");
        if (r.body.is_object() && r.body.as_object().contains("field")) {
            EXPECT_EQ(r.body.at("field").as_string(), c.field) << json::serialize(c.body);
        } else {
            ADD_FAILURE() << "no field named for " << json::serialize(c.body);
        }
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM users WHERE phone = '13700000010'"), 0);
    http::outgoing raw;
    raw.method = "POST";
    raw.target = "/v1/auth/register";
    raw.body = "{\"phone\":";
    raw.headers = {{"Content-Type", "application/json"}};
    EXPECT_EQ(test::run_coro(client_io, client.send("127.0.0.1", server->port(), raw))->status, 400);
}

TEST_F(identity_fixture, a_hundred_concurrent_logins_do_not_stall_healthz) {
    // Twenty accounts, five logins each: attempts are counted before the password is checked, and this
    // test's limit is five per account.
    for (int a = 0; a < 20; ++a) {
        new_family("137000002" + std::to_string(10 + a));
    }
    // A hundred argon2id hashes queue on two threads and take seconds on a busy machine: this client waits as
    // long as it takes, since what is measured is /healthz, not login latency.
    http::client patient(client_io, http::client::settings{std::chrono::seconds(120), 128});
    std::atomic<int> logins_done{0};
    int done_when_healthz_answered = -1;
    auto scenario = [&]() -> boost::asio::awaitable<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        for (int i = 0; i < 100; ++i) {
            boost::asio::co_spawn(
                ex,
                [&, i]() -> boost::asio::awaitable<void> {
                    http::outgoing o;
                    o.method = "POST";
                    o.target = "/v1/auth/login";
                    o.headers = {{"Content-Type", "application/json"}};
                    o.body = R"({"phone":"137000002)" + std::to_string(10 + i % 20) +
                             R"(","password":"family-password-1"})";
                    auto r = co_await patient.send("127.0.0.1", server->port(), o);
                    EXPECT_TRUE(r && r->status == 200);
                    ++logins_done;
                },
                boost::asio::detached);
        }
        http::outgoing health;
        health.target = "/healthz";
        auto r = co_await patient.send("127.0.0.1", server->port(), health);
        EXPECT_TRUE(r && r->status == 200);
        done_when_healthz_answered = logins_done;
        boost::asio::steady_timer t(ex);
        while (logins_done < 100) {
            t.expires_after(std::chrono::milliseconds(10));
            co_await t.async_wait(boost::asio::use_awaitable);
        }
    };
    test::run_coro(client_io, scenario());
    EXPECT_EQ(logins_done, 100);
    // Each login hashes with argon2id on the hasher's two threads (about a second for all of them); /healthz,
    // asked after all 100, was answered while most were still waiting.
    EXPECT_LT(done_when_healthz_answered, 50);
}

TEST_F(identity_fixture, district_staff_hold_every_community_of_their_district_even_one_added_later) {
    auto adm = admin();
    auto created = call("POST",
                        "/v1/admin/users",
                        json::object{{"phone", "13500000301"},
                                     {"password", "staff-password"},
                                     {"role", "staff"},
                                     {"districts", json::array{110100}}},
                        adm.access);
    ASSERT_EQ(created.status, 201) << created.raw.body;
    EXPECT_EQ(created.body.at("districts"), (json::array{110100}));
    auto scope = [&] {
        auto me = call("GET", "/v1/auth/me", std::nullopt, login("13500000301", "staff-password").access);
        std::set<std::int64_t> out;
        for (const auto& id : me.body.at("communities").as_array()) {
            out.insert(id.as_int64());
        }
        return out;
    };
    auto before = scope();
    EXPECT_TRUE(before.contains(110101001));
    EXPECT_TRUE(before.contains(110104005));
    EXPECT_EQ(static_cast<long long>(before.size()),
              scalar("SELECT count(*) FROM regions c JOIN regions s ON s.id = c.parent_id"
                     " WHERE c.level = 'community' AND s.parent_id = 110100"));
    auto district_staff = login("13500000301", "staff-password");
    EXPECT_EQ(
        call("GET", "/v1/recipients?community_id=110104005", std::nullopt, district_staff.access).status,
        200);
    ASSERT_EQ(call("POST",
                   "/v1/regions",
                   json::object{{"id", 110101301},
                                {"parent_id", 110101},
                                {"level", "community"},
                                {"name", "新建社区"},
                                {"residents", 100}},
                   adm.access)
                  .status,
              201);
    EXPECT_TRUE(scope().contains(110101301));  // at the next token

    const std::pair<json::object, const char*> bad[] = {
        {json::object{{"role", "staff"}, {"districts", json::array{110101}}}, "districts"},  // a street
        {json::object{{"role", "staff"}, {"districts", json::array{}}}, "communities"},
        {json::object{{"role", "admin"}, {"districts", json::array{110100}}}, "communities"},
        {json::object{{"role", "staff"}, {"districts", json::array{1, 2, 3, 4, 5, 6}}}, "communities"},
    };
    const long long users = scalar("SELECT count(*) FROM users");
    for (auto [body, field] : bad) {
        body["phone"] = "13500000302";
        body["password"] = "staff-password";
        auto r = call("POST", "/v1/admin/users", body, adm.access);
        EXPECT_EQ(r.status, 422) << json::serialize(body);
        EXPECT_EQ(r.body.at("field").as_string(), field) << r.raw.body;
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM users"), users);
}

}  // namespace
}  // namespace carematch::identity
