// complaints against the real PostgreSQL and Redis, with identity beside it for accounts, on a street of its
// own and a working-day calendar of its own: filing, the claim race, SLA clocks across a weekend and a public
// holiday with warning, breach and escalation, the transfer limit, the reopen window, the return visit before
// closing, a rectification ticket from a bad review, and who may see what.
#include "integration/identity/identity_fixture.hpp"
#include "support/region_tree.hpp"

#include <carematch/complaints/app.hpp>
#include <carematch/redis/client.hpp>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>

namespace carematch::complaints {
namespace {

namespace json = boost::json;
using identity::test_support::reply;

// Friday 2026-12-04 10:00 local (02:00 UTC); Monday 2026-12-07 is a public holiday in this test's calendar.
const core::clock::time_point friday_10 =
    std::chrono::sys_days(std::chrono::year{2026} / 12 / 4) + std::chrono::hours(2);

// The test's own streets, and a working-day calendar with a holiday on Monday 7 and Saturday 12 worked.
struct files {
    test::region_tree tree{6100, 6999};
    std::int64_t street = tree.street;
    std::int64_t community = tree.community;
    std::string regions = tree.path;
    std::string calendar =
        (std::filesystem::temp_directory_path() / ("carematch-workdays-" + core::new_uuid() + ".json"))
            .string();
    files() { std::ofstream(calendar) << R"({"holidays":["2026-12-07"],"workdays":["2026-12-12"]})"; }
    ~files() { std::filesystem::remove(calendar); }
};

class complaints_fixture : public identity::test_support::identity_fixture {
  protected:
    complaints_fixture() {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            {"CAREMATCH_DB_QUEUE_LIMIT", "100000"},
            {"CAREMATCH_DB_ACQUIRE_TIMEOUT_MS", "600000"},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_COMPLAINTS_COMPLAINTS_SCHEMA", schema_name},
            {"CAREMATCH_COMPLAINTS_REGIONS_FILE", f.regions},
            {"CAREMATCH_COMPLAINTS_CALENDAR_FILE", f.calendar},
            {"CAREMATCH_COMPLAINTS_CONSUMER_GROUP", "complaints-" + schema_name},
            {"CAREMATCH_COMPLAINTS_RATINGS_STREAM", ratings_stream},
        };
        core::config_source src(
            "", "complaints", [env](const std::string& name) -> std::optional<std::string> {
                auto it = env.find(name);
                return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
            });
        auto cfg = read_config(src);
        src.reject_unknown();
        // Tokens are checked on the complaints clock, which starts at a fixed Friday: the test issues its
        // own.
        complaints = std::make_unique<app>(io, cfg, clock);
        complaints->start();
        complaints->add_routes(routes);
    }
    ~complaints_fixture() override {
        server.reset();
        complaints.reset();
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> del{
                "DEL", "carematch:{region:" + std::to_string(f.street) + "}:orders", ratings_stream};
            co_await r.command(std::move(del));
        }());
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema_name + " CASCADE");
        tx.commit();
    }

    void publish(const std::string& stream, const std::string& type, const json::object& payload) {
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> add{"XADD",
                                         stream,
                                         "*",
                                         "id",
                                         core::new_uuid(),
                                         "type",
                                         type,
                                         "payload",
                                         json::serialize(payload),
                                         "occurred_at",
                                         "2026-12-04T01:00:00Z"};
            co_await r.command(std::move(add));
        }());
        std::size_t handled = 0;
        for (int i = 0; i < 20 && handled == 0; ++i) {
            handled = test::run_coro(client_io, complaints->consume_once());
        }
        EXPECT_EQ(handled, 1u);
    }

    // A service completed for `family` by `org`, as orders' relay publishes it (by a crew when
    // `second_worker` is given).
    std::string completed(const std::string& family,
                          const std::string& org,
                          const std::string& second_worker = "") {
        const std::string order = core::new_uuid();
        json::object payload{{"order_id", order},
                             {"family_id", family},
                             {"community_id", f.community},
                             {"kind", "bath"},
                             {"worker_id", core::new_uuid()},
                             {"org_id", org},
                             {"at", "2026-12-04T01:00:00Z"}};
        if (!second_worker.empty()) {
            payload["second_worker_id"] = second_worker;
        }
        publish("carematch:{region:" + std::to_string(f.street) + "}:orders", "order.completed", payload);
        return order;
    }

    // Tokens issued on the complaints clock (the services check them against it).
    std::string token(const std::string& id,
                      auth::role role,
                      const std::string& org = "",
                      std::vector<std::int64_t> communities = {}) {
        auth::caller who;
        who.id = id;
        who.role = role;
        who.org = org;
        who.communities = std::move(communities);
        return auth::token_issuer(key, {}, clock).issue(who);
    }

    reply file(const std::string& tok, json::object body) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/complaints";
        o.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + tok},
                     {"Idempotency-Key", core::new_uuid()}};
        o.body = json::serialize(body);
        auto res = test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
        reply r;
        r.status = res->status;
        r.raw = *res;
        boost::system::error_code ec;
        r.body = json::parse(res->body, ec);
        return r;
    }

    std::string scalar_text(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + schema_name);
        return tx.exec(sql)[0][0].as<std::string>();
    }

    long long scalar(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + schema_name);
        return tx.exec(sql)[0][0].as<long long>();
    }

    files f;
    std::string schema_name = test::unique_schema("complaints");
    std::string ratings_stream = "carematch:{ratings}:test-" + core::new_uuid();
    core::manual_clock clock{friday_10};
    std::unique_ptr<app> complaints;
    std::string family_id = core::new_uuid();
    std::string org_id = core::new_uuid();
};

