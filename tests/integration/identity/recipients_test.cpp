// Care recipients: ownership between families, staff scope, encryption at rest, consent, audit, bad input.
#include "identity_fixture.hpp"

#include <cstdio>

namespace carematch::identity {
namespace {

using test_support::identity_fixture;
namespace json = boost::json;

TEST_F(identity_fixture, a_family_sees_and_changes_only_its_own_recipients) {
    auto a = new_family("13700000101");
    auto b = new_family("13700000102");
    auto created = call("POST", "/v1/recipients", elder(), a.access);
    ASSERT_EQ(created.status, 201) << created.raw.body;
    std::string id(created.body.at("id").as_string());
    EXPECT_EQ(created.body.at("health_notes").as_string(), "type 2 diabetes; insulin at 8:00");

    EXPECT_EQ(call("GET", "/v1/recipients/" + id, std::nullopt, b.access).status, 404);
    EXPECT_EQ(call("PATCH", "/v1/recipients/" + id, json::object{{"name", "冒名"}}, b.access).status, 404);
    EXPECT_EQ(call("DELETE", "/v1/recipients/" + id, std::nullopt, b.access).status, 404);
    EXPECT_EQ(call("POST",
                   "/v1/recipients/" + id + "/consents",
                   json::object{{"purpose", "share_health_with_provider"}, {"text_version", "v1"}},
                   b.access)
                  .status,
              404);
    EXPECT_EQ(call("GET", "/v1/recipients", std::nullopt, b.access).body.at("items").as_array().size(), 0u);

    auto mine = call("GET", "/v1/recipients/" + id, std::nullopt, a.access);
    ASSERT_EQ(mine.status, 200);
    EXPECT_EQ(mine.body.at("name").as_string(), "王秀英");  // untouched by b

    auto patched = call("PATCH", "/v1/recipients/" + id, json::object{{"ability_level", 4}}, a.access);
    ASSERT_EQ(patched.status, 200) << patched.raw.body;
    EXPECT_EQ(patched.body.at("ability_level").as_int64(), 4);
    EXPECT_EQ(patched.body.at("health_notes").as_string(), "type 2 diabetes; insulin at 8:00");

    EXPECT_EQ(call("DELETE", "/v1/recipients/" + id, std::nullopt, a.access).status, 204);
    EXPECT_EQ(call("GET", "/v1/recipients/" + id, std::nullopt, a.access).status, 404);
    EXPECT_EQ(scalar("SELECT count(*) FROM recipients WHERE deleted_at IS NOT NULL"), 1);  // history kept
}

TEST_F(identity_fixture, staff_see_their_communities_only_and_never_sensitive_fields) {
    auto fam = new_family("13700000111");
    auto in_scope = call("POST", "/v1/recipients", elder(110101001), fam.access);
    auto out_of_scope = call("POST", "/v1/recipients", elder(110102001), fam.access);
    ASSERT_EQ(in_scope.status, 201);
    ASSERT_EQ(out_of_scope.status, 201);
    auto a = admin();
    auto created = call("POST",
                        "/v1/admin/users",
                        json::object{{"phone", "13500000001"},
                                     {"password", "staff-password"},
                                     {"role", "staff"},
                                     {"communities", json::array{110101001, 110101002}}},
                        a.access);
    ASSERT_EQ(created.status, 201) << created.raw.body;
    auto staff = login("13500000001", "staff-password");

    auto seen = call("GET",
                     "/v1/recipients/" + std::string(in_scope.body.at("id").as_string()),
                     std::nullopt,
                     staff.access);
    ASSERT_EQ(seen.status, 200);
    EXPECT_EQ(seen.body.at("name").as_string(), "王秀英");
    EXPECT_FALSE(seen.body.as_object().contains("health_notes"));
    EXPECT_FALSE(seen.body.as_object().contains("consents"));
    EXPECT_EQ(call("GET",
                   "/v1/recipients/" + std::string(out_of_scope.body.at("id").as_string()),
                   std::nullopt,
                   staff.access)
                  .status,
              404);
    auto list = call("GET", "/v1/recipients?community_id=110101001", std::nullopt, staff.access);
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.body.at("items").as_array().size(), 1u);
    EXPECT_EQ(call("GET", "/v1/recipients?community_id=110102001", std::nullopt, staff.access).status, 403);
    EXPECT_EQ(call("GET", "/v1/recipients", std::nullopt, staff.access).status, 422);
    EXPECT_EQ(call("PATCH",
                   "/v1/recipients/" + std::string(in_scope.body.at("id").as_string()),
                   json::object{{"name", "x"}},
                   staff.access)
                  .status,
              403);
}

TEST_F(identity_fixture, sensitive_data_is_encrypted_at_rest) {
    auto fam = new_family("13700000121");
    auto body = elder();
    body["health_notes"] = "CANARY-7f3a9 hypertension";
    auto e = call("POST", "/v1/recipients", body, fam.access);
    ASSERT_EQ(e.status, 201);
    json::object child{
        {"kind", "child"},
        {"name", "CANARY-7f3a9 小明"},
        {"birth_date", "2025-05-01"},
        {"community_id", 110101001},
        {"allergies", json::array{"CANARY-7f3a9 peanuts"}},
        {"consents", json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}};
    auto c = call("POST", "/v1/recipients", child, fam.access);
    ASSERT_EQ(c.status, 201) << c.raw.body;
    EXPECT_EQ(c.body.at("name").as_string(), "CANARY-7f3a9 小明");

    std::string cmd = "pg_dump --data-only --schema=" + schema + " '" + test::db_url() + "'";
    FILE* pipe = popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string dump;
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) {
        dump.append(buf, n);
    }
    ASSERT_EQ(pclose(pipe), 0);
    EXPECT_NE(dump.find(std::string(e.body.at("id").as_string())), std::string::npos);  // the dump is real
    // Names, addresses and phones are personal data too: sealed like the rest.
    EXPECT_EQ(dump.find("王秀英"), std::string::npos);
    EXPECT_EQ(dump.find("13700000121"), std::string::npos);
    EXPECT_EQ(dump.find("CANARY-7f3a9"), std::string::npos);
    EXPECT_EQ(dump.find("hypertension"), std::string::npos);
}

