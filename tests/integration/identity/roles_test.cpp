// Walks every cell of the endpoints × roles table in services/identity/README.md.
#include "identity_fixture.hpp"

namespace carematch::identity {
namespace {

using test_support::identity_fixture;
namespace json = boost::json;

enum col { anonymous, family, provider, worker, staff, admin, service, n_cols };
constexpr const char* col_names[] = {
    "anonymous", "family", "provider", "worker", "staff", "admin", "service"};

TEST_F(identity_fixture, endpoints_by_roles_table_holds_cell_by_cell) {
    // One caller of each role.
    auto fam = new_family("13700000201");
    auto adm = admin();
    auto prov = new_provider("13600000201", "社区食堂");
    auto work = new_worker(prov, "13600000202", "张师傅");
    call("POST",
         "/v1/admin/users",
         json::object{{"phone", "13500000201"},
                      {"password", "staff-password"},
                      {"role", "staff"},
                      {"communities", json::array{110101001}}},
         adm.access);
    auto stf = login("13500000201", "staff-password");
    core::system_clock clock;
    const std::string tokens[n_cols] = {"",
                                        fam.access,
                                        prov.access,
                                        work.access,
                                        stf.access,
                                        adm.access,
                                        auth::token_issuer(key, {}, clock).issue_service("orders")};
    auto rec = call("POST", "/v1/recipients", elder(110101001), fam.access);
    ASSERT_EQ(rec.status, 201);
    const std::string rid(rec.body.at("id").as_string());

    int unique = 0;
    auto phone = [&] { return "1390000" + std::to_string(1000 + unique++); };
    struct row {
        const char* method;
        std::string path;
        std::function<std::optional<json::value>()> body;
        std::array<int, n_cols> expected;
    };
    auto none = [] { return std::optional<json::value>(); };
    const std::string bogus_refresh(64, 'a');
    const std::vector<row> table{
        {"POST",
         "/v1/auth/register",
         [&] {
             return json::value(json::object{{"phone", phone()}, {"password", "password-1"}});
         },
         {201, 201, 201, 201, 201, 201, 201}},
        {"POST",
         "/v1/auth/register/provider",
         [&] {
             return json::value(
                 json::object{{"phone", phone()}, {"password", "password-1"}, {"org_name", "x"}});
         },
         {201, 201, 201, 201, 201, 201, 201}},
        {"POST",
         "/v1/auth/login",
         [&] {
             return json::value(json::object{{"phone", "13700000201"}, {"password", "family-password-1"}});
         },
         {200, 200, 200, 200, 200, 200, 200}},
        {"POST",
         "/v1/auth/refresh",
         [&] {
             return json::value(json::object{{"refresh_token", bogus_refresh}});
         },
         {401, 401, 401, 401, 401, 401, 401}},
        {"POST",
         "/v1/auth/logout",
         [&] {
             return json::value(json::object{{"refresh_token", bogus_refresh}});
         },
         {401, 204, 204, 204, 204, 204, 401}},
        {"GET", "/v1/auth/me", none, {401, 200, 200, 200, 200, 200, 401}},
        {"POST",
         "/v1/auth/workers",
         [&] {
             return json::value(
                 json::object{{"phone", phone()}, {"password", "password-1"}, {"display_name", "w"}});
         },
         {401, 403, 201, 403, 403, 403, 401}},
        {"POST",
         "/v1/admin/users",
         [&] {
             return json::value(json::object{{"phone", phone()},
                                             {"password", "password-1"},
                                             {"role", "staff"},
                                             {"communities", json::array{110101002}}});
         },
         {401, 403, 403, 403, 403, 201, 401}},
        {"GET", "/v1/regions", none, {401, 200, 200, 200, 200, 200, 401}},
        {"POST",
         "/v1/regions",
         [&] {
             return json::value(json::object{{"id", 110101100 + unique++},
                                             {"parent_id", 110101},
                                             {"level", "community"},
                                             {"name", "新建社区"},
                                             {"residents", 100}});
         },
         {401, 403, 403, 403, 403, 201, 401}},
        {"PATCH",
         "/v1/regions/110101001",
         [] {
             return json::value(json::object{{"residents", 5000}});
         },
         {401, 403, 403, 403, 403, 200, 401}},
        {"POST", "/v1/recipients", [&] { return json::value(elder()); }, {401, 201, 403, 403, 403, 403, 401}},
        {"GET", "/v1/recipients?community_id=110101001", none, {401, 200, 403, 403, 200, 403, 401}},
        {"GET", "/v1/recipients/" + rid, none, {401, 200, 403, 403, 200, 403, 401}},
        {"PATCH",
         "/v1/recipients/" + rid,
         [] {
             return json::value(json::object{{"ability_level", 2}});
         },
         {401, 200, 403, 403, 403, 403, 401}},
        {"POST",
         "/v1/recipients/" + rid + "/consents",
         [] {
             return json::value(
                 json::object{{"purpose", "share_health_with_provider"}, {"text_version", "v1"}});
         },
         {401, 201, 403, 403, 403, 403, 401}},
        {"DELETE",
         "/v1/recipients/" + rid + "/consents/share_health_with_provider",
         none,
         {401, 204, 403, 403, 403, 403, 401}},
        {"GET",
         "/v1/internal/recipients/" + rid + "?purpose=order:1",
         none,
         {401, 403, 403, 403, 403, 403, 200}},
        {"DELETE", "/v1/recipients/" + rid, none, {401, 204, 403, 403, 403, 403, 401}},
    };
    for (const auto& r : table) {
        for (int c = 0; c < n_cols; ++c) {
            auto res = call(r.method, r.path, r.body(), tokens[c]);
            EXPECT_EQ(res.status, r.expected[c])
                << r.method << " " << r.path << " as " << col_names[c] << ": " << res.raw.body;
        }
    }
}

}  // namespace
}  // namespace carematch::identity