TEST_F(complaints_fixture, a_family_files_about_what_it_was_served_with_clocks_in_working_days) {
    const auto fam = token(family_id, auth::role::family);
    const auto order = completed(family_id, org_id);
    auto bad_category = file(fam, json::object{{"order_id", order}, {"category", "weather"}, {"text", "x"}});
    EXPECT_EQ(bad_category.status, 422);
    EXPECT_EQ(bad_category.body.at("field").as_string(), "category");
    EXPECT_EQ(
        file(fam,
             json::object{{"order_id", order}, {"category", "quality"}, {"text", std::string(2001, 'a')}})
            .status,
        422);
    EXPECT_EQ(file(token(core::new_uuid(), auth::role::family),
                   json::object{{"order_id", order}, {"category", "quality"}, {"text", "not mine"}})
                  .status,
              422);  // another family's service
    EXPECT_EQ(file(token(core::new_uuid(), auth::role::provider, org_id),
                   json::object{{"order_id", order}, {"category", "quality"}, {"text", "x"}})
                  .status,
              403);
    EXPECT_EQ(scalar("SELECT count(*) FROM tickets"), 0);

    // Normal: sign for within 2 working days. Friday → (Sat, Sun, Monday's holiday) → Tuesday, Wednesday.
    auto normal =
        file(fam, json::object{{"order_id", order}, {"category", "quality"}, {"text", "洗完没有擦干"}});
    ASSERT_EQ(normal.status, 201) << normal.raw.body;
    EXPECT_EQ(normal.body.at("severity").as_string(), "normal");
    EXPECT_EQ(normal.body.at("sign_due").as_string(), "2026-12-09T02:00:00Z");
    // Resolve within 7 working days: Tue 8, Wed 9, Thu 10, Fri 11, Sat 12 (a working day here), Mon 14,
    // Tue 15.
    EXPECT_EQ(normal.body.at("resolve_due").as_string(), "2026-12-15T02:00:00Z");
    // Safety is urgent: 2 hours to sign for, 24 to resolve.
    auto urgent =
        file(fam, json::object{{"order_id", order}, {"category", "safety"}, {"text", "护理员推搡老人"}});
    ASSERT_EQ(urgent.status, 201);
    EXPECT_EQ(urgent.body.at("severity").as_string(), "urgent");
    EXPECT_EQ(urgent.body.at("sign_due").as_string(), "2026-12-04T04:00:00Z");
    EXPECT_EQ(urgent.body.at("resolve_due").as_string(), "2026-12-05T02:00:00Z");
    // The queue: urgent first.
    const auto staff = token(core::new_uuid(), auth::role::staff, "", {f.community});
    auto queue =
        call("GET", "/v1/complaints?community_id=" + std::to_string(f.community), std::nullopt, staff);
    ASSERT_EQ(queue.status, 200) << queue.raw.body;
    ASSERT_EQ(queue.body.at("items").as_array().size(), 2u);
    EXPECT_EQ(queue.body.at("items").as_array()[0].at("severity").as_string(), "urgent");
    EXPECT_EQ(call("GET",
                   "/v1/complaints?community_id=" + std::to_string(f.community),
                   std::nullopt,
                   token(core::new_uuid(), auth::role::staff, "", {f.community + 1}))
                  .status,
              403);

    // At 80 % of the urgent sign-for clock a warning; past it a breach, escalated to the district; once each.
    clock.advance(std::chrono::minutes(97));
    auto s1 = test::run_coro(client_io, complaints->check_sla());
    EXPECT_EQ(s1.warnings, 1u);
    EXPECT_EQ(s1.breaches, 0u);
    clock.advance(std::chrono::minutes(30));
    auto s2 = test::run_coro(client_io, complaints->check_sla());
    EXPECT_EQ(s2.breaches, 1u);
    EXPECT_EQ(test::run_coro(client_io, complaints->check_sla()).breaches, 0u);
    EXPECT_EQ(scalar("SELECT count(*) FROM tickets WHERE escalated"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE event_type = 'complaint.sla_breached'"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE event_type = 'complaint.escalated'"), 1);
}