// Rows written before personal data was sealed (a plain phone and display name, an elder's plain name,
// address and emergency contacts) are sealed when identity next starts; the family logs in and reads them as
// before; from then on the database itself refuses a plain value.
TEST_F(identity_fixture, personal_data_written_before_sealing_is_sealed_at_the_next_start) {
    auto fam = new_family("13700000141");
    auto e = call("POST", "/v1/recipients", elder(), fam.access);
    ASSERT_EQ(e.status, 201);
    const std::string id(e.body.at("id").as_string());
    pqxx::connection conn(test::db_url());
    {
        // As before migration 005: no checks yet, plain values.
        pqxx::work tx(conn);
        tx.exec("SET LOCAL search_path TO " + schema);
        tx.exec("ALTER TABLE users DROP CONSTRAINT users_no_plain_personal_data");
        tx.exec("ALTER TABLE recipients DROP CONSTRAINT recipients_no_plain_personal_data");
        tx.exec_params(
            "UPDATE users SET phone = '13700000141', display_name = '老用户', phone_index = NULL,"
            " phone_sealed = NULL, display_name_sealed = NULL WHERE id = $1::uuid",
            fam.user_id);
        tx.exec_params(
            "UPDATE recipients SET name = '赵老先生', address = '旧鼓楼大街 8 号', emergency_contacts ="
            " '[{\"name\":\"赵女士\",\"phone\":\"13700000142\",\"relation\":\"女儿\"}]',"
            " name_sealed = NULL, address_sealed = NULL, contacts_sealed = NULL WHERE id = $1::uuid",
            id);
        tx.exec(
            "ALTER TABLE users ADD CONSTRAINT users_no_plain_personal_data"
            " CHECK (phone IS NULL AND display_name = '') NOT VALID");
        tx.exec(
            "ALTER TABLE recipients ADD CONSTRAINT recipients_no_plain_personal_data"
            " CHECK (name IS NULL AND address IS NULL AND emergency_contacts = '[]') NOT VALID");
        tx.commit();
    }
    app again(io, cfg);
    again.start();

    {
        pqxx::work tx(conn);
        tx.exec("SET LOCAL search_path TO " + schema);
        EXPECT_EQ(
            tx.exec1("SELECT count(*) FROM users WHERE phone IS NOT NULL OR display_name <> ''")[0].as<int>(),
            0);
        EXPECT_EQ(tx.exec1("SELECT count(*) FROM recipients WHERE name IS NOT NULL OR address IS NOT NULL")[0]
                      .as<int>(),
                  0);
        EXPECT_TRUE(
            tx.exec1("SELECT bool_and(convalidated) AND count(*) = 2 FROM pg_constraint WHERE conname IN"
                     " ('users_no_plain_personal_data', 'recipients_no_plain_personal_data')"
                     " AND connamespace = " +
                     tx.quote(schema) + "::regnamespace")[0]
                .as<bool>());
    }
    auto back = login("13700000141", "family-password-1");
    ASSERT_FALSE(back.access.empty());
    auto me = call("GET", "/v1/auth/me", std::nullopt, back.access);
    EXPECT_EQ(me.body.at("display_name").as_string(), "老用户");
    auto shown = call("GET", "/v1/recipients/" + id, std::nullopt, back.access);
    ASSERT_EQ(shown.status, 200);
    EXPECT_EQ(shown.body.at("name").as_string(), "赵老先生");
    EXPECT_EQ(shown.body.at("address").as_string(), "旧鼓楼大街 8 号");
    EXPECT_EQ(shown.body.at("emergency_contacts").as_array()[0].at("phone").as_string(), "13700000142");
    // A plain value now breaks a constraint, whoever writes it.
    pqxx::work tx(conn);
    tx.exec("SET LOCAL search_path TO " + schema);
    EXPECT_THROW(tx.exec_params("UPDATE users SET phone = '13700000143' WHERE id = $1::uuid", fam.user_id),
                 pqxx::check_violation);
}