// The 401 and 403 cells of the endpoints × roles table in services/complaints/README.md, walked on one open
// ticket of the family's; the ticket is unchanged after all of them. (The 2xx cells are the flows above.)
TEST_F(complaints_fixture, endpoints_by_roles_table_refusals_hold_cell_by_cell) {
    const auto fam = token(family_id, auth::role::family);
    const auto order = completed(family_id, org_id);
    auto filed = file(fam, json::object{{"order_id", order}, {"category", "quality"}, {"text", "饭菜凉了"}});
    ASSERT_EQ(filed.status, 201) << filed.raw.body;
    const std::string id(filed.body.at("id").as_string());
    const std::string base = "/v1/complaints/" + id;

    enum col { anonymous, family, provider, worker, staff, admin, service, n_cols };
    const std::string tokens[n_cols] = {"",
                                        fam,
                                        token(core::new_uuid(), auth::role::provider, org_id),
                                        token(core::new_uuid(), auth::role::worker, org_id),
                                        token(core::new_uuid(), auth::role::staff, "", {f.community}),
                                        token(core::new_uuid(), auth::role::admin),
                                        auth::token_issuer(key, {}, clock).issue_service("orders")};
    constexpr int walked_elsewhere = 0;
    struct row {
        const char* method;
        std::string path;
        json::object body;
        std::array<int, n_cols> expected;
    };
    const int x = walked_elsewhere;
    const std::array<int, n_cols> staff_only{401, 403, 403, 403, x, 403, 401};
    const std::vector<row> table{
        {"POST",
         "/v1/complaints",
         json::object{{"community_id", f.community}, {"category", "quality"}, {"text", "电话投诉"}},
         {401, x, 403, 403, x, 403, 401}},
        {"GET", "/v1/complaints", {}, {401, x, x, 403, x, x, 401}},
        {"GET", base, {}, {401, x, x, 403, x, x, 401}},
        {"POST", base + "/claim", json::object{{"version", 1}}, staff_only},
        {"POST", base + "/release", {}, staff_only},
        {"POST",
         base + "/transfer",
         json::object{{"community_id", f.community + 1}, {"reason", "r"}},
         staff_only},
        {"POST", base + "/notes", json::object{{"text", "x"}}, {401, x, 403, 403, x, 403, 401}},
        {"POST", base + "/resolve", json::object{{"outcome", "upheld"}}, staff_only},
        {"POST", base + "/confirm", {}, {401, x, 403, 403, 403, 403, 401}},
        {"POST", base + "/reopen", json::object{{"reason", "r"}}, {401, x, 403, 403, 403, 403, 401}},
        {"POST", base + "/return-visit", json::object{{"satisfaction", 5}}, staff_only},
        {"POST", base + "/close", {}, staff_only},
        {"POST", base + "/severity", json::object{{"severity", "high"}, {"reason", "r"}}, staff_only},
        {"POST", base + "/escalate", json::object{{"reason", "r"}}, staff_only},
        {"POST", base + "/ask-provider", json::object{{"question", "q"}}, staff_only},
        {"POST",
         base + "/provider-response",
         json::object{{"response", "r"}},
         {401, 403, x, 403, 403, 403, 401}},
    };
    const auto version = scalar("SELECT version FROM tickets");
    const auto tickets = scalar("SELECT count(*) FROM tickets");
    const auto timeline = scalar("SELECT count(*) FROM timeline");
    for (const auto& r : table) {
        for (int c = 0; c < n_cols; ++c) {
            if (r.expected[c] == walked_elsewhere) {
                continue;
            }
            auto got =
                call(r.method,
                     r.path,
                     std::string_view(r.method) == "GET" ? std::nullopt : std::optional<json::value>(r.body),
                     tokens[c]);
            EXPECT_EQ(got.status, r.expected[c])
                << r.method << " " << r.path << " as " << c << ": " << got.raw.body;
        }
    }
    EXPECT_EQ(scalar("SELECT version FROM tickets"), version);
    EXPECT_EQ(scalar("SELECT count(*) FROM tickets"), tickets);
    EXPECT_EQ(scalar("SELECT count(*) FROM timeline"), timeline);
}