TEST_F(identity_fixture, sensitive_fields_need_consent_and_withdrawal_erases_them) {
    auto fam = new_family("13700000131");
    auto no_consent = elder();
    no_consent.erase("consents");
    auto refused = call("POST", "/v1/recipients", no_consent, fam.access);
    EXPECT_EQ(refused.status, 422);
    EXPECT_EQ(refused.body.at("field").as_string(), "consents");
    no_consent.erase("health_notes");
    auto plain = call("POST", "/v1/recipients", no_consent, fam.access);
    ASSERT_EQ(plain.status, 201);
    std::string plain_id(plain.body.at("id").as_string());
    EXPECT_EQ(
        call("PATCH", "/v1/recipients/" + plain_id, json::object{{"health_notes", "asthma"}}, fam.access)
            .status,
        422);

    auto created = call("POST", "/v1/recipients", elder(), fam.access);
    std::string id(created.body.at("id").as_string());
    EXPECT_EQ(call("DELETE", "/v1/recipients/" + id + "/consents/sensitive_storage", std::nullopt, fam.access)
                  .status,
              204);
    auto after = call("GET", "/v1/recipients/" + id, std::nullopt, fam.access);
    EXPECT_TRUE(after.body.at("health_notes").is_null());
    EXPECT_EQ(after.body.at("consents").as_array().size(), 0u);
    EXPECT_EQ(scalar("SELECT count(*) FROM recipients WHERE id = '" + id + "' AND sealed IS NOT NULL"), 0);
    EXPECT_EQ(call("DELETE", "/v1/recipients/" + id + "/consents/sensitive_storage", std::nullopt, fam.access)
                  .status,
              404);
}

TEST_F(identity_fixture, every_read_by_a_provider_service_writes_one_audit_row) {
    auto fam = new_family("13700000141");
    auto created = call("POST", "/v1/recipients", elder(), fam.access);
    std::string id(created.body.at("id").as_string());
    core::system_clock clock;
    std::string service = auth::token_issuer(key, {}, clock).issue_service("orders");

    auto without_share =
        call("GET", "/v1/internal/recipients/" + id + "?purpose=order:o-1", std::nullopt, service);
    ASSERT_EQ(without_share.status, 200) << without_share.raw.body;
    EXPECT_FALSE(without_share.body.as_object().contains("health_notes"));
    ASSERT_EQ(call("POST",
                   "/v1/recipients/" + id + "/consents",
                   json::object{{"purpose", "share_health_with_provider"}, {"text_version", "v1"}},
                   fam.access)
                  .status,
              201);
    auto shared = call("GET", "/v1/internal/recipients/" + id + "?purpose=order:o-1", std::nullopt, service);
    EXPECT_EQ(shared.body.at("health_notes").as_string(), "type 2 diabetes; insulin at 8:00");
    call("GET", "/v1/internal/recipients/" + id + "?purpose=order:o-1", std::nullopt, service);
    call("GET", "/v1/recipients/" + id, std::nullopt, fam.access);  // the family's own read: no audit row

    EXPECT_EQ(
        scalar("SELECT count(*) FROM audit_log WHERE object_id = '" + id + "' AND action = 'read_sensitive'"),
        2);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE object_id = '" + id + "' AND action LIKE 'read%'"),
              3);
    EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE object_id = '" + id +
                     "' AND action = 'read_sensitive' AND purpose = 'order:o-1' AND actor_id = 'orders'"),
              2);
    EXPECT_EQ(call("GET", "/v1/internal/recipients/" + id, std::nullopt, service).status, 422);  // no purpose
    EXPECT_EQ(call("GET", "/v1/internal/recipients/" + id + "?purpose=x", std::nullopt, fam.access).status,
              403);

    // Nobody, not even the service's own database role, rewrites history.
    pqxx::connection c(test::db_url());
    for (const char* sql :
         {"UPDATE audit_log SET actor_id = 'nobody'", "DELETE FROM audit_log", "TRUNCATE audit_log"}) {
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + schema);
        EXPECT_THROW(tx.exec(sql), pqxx::sql_error) << sql;
    }
}

TEST_F(identity_fixture, bad_recipient_input_is_refused_naming_the_field_and_writes_nothing) {
    auto fam = new_family("13700000151");
    auto with = [](std::initializer_list<std::pair<std::string, json::value>> changes) {
        auto b = elder();
        for (const auto& [k, v] : changes) {
            if (v.is_null()) {
                b.erase(k);
            } else {
                b[k] = v;
            }
        }
        return b;
    };
    struct bad {
        json::object body;
        const char* field;
    };
    const bad cases[] = {
        {with({{"kind", "robot"}}), "kind"},
        {with({{"ability_level", 7}}), "ability_level"},
        {with({{"ability_level", "high"}}), "ability_level"},
        {with({{"priority_categories", json::array{"vip"}}}), "priority_categories"},
        {with({{"diet", json::array{"keto"}}}), "diet"},
        {with({{"gender_preference", "any"}}), "gender_preference"},
        {with({{"location", json::object{{"lat", 51.5}, {"lon", -0.12}}}}), "location"},
        {with({{"location", json::object{{"lat", 10.0}, {"lon", 116.4}}}}), "location"},
        {with({{"birth_date", "2999-01-01"}}), "birth_date"},
        {with({{"birth_date", "1941-02-30"}}), "birth_date"},
        {with({{"birth_date", "03/02/1941"}}), "birth_date"},
        {with({{"name", json::string(std::string(51, 'x'))}}), "name"},
        {with({{"address", json::string(std::string(201, 'a'))}}), "address"},
        {with({{"health_notes", json::string(std::string(2001, 'h'))}}), "health_notes"},
        {with({{"community_id", 110101}}), "community_id"},
        {with({{"community_id", nullptr}}), "community_id"},
        {with({{"family_id", "00000000-0000-4000-8000-000000000000"}}), "family_id"},
        {with({{"allergies", json::array{"nuts"}}}), "allergies"},
        {with({{"emergency_contacts",
                json::array{json::object{{"name", "x"}, {"phone", "110"}, {"relation", "son"}}}}}),
         "emergency_contacts"},
    };
    for (const auto& c : cases) {
        auto r = call("POST", "/v1/recipients", c.body, fam.access);
        EXPECT_EQ(r.status, 422) << json::serialize(c.body) << " → " << r.raw.body;
        if (r.body.is_object() && r.body.as_object().contains("field")) {
            EXPECT_EQ(r.body.at("field").as_string(), c.field) << r.raw.body;
        } else {
            ADD_FAILURE() << "no field in " << r.raw.body;
        }
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM recipients"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM consents"), 0);
}

// 23:30 UTC is 07:30 the next morning in China: a child born that (local) day is born today, not tomorrow.
class identity_at_23_30_utc : public identity_fixture {
  protected:
    identity_at_23_30_utc()
        : identity_fixture(test::required_env("CAREMATCH_TEST_REDIS_URL"),
                           core::clock::time_point(
                               std::chrono::sys_days(std::chrono::year{2026} / std::chrono::March / 1)) +
                               std::chrono::hours(23) + std::chrono::minutes(30)) {}
};

TEST_F(identity_at_23_30_utc, a_birth_date_of_the_local_today_is_accepted_and_tomorrow_is_not) {
    auto fam = new_family("13700002330");
    auto child = [&](const char* born) {
        return call(
            "POST",
            "/v1/recipients",
            json::object{
                {"kind", "child"},
                {"name", "小雨"},
                {"birth_date", born},
                {"community_id", 110101001},
                {"consents",
                 json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}},
            fam.access);
    };
    auto today = child("2026-03-02");
    EXPECT_EQ(today.status, 201) << today.raw.body;
    auto tomorrow = child("2026-03-03");
    EXPECT_EQ(tomorrow.status, 422) << tomorrow.raw.body;
}

}  // namespace
}  // namespace carematch::identity