TEST_F(complaints_fixture, one_of_twenty_staff_claims_a_ticket) {
    const auto order = completed(family_id, org_id);
    auto filed = file(token(family_id, auth::role::family),
                      json::object{{"order_id", order}, {"category", "no_show"}, {"text", "约好九点没来"}});
    ASSERT_EQ(filed.status, 201);
    const std::string id(filed.body.at("id").as_string());
    const auto version = filed.body.at("version").as_int64();
    std::vector<std::future<int>> tries;
    const std::uint16_t port = server->port();
    for (int i = 0; i < 20; ++i) {
        const auto tok = token(core::new_uuid(), auth::role::staff, "", {f.community});
        tries.push_back(std::async(std::launch::async, [tok, id, version, port] {
            boost::asio::io_context io;
            http::client c(io);
            http::outgoing o;
            o.method = "POST";
            o.target = "/v1/complaints/" + id + "/claim";
            o.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + tok}};
            o.body = R"({"version":)" + std::to_string(version) + "}";
            return test::run_coro(io, c.send("127.0.0.1", port, o))->status;
        }));
    }
    int won = 0;
    int lost = 0;
    for (auto& t : tries) {
        const int s = t.get();
        won += s == 200 ? 1 : 0;
        lost += s == 409 ? 1 : 0;
    }
    EXPECT_EQ(won, 1);
    EXPECT_EQ(lost, 19);
    EXPECT_EQ(scalar("SELECT count(*) FROM timeline WHERE action = 'claimed'"), 1);
}

TEST_F(complaints_fixture, transfers_resolution_return_visit_reopening_and_who_sees_what) {
    const auto fam = token(family_id, auth::role::family);
    const auto order = completed(family_id, org_id);
    auto filed = file(fam, json::object{{"order_id", order}, {"category", "attitude"}, {"text", "态度很差"}});
    ASSERT_EQ(filed.status, 201);
    const std::string id(filed.body.at("id").as_string());
    const std::string base = "/v1/complaints/" + id;
    const auto staff_id = core::new_uuid();
    const std::vector<std::int64_t> scope{f.community, f.community + 1, f.community + 2, f.community + 3};
    const auto staff = token(staff_id, auth::role::staff, "", scope);

    // Who sees what: the provider without the family; another family and staff elsewhere not at all.
    auto as_provider = call("GET", base, std::nullopt, token(core::new_uuid(), auth::role::provider, org_id));
    ASSERT_EQ(as_provider.status, 200);
    EXPECT_TRUE(as_provider.body.at("family_id").is_null());
    EXPECT_EQ(call("GET", base, std::nullopt, token(core::new_uuid(), auth::role::family)).status, 404);
    EXPECT_EQ(
        call("GET", base, std::nullopt, token(core::new_uuid(), auth::role::staff, "", {f.community + 9}))
            .status,
        404);
    EXPECT_EQ(call("GET", base, std::nullopt, token(core::new_uuid(), auth::role::provider, core::new_uuid()))
                  .status,
              404);

    // Two transfers, then the district decides.
    auto move = [&](std::int64_t to) {
        return call(
            "POST", base + "/transfer", json::object{{"community_id", to}, {"reason", "不属本社区"}}, staff);
    };
    EXPECT_EQ(move(f.community + 1).status, 200);
    EXPECT_EQ(move(f.community + 2).status, 200);
    auto third = move(f.community + 3);
    EXPECT_EQ(third.status, 409) << third.raw.body;

    // Claim, then an internal note the family never sees, then resolve as upheld.
    const auto version = call("GET", base, std::nullopt, staff).body.at("version").as_int64();
    // A member the schema does not have is refused and named, and changes nothing.
    auto odd_claim =
        call("POST", base + "/claim", json::object{{"version", version}, {"assignee", "x"}}, staff);
    EXPECT_EQ(odd_claim.status, 422);
    EXPECT_EQ(odd_claim.body.at("field").as_string(), "assignee");
    EXPECT_EQ(call("GET", base, std::nullopt, staff).body.at("version").as_int64(), version);
    ASSERT_EQ(call("POST", base + "/claim", json::object{{"version", version}}, staff).status, 200);
    ASSERT_EQ(call("POST", base + "/notes", json::object{{"text", "已联系机构负责人"}}, staff).status, 200);
    EXPECT_EQ(call("POST",
                   base + "/resolve",
                   json::object{{"outcome", "upheld"}, {"measures", "警告"}, {"closed", true}},
                   staff)
                  .status,
              422);
    EXPECT_EQ(
        call("POST", base + "/resolve", json::object{{"outcome", "rejected"}, {"measures", "无"}}, staff)
            .status,
        422);  // the outcomes are upheld, partly_upheld and not_upheld
    auto resolved =
        call("POST",
             base + "/resolve",
             json::object{{"outcome", "upheld"}, {"measures", "对护理员警告一次"}, {"refund_fen", 2400}},
             staff);
    ASSERT_EQ(resolved.status, 200) << resolved.raw.body;
    auto family_view = call("GET", base, std::nullopt, fam);
    for (const auto& row : family_view.body.at("timeline").as_array()) {
        EXPECT_FALSE(row.at("internal").as_bool());
    }
    // An upheld ticket closes only after a return visit.
    EXPECT_EQ(call("POST", base + "/close", std::nullopt, staff).status, 409);
    EXPECT_EQ(call("POST", base + "/return-visit", json::object{{"satisfaction", 9}}, staff).status, 422);
    // A note that cannot be kept is refused, never dropped: a NUL, 2,001 characters, another member.
    for (const auto& odd : {json::object{{"satisfaction", 4}, {"note", std::string("好\0坏", 7)}},
                            json::object{{"satisfaction", 4}, {"note", std::string(2001, 'a')}},
                            json::object{{"satisfaction", 4}, {"mood", "ok"}}}) {
        EXPECT_EQ(call("POST", base + "/return-visit", odd, staff).status, 422) << json::serialize(odd);
    }
    // The family reopens it within 7 days (not after).
    auto reopened = call("POST", base + "/reopen", json::object{{"reason", "还是没有道歉"}}, fam);
    ASSERT_EQ(reopened.status, 200) << reopened.raw.body;
    EXPECT_EQ(reopened.body.at("state").as_string(), "open");
    const auto v2 = reopened.body.at("version").as_int64();
    ASSERT_EQ(call("POST", base + "/claim", json::object{{"version", v2}}, staff).status, 200);
    ASSERT_EQ(call("POST",
                   base + "/resolve",
                   json::object{{"outcome", "upheld"}, {"measures", "机构当面道歉"}},
                   staff)
                  .status,
              200);
    {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + schema_name);
        tx.exec("UPDATE tickets SET resolved_at = resolved_at - interval '8 days'");
        tx.commit();
    }
    EXPECT_EQ(call("POST", base + "/reopen", json::object{{"reason", "again"}}, fam).status, 409);
    ASSERT_EQ(call("POST", base + "/return-visit", json::object{{"satisfaction", 4}, {"note", "满意"}}, staff)
                  .status,
              200);
    auto closed = call("POST", base + "/close", std::nullopt, staff);
    ASSERT_EQ(closed.status, 200) << closed.raw.body;
    EXPECT_EQ(closed.body.at("state").as_string(), "closed");
    EXPECT_GE(scalar("SELECT count(*) FROM timeline WHERE ticket_id = '" + id + "'"), 10);
}

// Staff change a ticket's severity with a reason (its clocks follow), escalate it by hand once, and ask the
// organisation for its response, which it gives within its own clock in working days or is marked overdue.
TEST_F(complaints_fixture, severity_escalation_and_the_provider_s_own_clock) {
    const auto fam = token(family_id, auth::role::family);
    auto filed = file(
        fam,
        json::object{
            {"order_id", completed(family_id, org_id)}, {"category", "quality"}, {"text", "洗得不干净"}});
    ASSERT_EQ(filed.status, 201);
    const std::string base = "/v1/complaints/" + std::string(filed.body.at("id").as_string());
    EXPECT_EQ(filed.body.at("severity"), "normal");
    const auto staff = token(core::new_uuid(), auth::role::staff, "", {f.community});
    const auto provider = token(core::new_uuid(), auth::role::provider, org_id);

    // Severity: staff only, with a reason, to another level; the resolve clock becomes the urgent one (24 h).
    EXPECT_EQ(
        call("POST", base + "/severity", json::object{{"severity", "urgent"}, {"reason", "老人摔倒"}}, fam)
            .status,
        403);
    EXPECT_EQ(call("POST", base + "/severity", json::object{{"severity", "urgent"}}, staff).status, 422);
    EXPECT_EQ(call("POST", base + "/severity", json::object{{"severity", "critical"}, {"reason", "x"}}, staff)
                  .status,
              422);
    auto raised =
        call("POST", base + "/severity", json::object{{"severity", "urgent"}, {"reason", "老人摔倒"}}, staff);
    ASSERT_EQ(raised.status, 200) << raised.raw.body;
    EXPECT_EQ(raised.body.at("severity"), "urgent");
    EXPECT_EQ(raised.body.at("resolve_due"), "2026-12-05T02:00:00Z");
    EXPECT_EQ(
        call("POST", base + "/severity", json::object{{"severity", "urgent"}, {"reason", "again"}}, staff)
            .status,
        409);

    // Escalation by hand, once; the district's queue (staff holding its communities) lists the escalated
    // ones.
    const auto queue = "/v1/complaints?community_id=" + std::to_string(f.community) + "&escalated=true";
    EXPECT_TRUE(call("GET", queue, std::nullopt, staff).body.at("items").as_array().empty());
    EXPECT_EQ(call("POST", base + "/escalate", json::object{{"reason", "需要区里协调"}}, staff).status, 200);
    EXPECT_EQ(call("POST", base + "/escalate", json::object{{"reason", "again"}}, staff).status, 409);
    EXPECT_EQ(call("GET", queue, std::nullopt, staff).body.at("items").as_array().size(), 1u);
    EXPECT_EQ(call("GET", queue.substr(0, queue.size() - 4) + "maybe", std::nullopt, staff).status, 400);

    // The provider is asked on Friday; two working days later (Monday is a holiday here) is Wednesday 10:00.
    EXPECT_EQ(call("POST", base + "/provider-response", json::object{{"response", "早"}}, provider).status,
              409);
    EXPECT_EQ(call("POST", base + "/ask-provider", json::object{{"question", "请说明情况"}}, provider).status,
              403);
    auto asked = call("POST", base + "/ask-provider", json::object{{"question", "请说明情况"}}, staff);
    ASSERT_EQ(asked.status, 200) << asked.raw.body;
    EXPECT_EQ(asked.body.at("provider_response").at("due"), "2026-12-09T02:00:00Z");
    EXPECT_EQ(call("POST", base + "/ask-provider", json::object{{"question", "再问"}}, staff).status, 409);
    // Another organisation cannot answer; the family sees the question but cannot answer it either.
    EXPECT_EQ(call("POST",
                   base + "/provider-response",
                   json::object{{"response", "不是我们"}},
                   token(core::new_uuid(), auth::role::provider, core::new_uuid()))
                  .status,
              404);
    EXPECT_EQ(call("POST", base + "/provider-response", json::object{{"response", "x"}}, fam).status, 403);
    // Unanswered past the due time: overdue, once.
    clock.advance(std::chrono::hours(24 * 5 + 1));
    EXPECT_EQ(test::run_coro(client_io, complaints->check_sla()).provider_overdue, 1u);
    EXPECT_EQ(test::run_coro(client_io, complaints->check_sla()).provider_overdue, 0u);
    const auto later = token(core::new_uuid(), auth::role::provider, org_id);  // tokens live on this clock
    auto seen = call("GET", base, std::nullopt, later);
    ASSERT_EQ(seen.status, 200) << seen.raw.body;
    EXPECT_TRUE(seen.body.at("provider_response").at("overdue").as_bool());
    EXPECT_TRUE(seen.body.at("family_id").is_null());
    auto answered =
        call("POST", base + "/provider-response", json::object{{"response", "已安排复洗"}}, later);
    ASSERT_EQ(answered.status, 200) << answered.raw.body;
    EXPECT_EQ(answered.body.at("provider_response").at("response"), "已安排复洗");
    EXPECT_EQ(call("POST", base + "/provider-response", json::object{{"response", "again"}}, later).status,
              409);
    // One event each (escalations come from the breached SLA clocks as well).
    EXPECT_EQ(
        scalar("SELECT count(*) FROM outbox WHERE event_type IN ('complaint.severity_changed',"
               " 'complaint.provider_asked', 'complaint.provider_overdue', 'complaint.provider_responded')"),
        4);
}

// A family may complain about an organisation or a worker that served it, not only about one order; about
// nobody else.
TEST_F(complaints_fixture, a_family_complains_about_an_organisation_or_worker_that_served_it) {
    const auto fam = token(family_id, auth::role::family);
    const auto order = completed(family_id, org_id);
    const auto worker = scalar_text("SELECT worker_id::text FROM served WHERE order_id = '" + order + "'");
    auto about_org = file(fam, json::object{{"org_id", org_id}, {"category", "fee"}, {"text", "多收费"}});
    ASSERT_EQ(about_org.status, 201) << about_org.raw.body;
    EXPECT_TRUE(about_org.body.at("order_id").is_null());
    EXPECT_EQ(about_org.body.at("org_id").as_string(), org_id);
    EXPECT_TRUE(about_org.body.at("worker_id").is_null());
    EXPECT_EQ(about_org.body.at("community_id"), f.community);
    auto about_worker =
        file(fam, json::object{{"worker_id", worker}, {"category", "attitude"}, {"text", "态度差"}});
    ASSERT_EQ(about_worker.status, 201) << about_worker.raw.body;
    EXPECT_EQ(about_worker.body.at("worker_id").as_string(), worker);
    EXPECT_EQ(about_worker.body.at("org_id").as_string(), org_id);
    // Either worker of a crew that served the family: the ticket names the one the family named.
    const std::string second = core::new_uuid();
    completed(family_id, org_id, second);
    auto about_second =
        file(fam, json::object{{"worker_id", second}, {"category", "attitude"}, {"text", "动作粗暴"}});
    ASSERT_EQ(about_second.status, 201) << about_second.raw.body;
    EXPECT_EQ(about_second.body.at("worker_id").as_string(), second);
    // Nobody that served this family, a malformed id, or an order and an organisation at once: 422.
    auto stranger = file(fam, json::object{{"org_id", core::new_uuid()}, {"category", "fee"}, {"text", "x"}});
    EXPECT_EQ(stranger.status, 422);
    EXPECT_EQ(stranger.body.at("field"), "org_id");
    EXPECT_EQ(file(fam, json::object{{"worker_id", "w-1"}, {"category", "fee"}, {"text", "x"}}).status, 422);
    EXPECT_EQ(
        file(fam, json::object{{"order_id", order}, {"org_id", org_id}, {"category", "fee"}, {"text", "x"}})
            .status,
        422);
    // The organisation sees the complaint about it, without the family.
    auto seen = call("GET",
                     "/v1/complaints/" + std::string(about_org.body.at("id").as_string()),
                     std::nullopt,
                     token(core::new_uuid(), auth::role::provider, org_id));
    EXPECT_EQ(seen.status, 200);
    EXPECT_TRUE(seen.body.at("family_id").is_null());
}

// Resolving with a suspension of the worker or organisation the ticket names orders it from providers by an
// event; a suspension of nobody named, in the past, or for a complaint not upheld is refused.
TEST_F(complaints_fixture, resolving_can_order_a_suspension_from_providers) {
    const auto fam = token(family_id, auth::role::family);
    auto filed =
        file(fam,
             json::object{
                 {"order_id", completed(family_id, org_id)}, {"category", "safety"}, {"text", "动作粗暴"}});
    ASSERT_EQ(filed.status, 201);
    const std::string base = "/v1/complaints/" + std::string(filed.body.at("id").as_string());
    const auto staff = token(core::new_uuid(), auth::role::staff, "", {f.community});
    const auto version = call("GET", base, std::nullopt, staff).body.at("version").as_int64();
    // A member the schema does not have is refused and named, and changes nothing.
    auto odd_claim =
        call("POST", base + "/claim", json::object{{"version", version}, {"assignee", "x"}}, staff);
    EXPECT_EQ(odd_claim.status, 422);
    EXPECT_EQ(odd_claim.body.at("field").as_string(), "assignee");
    EXPECT_EQ(call("GET", base, std::nullopt, staff).body.at("version").as_int64(), version);
    ASSERT_EQ(call("POST", base + "/claim", json::object{{"version", version}}, staff).status, 200);
    auto resolve = [&](const char* outcome, json::object suspend) {
        return call(
            "POST",
            base + "/resolve",
            json::object{{"outcome", outcome}, {"measures", "暂停接单一周"}, {"suspend", std::move(suspend)}},
            staff);
    };
    EXPECT_EQ(resolve("upheld", json::object{{"target", "nurse"}, {"until", "2099-01-01T00:00:00Z"}}).status,
              422);
    EXPECT_EQ(resolve("upheld", json::object{{"target", "worker"}, {"until", "2000-01-01T00:00:00Z"}}).status,
              422);
    EXPECT_EQ(
        resolve("not_upheld", json::object{{"target", "worker"}, {"until", "2099-01-01T00:00:00Z"}}).status,
        422);
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE event_type = 'complaint.suspension_ordered'"), 0);
    auto done = resolve("upheld", json::object{{"target", "worker"}, {"until", "2099-01-01T00:00:00Z"}});
    ASSERT_EQ(done.status, 200) << done.raw.body;
    const auto payload = json::parse(
        scalar_text("SELECT payload FROM outbox WHERE event_type = 'complaint.suspension_ordered'"));
    EXPECT_EQ(payload.at("target"), "worker");
    EXPECT_EQ(payload.at("subject_id").as_string(), std::string(filed.body.at("worker_id").as_string()));
    EXPECT_EQ(payload.at("until"), "2099-01-01T00:00:00Z");
}

TEST_F(complaints_fixture, a_bad_review_opens_one_rectification_ticket) {
    const std::string review = core::new_uuid();
    json::object bad{{"review_id", review},
                     {"order_id", core::new_uuid()},
                     {"family_id", family_id},
                     {"org_id", org_id},
                     {"worker_id", core::new_uuid()},
                     {"community_id", f.community},
                     {"kind", "bath"},
                     {"level", 1},
                     {"comment", "迟到一小时"},
                     {"rectify_working_days", 15}};
    publish(ratings_stream, "rating.bad", bad);
    publish(ratings_stream, "rating.bad", bad);  // delivered again (another event id): still one ticket
    EXPECT_EQ(scalar("SELECT count(*) FROM tickets WHERE source = 'rating' AND category = 'rectification'"),
              1);
    // 15 working days from Friday 4 December: holiday on the 7th, the 12th worked.
    auto staff = token(core::new_uuid(), auth::role::staff, "", {f.community});
    auto list =
        call("GET", "/v1/complaints?community_id=" + std::to_string(f.community), std::nullopt, staff);
    ASSERT_EQ(list.body.at("items").as_array().size(), 1u);
    EXPECT_EQ(list.body.at("items").as_array()[0].at("resolve_due").as_string(), "2026-12-25T02:00:00Z");
}

}  // namespace
}  // namespace carematch::complaints
