// nursery against the real PostgreSQL and Redis, beside identity and providers: the capacity calendar under
// 1,000 concurrent bookings, waitlist promotion, age bands, home nursery points, BOLA, dates, attendance,
// notice fees, monthly figures.
#include "integration/identity/identity_fixture.hpp"
#include "nursery/src/logic.hpp"
#include "support/roles_table.hpp"

#include <carematch/core/checks.hpp>
#include <carematch/nursery/app.hpp>
#include <carematch/providers/app.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>

namespace carematch::nursery {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class nursery_fixture : public identity::test_support::identity_fixture {
  protected:
    nursery_fixture() {
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            // Bursts of hundreds at once: these tests are about contention, not shedding (its own test).
            {"CAREMATCH_DB_QUEUE_LIMIT", "100000"},
            {"CAREMATCH_DB_ACQUIRE_TIMEOUT_MS", "600000"},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_PROVIDERS_PROVIDERS_SCHEMA", providers_schema},
            {"CAREMATCH_PROVIDERS_CATALOG_FILE", std::string(CAREMATCH_SOURCE_DIR) + "/config/catalog.json"},
            {"CAREMATCH_NURSERY_NURSERY_SCHEMA", nursery_schema},
            {"CAREMATCH_NURSERY_NURSERY_REGIONS_FILE",
             std::string(CAREMATCH_SOURCE_DIR) + "/config/regions.json"},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_AUTH_DATA_KEY", cfg.auth.data_key},  // identity's: the sealed address travels
        };
        auto lookup = [env](const std::string& name) -> std::optional<std::string> {
            auto it = env.find(name);
            return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
        };
        core::config_source psrc("", "providers", lookup);
        providers = std::make_unique<carematch::providers::app>(io, carematch::providers::read_config(psrc));
        providers->start();
        providers->add_routes(routes);
        core::config_source nsrc("", "nursery", lookup);
        auto ncfg = read_config(nsrc);
        nsrc.reject_unknown();
        nursery = std::make_unique<app>(io, ncfg, clock);
        nursery->start();
        nursery->add_routes(routes);
        nursery->set_peer("identity", {"127.0.0.1", server->port()});
        nursery->set_peer("providers", {"127.0.0.1", server->port()});
    }
    ~nursery_fixture() override {
        server.reset();
        nursery.reset();
        providers.reset();
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + nursery_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + providers_schema + " CASCADE");
        tx.commit();
    }

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

    // An approved nursery organisation with its profile filed; returns {provider token, nursery json}.
    std::pair<std::string, json::object> new_nursery(const std::string& phone,
                                                     json::object profile,
                                                     const char* org_kind = "nursery") {
        auto p = new_provider(phone, "阳光托育");
        auto filed = call("PUT",
                          "/v1/providers/me/organisation",
                          json::object{{"kind", org_kind},
                                       {"name", "阳光托育中心"},
                                       {"registration_number", "京托备-" + phone},
                                       {"community_id", 110101001},
                                       {"address", "安定门内大街 8 号"},
                                       {"location", json::object{{"lat", 39.9485}, {"lon", 116.4120}}}},
                          p.access);
        EXPECT_EQ(filed.status, 200) << filed.raw.body;
        const std::string org(filed.body.at("id").as_string());
        EXPECT_EQ(
            call("POST", "/v1/providers/organisations/" + org + "/approve", std::nullopt, admin().access)
                .status,
            200);
        auto put = call("PUT", "/v1/nursery/me", profile, p.access);
        EXPECT_EQ(put.status, 200) << put.raw.body;
        return {token(p.user_id, auth::role::provider, org),
                put.status == 200 ? put.body.as_object() : json::object{}};
    }

    static json::object profile(int licensed,
                                json::array classes,
                                const char* kind = "community",
                                int affordable = 0) {
        return json::object{
            {"kind", kind},
            {"opens", "07:30"},
            {"closes", "18:00"},
            {"licensed_places", licensed},
            {"affordable_percent", affordable},
            {"prices", json::object{{"full_day_fen", 12000}, {"half_day_fen", 7000}, {"hour_fen", 2000}}},
            {"classes", std::move(classes)}};
    }

    // A family account (its token minted on the nursery's clock) and identity session.
    struct family {
        session s;
        std::string token;
    };
    family new_family_account(const std::string& phone) {
        auto s = new_family(phone);
        return {s, token(s.user_id, auth::role::family)};
    }

    // A child of the family born `months` months before today, with its birth date on record.
    std::string child(const family& f, int months, json::array categories = {}) {
        const auto born =
            std::chrono::year_month_day(core::calendar().day(clock.now())) - std::chrono::months(months);
        auto r =
            call("POST",
                 "/v1/recipients",
                 json::object{
                     {"kind", "child"},
                     {"name", "小明"},
                     {"birth_date", nursery::format_day(std::chrono::sys_days(born))},
                     {"community_id", 110101001},
                     {"gender", "male"},
                     {"priority_categories", std::move(categories)},
                     {"consents",
                      json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}},
                 f.s.access);
        EXPECT_EQ(r.status, 201) << r.raw.body;
        return r.status == 201 ? std::string(r.body.at("id").as_string()) : std::string();
    }

    std::string day_from_today(int n) {
        return nursery::format_day(core::calendar().day(clock.now()) + std::chrono::days(n));
    }

    identity::test_support::reply book(const std::string& family_token,
                                       const std::string& key,
                                       json::object body) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/nursery/bookings";
        o.body = json::serialize(body);
        o.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + family_token}};
        if (!key.empty()) {
            o.headers.emplace_back("Idempotency-Key", key);
        }
        auto res = test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
        identity::test_support::reply r;
        r.status = res->status;
        r.raw = *res;
        boost::system::error_code ec;
        r.body = json::parse(res->body, ec);
        return r;
    }

    static json::object request(const std::string& class_id,
                                const std::string& child_id,
                                json::array dates,
                                bool waitlist = true) {
        return json::object{{"class_id", class_id},
                            {"child_id", child_id},
                            {"dates", std::move(dates)},
                            {"mode", "full_day"},
                            {"waitlist", waitlist}};
    }

    long long sql(const std::string& query) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + nursery_schema);
        return tx.exec(query)[0][0].as<long long>();
    }

    static std::string class_id(const json::object& n, const char* band) {
        for (const auto& k : n.at("classes").as_array()) {
            if (k.at("band") == band) {
                return std::string(k.at("id").as_string());
            }
        }
        return "";
    }

    std::string providers_schema = test::unique_schema("providers");
    std::string nursery_schema = test::unique_schema("nursery");
    core::manual_clock clock{std::chrono::system_clock::now()};
    std::unique_ptr<carematch::providers::app> providers;
    std::unique_ptr<app> nursery;
};

TEST_F(nursery_fixture, a_thousand_concurrent_bookings_take_exactly_a_hundred_places_twenty_times_over) {
    // 15 caregivers × 1:7 = 105, capped by the licence: 100 places a day.
    auto [prov, n] = new_nursery(
        "13600000601", profile(100, json::array{json::object{{"band", "24-36"}, {"caregivers", 15}}}));
    const std::string cls = class_id(n, "24-36");
    ASSERT_FALSE(cls.empty());
    ASSERT_EQ(n.at("classes").at(0).at("places").as_int64(), 100);

    // 1,000 children of 50 families.
    struct kid {
        std::string family_token;
        std::string id;
    };
    std::vector<kid> kids;
    for (int f = 0; f < 50; ++f) {
        auto fam = new_family_account("1370001" + std::to_string(1000 + f));
        for (int k = 0; k < 20; ++k) {
            kids.push_back({fam.token, child(fam, 30)});
        }
    }
    ASSERT_EQ(kids.size(), 1000u);

    http::client patient(client_io, http::client::settings{std::chrono::seconds(300), 1024});
    const int rounds = 20;
    for (int round = 0; round < rounds; ++round) {
        const std::string day = day_from_today(1 + round);
        std::vector<int> statuses(kids.size(), 0);
        auto many = [&]() -> boost::asio::awaitable<void> {
            std::atomic<std::size_t> done{0};
            auto ex = co_await boost::asio::this_coro::executor;
            for (std::size_t i = 0; i < kids.size(); ++i) {
                boost::asio::co_spawn(
                    ex,
                    [&, i]() -> boost::asio::awaitable<void> {
                        http::outgoing o;
                        o.method = "POST";
                        o.target = "/v1/nursery/bookings";
                        o.headers = {
                            {"Content-Type", "application/json"},
                            {"Authorization", "Bearer " + kids[i].family_token},
                            {"Idempotency-Key", "r" + std::to_string(round) + "-" + std::to_string(i)}};
                        o.body = json::serialize(request(cls, kids[i].id, json::array{json::string(day)}));
                        auto r = co_await patient.send("127.0.0.1", server->port(), o);
                        statuses[i] = r ? r->status : -1;
                        ++done;
                    },
                    boost::asio::detached);
            }
            boost::asio::steady_timer t(ex);
            while (done < kids.size()) {
                t.expires_after(std::chrono::milliseconds(5));
                co_await t.async_wait(boost::asio::use_awaitable);
            }
        };
        test::run_coro(client_io, many());
        const auto confirmed = std::count(statuses.begin(), statuses.end(), 201);
        const auto waitlisted = std::count(statuses.begin(), statuses.end(), 202);
        std::map<int, int> seen;
        for (int s : statuses) {
            ++seen[s];
        }
        std::string histogram;
        for (const auto& [status, count] : seen) {
            histogram += ' ';  // in pieces: GCC 12's false -Wrestrict on " " + std::string at -O2
            histogram += std::to_string(status);
            histogram += "×";
            histogram += std::to_string(count);
        }
        ASSERT_EQ(confirmed, 100) << "round " << round << ":" << histogram;
        ASSERT_EQ(waitlisted, 900) << "round " << round << ":" << histogram;
        // Checked in SQL: the places held that day, and no calendar row over its capacity.
        EXPECT_EQ(sql("SELECT count(*) FROM booking_days WHERE day = '" + day + "'"), 100);
        EXPECT_EQ(sql("SELECT taken FROM class_days WHERE day = '" + day + "'"), 100);
        EXPECT_EQ(sql("SELECT count(*) FROM bookings WHERE status = 'waitlisted' AND days = ARRAY['" + day +
                      "']::date[]"),
                  900);
    }
    EXPECT_EQ(sql("SELECT count(*) FROM class_days WHERE taken > capacity"), 0);
    EXPECT_EQ(sql("SELECT count(*) FROM nursery_days WHERE taken > capacity"), 0);
    EXPECT_EQ(sql("SELECT count(*) FROM (SELECT day FROM booking_days GROUP BY day HAVING count(*) > 100) x"),
              0);
}

TEST_F(nursery_fixture, a_cancellation_promotes_exactly_the_head_of_the_waitlist) {
    // One place a day.
    auto [prov, n] = new_nursery("13600000611",
                                 profile(1, json::array{json::object{{"band", "24-36"}, {"caregivers", 1}}}));
    const std::string cls = class_id(n, "24-36");
    auto a = new_family_account("13700000611");
    auto b = new_family_account("13700000612");
    auto c = new_family_account("13700000613");
    auto d = new_family_account("13700000614");
    const auto day = json::array{json::string(day_from_today(3))};
    auto held = book(a.token, "a", request(cls, child(a, 30), day));
    ASSERT_EQ(held.status, 201) << held.raw.body;
    auto first = book(b.token, "b", request(cls, child(b, 30), day));
    ASSERT_EQ(first.status, 202) << first.raw.body;
    auto eligible = book(c.token, "c", request(cls, child(c, 30, json::array{"minimum_allowance"}), day));
    ASSERT_EQ(eligible.status, 202);
    EXPECT_EQ(eligible.body.at("priority").as_int64(), 1);
    auto last = book(d.token, "d", request(cls, child(d, 30), day));
    ASSERT_EQ(last.status, 202);
    EXPECT_EQ(book(d.token, "d2", request(cls, child(d, 30), day, false)).status, 409);  // no waitlist asked
    auto position = [&](const identity::test_support::reply& r, const family& f) {
        return call("GET",
                    "/v1/nursery/bookings/" + std::string(r.body.at("id").as_string()),
                    std::nullopt,
                    f.token)
            .body.at("waitlist_position")
            .as_int64();
    };
    EXPECT_EQ(position(eligible, c), 1);
    EXPECT_EQ(position(first, b), 2);
    EXPECT_EQ(position(last, d), 3);

    const std::string held_id(held.body.at("id").as_string());
    auto cancelled = call("POST", "/v1/nursery/bookings/" + held_id + "/cancel", std::nullopt, a.token);
    ASSERT_EQ(cancelled.status, 200) << cancelled.raw.body;
    EXPECT_EQ(cancelled.body.at("fee_fen").as_int64(), 0);  // three days' notice
    // Priority first: the eligible family, though it asked later.
    EXPECT_EQ(cancelled.body.at("promoted"), (json::array{eligible.body.at("id")}));
    auto status = [&](const identity::test_support::reply& r, const family& f) {
        return std::string(call("GET",
                                "/v1/nursery/bookings/" + std::string(r.body.at("id").as_string()),
                                std::nullopt,
                                f.token)
                               .body.at("status")
                               .as_string());
    };
    EXPECT_EQ(status(eligible, c), "confirmed");
    EXPECT_EQ(status(first, b), "waitlisted");
    EXPECT_EQ(status(last, d), "waitlisted");
    // Then time: the earliest of the rest.
    auto again = call("POST",
                      "/v1/nursery/bookings/" + std::string(eligible.body.at("id").as_string()) + "/cancel",
                      std::nullopt,
                      c.token);
    EXPECT_EQ(again.body.at("promoted"), (json::array{first.body.at("id")}));
    EXPECT_EQ(status(last, d), "waitlisted");
    EXPECT_EQ(call("POST", "/v1/nursery/bookings/" + held_id + "/cancel", std::nullopt, a.token).status, 409);
    EXPECT_EQ(sql("SELECT count(*) FROM outbox WHERE event_type = 'nursery.promoted'"), 2);
    EXPECT_EQ(sql("SELECT count(*) FROM outbox WHERE event_type = 'nursery.cancelled'"), 2);
    EXPECT_EQ(sql("SELECT max(taken) FROM class_days"), 1);
}

TEST_F(nursery_fixture, affordable_places_are_held_for_eligible_families) {
    // 2 caregivers × 1:5 = 10 places, 30 % of them (3) held for eligible (普惠) families.
    auto [prov, n] = new_nursery(
        "13600000691",
        profile(50, json::array{json::object{{"band", "12-24"}, {"caregivers", 2}}}, "community", 30));
    const std::string cls = class_id(n, "12-24");
    const auto day = json::array{json::string(day_from_today(4))};
    auto f = new_family_account("13700000691");
    for (int i = 0; i < 7; ++i) {
        EXPECT_EQ(book(f.token, "r" + std::to_string(i), request(cls, child(f, 18), day)).status, 201);
    }
    EXPECT_EQ(book(f.token, "r7", request(cls, child(f, 18), day)).status, 202);  // the rest are held
    auto g = new_family_account("13700000692");
    for (int i = 0; i < 3; ++i) {
        auto r = book(g.token,
                      "e" + std::to_string(i),
                      request(cls, child(g, 18, json::array{"minimum_allowance"}), day));
        ASSERT_EQ(r.status, 201) << r.raw.body;
        EXPECT_TRUE(r.body.at("affordable").as_bool());
    }
    EXPECT_EQ(book(g.token, "e3", request(cls, child(g, 18, json::array{"extreme_poverty"}), day)).status,
              202);
    EXPECT_EQ(sql("SELECT taken FROM class_days"), 10);
    EXPECT_EQ(sql("SELECT taken_affordable FROM class_days"), 3);
    EXPECT_EQ(sql("SELECT count(*) FROM booking_days WHERE affordable"), 3);
}

TEST_F(nursery_fixture, a_waitlisted_request_expires_once_its_first_day_has_passed) {
    auto [prov, n] = new_nursery("13600000615",
                                 profile(1, json::array{json::object{{"band", "24-36"}, {"caregivers", 1}}}));
    const std::string cls = class_id(n, "24-36");
    auto a = new_family_account("13700000615");
    auto b = new_family_account("13700000616");
    ASSERT_EQ(
        book(a.token, "a", request(cls, child(a, 30), json::array{json::string(day_from_today(1))})).status,
        201);
    auto soon = book(b.token, "b1", request(cls, child(b, 30), json::array{json::string(day_from_today(1))}));
    auto later =
        book(b.token, "b2", request(cls, child(b, 30), json::array{json::string(day_from_today(3))}));
    ASSERT_EQ(soon.status, 202);
    ASSERT_EQ(later.status, 201);  // nobody holds that day yet
    auto late = book(a.token, "a2", request(cls, child(a, 30), json::array{json::string(day_from_today(3))}));
    ASSERT_EQ(late.status, 202);
    EXPECT_EQ(test::run_coro(client_io, nursery->expire_waitlist()), 0u);
    clock.advance(std::chrono::hours(48));  // the first request's day is over, the second's is not
    EXPECT_EQ(test::run_coro(client_io, nursery->expire_waitlist()), 1u);
    auto status = [&](const identity::test_support::reply& r, const family& f) {
        return std::string(call("GET",
                                "/v1/nursery/bookings/" + std::string(r.body.at("id").as_string()),
                                std::nullopt,
                                token(f.s.user_id, auth::role::family))
                               .body.at("status")
                               .as_string());
    };
    EXPECT_EQ(status(soon, b), "expired");
    EXPECT_EQ(status(late, a), "waitlisted");
    EXPECT_EQ(sql("SELECT count(*) FROM outbox WHERE event_type = 'nursery.waitlist_expired'"), 1);
    EXPECT_EQ(test::run_coro(client_io, nursery->expire_waitlist()), 0u);
}

TEST_F(nursery_fixture, the_age_band_holds_on_every_day_of_a_range) {
    auto [prov, n] = new_nursery("13600000621",
                                 profile(20,
                                         json::array{json::object{{"band", "12-24"}, {"caregivers", 2}},
                                                     json::object{{"band", "24-36"}, {"caregivers", 1}}}));
    auto f = new_family_account("13700000621");
    // 23 months and a few days today: 24 months within the next five weeks.
    const auto born = std::chrono::sys_days(std::chrono::year_month_day(core::calendar().day(clock.now())) -
                                            std::chrono::months(24)) +
                      std::chrono::days(10);
    auto r = call(
        "POST",
        "/v1/recipients",
        json::object{{"kind", "child"},
                     {"name", "小红"},
                     {"birth_date", nursery::format_day(born)},
                     {"community_id", 110101001},
                     {"consents",
                      json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}},
        f.s.access);
    ASSERT_EQ(r.status, 201) << r.raw.body;
    const std::string kid(r.body.at("id").as_string());
    json::object range{{"class_id", class_id(n, "12-24")},
                       {"child_id", kid},
                       {"from", day_from_today(1)},
                       {"to", day_from_today(30)},
                       {"mode", "half_day"}};
    auto refused = book(f.token, "range", range);
    EXPECT_EQ(refused.status, 422) << refused.raw.body;
    EXPECT_EQ(refused.body.at("field").as_string(), "child_id");
    EXPECT_EQ(sql("SELECT count(*) FROM bookings"), 0);
    range["to"] = day_from_today(5);
    auto ok = book(f.token, "range2", range);
    ASSERT_EQ(ok.status, 201) << ok.raw.body;
    EXPECT_EQ(ok.body.at("days").as_array().size(), 5u);
    EXPECT_EQ(ok.body.at("price_fen").as_int64(), 5 * 7000);
    // The older band takes the child only once it is 24 months old on every day.
    json::object older{{"class_id", class_id(n, "24-36")},
                       {"child_id", kid},
                       {"dates", json::array{json::string(day_from_today(6))}},
                       {"mode", "hourly"},
                       {"hours", 3}};
    EXPECT_EQ(book(f.token, "older", older).status, 422);
    older["dates"] = json::array{json::string(day_from_today(20))};
    EXPECT_EQ(book(f.token, "older2", older).status, 201);
    // Once the family withdraws the sensitive_storage consent the birth date is erased: no further bookings.
    ASSERT_EQ(
        call("DELETE", "/v1/recipients/" + kid + "/consents/sensitive_storage", std::nullopt, f.s.access)
            .status,
        204);
    range["from"] = day_from_today(7);
    range["to"] = day_from_today(8);
    auto erased = book(f.token, "erased", range);
    EXPECT_EQ(erased.status, 422) << erased.raw.body;
    EXPECT_EQ(erased.body.at("field").as_string(), "child_id");
}

TEST_F(nursery_fixture, a_home_nursery_point_never_holds_more_than_five_children) {
    auto p = new_provider("13600000631", "王阿姨家庭托育点");
    auto filed = call("PUT",
                      "/v1/providers/me/organisation",
                      json::object{{"kind", "home_nursery_point"},
                                   {"name", "王阿姨家庭托育点"},
                                   {"registration_number", "京家托-0631"},
                                   {"community_id", 110101001},
                                   {"address", "国子监街 5 号"},
                                   {"location", json::object{{"lat", 39.9475}, {"lon", 116.4110}}}},
                      p.access);
    const std::string org(filed.body.at("id").as_string());
    // Not approved yet: no nursery profile.
    auto classes = json::array{json::object{{"band", "12-24"}, {"caregivers", 2}},
                               json::object{{"band", "24-36"}, {"caregivers", 1}}};
    EXPECT_EQ(call("PUT", "/v1/nursery/me", profile(5, classes, "home_point"), p.access).status, 409);
    ASSERT_EQ(
        call("POST", "/v1/providers/organisations/" + org + "/approve", std::nullopt, admin().access).status,
        200);
    auto six = call("PUT", "/v1/nursery/me", profile(6, classes, "home_point"), p.access);
    EXPECT_EQ(six.status, 422);
    EXPECT_EQ(six.body.at("field").as_string(), "licensed_places");
    EXPECT_EQ(call("PUT", "/v1/nursery/me", profile(5, classes, "community"), p.access)
                  .body.at("field")
                  .as_string(),
              "kind");
    auto put = call("PUT", "/v1/nursery/me", profile(5, classes, "home_point"), p.access);
    ASSERT_EQ(put.status, 200) << put.raw.body;
    const auto n = put.body.as_object();
    const auto day = json::array{json::string(day_from_today(2))};
    // Five toddlers fill the point, though the younger class alone would have ten places.
    for (int i = 0; i < 5; ++i) {
        auto f = new_family_account("1370000064" + std::to_string(i));
        EXPECT_EQ(book(f.token, "k", request(class_id(n, "12-24"), child(f, 18), day)).status, 201);
    }
    auto f = new_family_account("13700000649");
    EXPECT_EQ(book(f.token, "k", request(class_id(n, "24-36"), child(f, 30), day)).status, 202);
    EXPECT_EQ(sql("SELECT max(taken) FROM nursery_days"), 5);
    EXPECT_EQ(sql("SELECT count(*) FROM booking_days"), 5);
    // Fewer places than the children already booked: refused, and nothing changes.
    auto shrink = call("PUT", "/v1/nursery/me", profile(4, classes, "home_point"), p.access);
    EXPECT_EQ(shrink.status, 409) << shrink.raw.body;
    EXPECT_EQ(sql("SELECT licensed_places FROM nurseries"), 5);
    EXPECT_EQ(sql("SELECT min(capacity) FROM nursery_days"), 5);
    // The database holds the rule too.
    pqxx::connection c(test::db_url());
    pqxx::work tx(c);
    EXPECT_THROW(tx.exec("UPDATE " + nursery_schema + ".nurseries SET licensed_places = 6"),
                 pqxx::check_violation);
}

TEST_F(nursery_fixture, families_and_nurseries_see_and_change_only_their_own) {
    auto [prov, n] = new_nursery(
        "13600000651", profile(10, json::array{json::object{{"band", "24-36"}, {"caregivers", 2}}}));
    auto [other_prov, other_n] = new_nursery(
        "13600000652", profile(10, json::array{json::object{{"band", "24-36"}, {"caregivers", 2}}}));
    const std::string cls = class_id(n, "24-36");
    auto a = new_family_account("13700000651");
    auto b = new_family_account("13700000652");
    const std::string kid = child(a, 30);
    const auto day = json::array{json::string(day_from_today(1))};
    auto mine = book(a.token, "k", request(cls, kid, day));
    ASSERT_EQ(mine.status, 201) << mine.raw.body;
    const std::string id(mine.body.at("id").as_string());
    // Another family: not its child, not its booking.
    EXPECT_EQ(book(b.token, "k", request(cls, kid, day)).status, 404);
    EXPECT_EQ(call("GET", "/v1/nursery/bookings/" + id, std::nullopt, b.token).status, 404);
    EXPECT_EQ(call("POST", "/v1/nursery/bookings/" + id + "/cancel", std::nullopt, b.token).status, 404);
    const json::object people{
        {"people",
         json::array{json::object{{"name", "王军"}, {"phone", "13912345678"}, {"relation", "father"}}}}};
    EXPECT_EQ(call("PUT", "/v1/nursery/children/" + kid + "/pickup-persons", people, b.token).status, 404);
    EXPECT_TRUE(
        call("GET", "/v1/nursery/bookings", std::nullopt, b.token).body.at("items").as_array().empty());
    // Another nursery: not its booking, not its child.
    EXPECT_EQ(call("GET", "/v1/nursery/bookings/" + id, std::nullopt, other_prov).status, 404);
    EXPECT_EQ(call("POST",
                   "/v1/nursery/bookings/" + id + "/days/" + day_from_today(1) + "/no-show",
                   std::nullopt,
                   other_prov)
                  .status,
              409);  // not yet the day, whoever asks
    ASSERT_EQ(call("PUT", "/v1/nursery/children/" + kid + "/pickup-persons", people, a.token).status, 200);
    EXPECT_EQ(call("GET", "/v1/nursery/children/" + kid + "/pickup-persons", std::nullopt, other_prov).status,
              404);
    EXPECT_EQ(call("GET", "/v1/nursery/children/" + kid + "/pickup-persons", std::nullopt, prov).status, 200);
    // Staff: their communities only. Roles that never book: 403.
    EXPECT_EQ(call("GET",
                   "/v1/nursery/bookings/" + id,
                   std::nullopt,
                   token(core::new_uuid(), auth::role::staff, "", {110102001}))
                  .status,
              404);
    EXPECT_EQ(call("GET",
                   "/v1/nursery/bookings/" + id,
                   std::nullopt,
                   token(core::new_uuid(), auth::role::staff, "", {110101001}))
                  .status,
              200);
    EXPECT_EQ(book(prov, "k", request(cls, kid, day)).status, 403);
    EXPECT_EQ(call("GET", "/v1/nursery/bookings/" + id, std::nullopt).status, 401);
    EXPECT_EQ(call("GET", "/v1/nursery/bookings", std::nullopt, a.token).body.at("items").as_array().size(),
              1u);
    // Malformed paging: 422, never a server error.
    EXPECT_EQ(call("GET", "/v1/nursery/bookings?limit=0", std::nullopt, a.token).status, 422);
    EXPECT_EQ(call("GET", "/v1/nursery/bookings?limit=%FF", std::nullopt, a.token).status, 422);
    EXPECT_EQ(
        call("GET", "/v1/nursery/bookings?cursor=2026-13-45T99:99:99.000000Z_" + id, std::nullopt, a.token)
            .status,
        422);
}

TEST_F(nursery_fixture, dates_in_the_past_or_malformed_are_400_and_change_nothing) {
    auto [prov, n] = new_nursery(
        "13600000661", profile(10, json::array{json::object{{"band", "24-36"}, {"caregivers", 2}}}));
    const std::string cls = class_id(n, "24-36");
    auto f = new_family_account("13700000661");
    const std::string kid = child(f, 30);
    auto status = [&](json::object body, const std::string& key = "k") {
        return book(f.token, key, body).status;
    };
    EXPECT_EQ(status(request(cls, kid, json::array{json::string(day_from_today(-1))}), "past"), 400);
    EXPECT_EQ(status(request(cls, kid, json::array{"2027-02-30"}), "feb30"), 400);
    EXPECT_EQ(status(request(cls, kid, json::array{"tomorrow"}), "word"), 400);
    EXPECT_EQ(status(request(cls, kid, json::array{}), "none"), 400);
    json::object range{{"class_id", cls},
                       {"child_id", kid},
                       {"from", day_from_today(5)},
                       {"to", day_from_today(2)},
                       {"mode", "full_day"}};
    EXPECT_EQ(status(range, "reversed"), 400);
    range["from"] = day_from_today(1);
    range["to"] = day_from_today(70);
    EXPECT_EQ(status(range, "long"), 400);
    EXPECT_EQ(book(f.token, "", request(cls, kid, json::array{json::string(day_from_today(1))})).status,
              400);  // no key
    auto hourly = request(cls, kid, json::array{json::string(day_from_today(1))});
    hourly["mode"] = "hourly";
    EXPECT_EQ(status(hourly, "nohours"), 422);
    EXPECT_EQ(call("GET",
                   "/v1/nursery/search?lat=39.95&lon=116.41&band=24-36&date=" + day_from_today(-2),
                   std::nullopt,
                   f.token)
                  .status,
              400);
    EXPECT_EQ(sql("SELECT count(*) FROM bookings") + sql("SELECT count(*) FROM class_days"), 0);
    // A well-formed request then goes through, and its key replays the same answer.
    auto ok = book(f.token, "good", request(cls, kid, json::array{json::string(day_from_today(1))}));
    ASSERT_EQ(ok.status, 201) << ok.raw.body;
    auto replay = book(f.token, "good", request(cls, kid, json::array{json::string(day_from_today(1))}));
    EXPECT_EQ(replay.raw.body, ok.raw.body);
    EXPECT_EQ(book(f.token, "good", request(cls, kid, json::array{json::string(day_from_today(2))})).status,
              422);
    // Search shows the place taken.
    auto found = call("GET",
                      "/v1/nursery/search?lat=39.9489&lon=116.4128&band=24-36&from=" + day_from_today(1) +
                          "&to=" + day_from_today(2),
                      std::nullopt,
                      f.token);
    ASSERT_EQ(found.status, 200) << found.raw.body;
    ASSERT_EQ(found.body.at("items").as_array().size(), 1u);
    EXPECT_EQ(found.body.at("items").at(0).at("vacancies"),
              (json::array{json::object{{"date", day_from_today(1)}, {"places", 9}},
                           json::object{{"date", day_from_today(2)}, {"places", 10}}}));
    // Hourly care fits in the opening hours: ten hours in 07:30–18:00, not five in a morning-only nursery.
    hourly["hours"] = 10;
    hourly["dates"] = json::array{json::string(day_from_today(3))};
    EXPECT_EQ(status(hourly, "ten"), 201);
    auto mornings = profile(10, json::array{json::object{{"band", "24-36"}, {"caregivers", 2}}});
    mornings["closes"] = "12:00";
    ASSERT_EQ(call("PUT", "/v1/nursery/me", mornings, prov).status, 200);
    hourly["hours"] = 5;
    hourly["dates"] = json::array{json::string(day_from_today(4))};
    auto too_long = book(f.token, "five", hourly);
    EXPECT_EQ(too_long.status, 422);
    EXPECT_EQ(too_long.body.at("field").as_string(), "hours");
}

TEST_F(nursery_fixture, attendance_checks_the_pickup_person_and_notice_sets_the_fee) {
    auto [prov, n] = new_nursery(
        "13600000671", profile(10, json::array{json::object{{"band", "24-36"}, {"caregivers", 2}}}));
    const std::string org(n.at("id").as_string());
    const std::string cls = class_id(n, "24-36");
    auto f = new_family_account("13700000671");
    const std::string kid = child(f, 30);
    const std::string kid2 = child(f, 30);
    auto id_of = [](const identity::test_support::reply& r) {
        return std::string(r.body.at("id").as_string());
    };
    auto b1 = book(f.token, "k1", request(cls, kid, json::array{json::string(day_from_today(1))}));
    auto b2 = book(f.token, "k2", request(cls, kid2, json::array{json::string(day_from_today(2))}));
    auto b3 = book(f.token, "k3", request(cls, kid2, json::array{json::string(day_from_today(3))}));
    ASSERT_EQ(b1.status, 201);
    ASSERT_EQ(b2.status, 201);
    ASSERT_EQ(b3.status, 201);
    ASSERT_EQ(call("PUT",
                   "/v1/nursery/children/" + kid + "/pickup-persons",
                   json::object{{"people",
                                 json::array{json::object{
                                     {"name", "王军"}, {"phone", "13912345678"}, {"relation", "father"}}}}},
                   f.token)
                  .status,
              200);
    auto cancel = [&](const std::string& id) {
        return call("POST",
                    "/v1/nursery/bookings/" + id + "/cancel",
                    std::nullopt,
                    token(f.s.user_id, auth::role::family));
    };
    auto free = cancel(id_of(b3));  // days of notice
    ASSERT_EQ(free.status, 200) << free.raw.body;
    EXPECT_EQ(free.body.at("fee_fen").as_int64(), 0);

    // Twelve hours before the day after tomorrow opens (07:30 China time): inside the 24-hour notice.
    const auto opening =
        std::chrono::system_clock::time_point(core::calendar().day(clock.now()) + std::chrono::days(2)) +
        std::chrono::minutes(7 * 60 + 30) - std::chrono::hours(8);
    // The booking's answer said so: free until 24 h before opening, one day's price until it opens.
    const auto& terms = b2.body.at("cancellation");
    EXPECT_EQ(core::parse_timestamp(std::string(terms.at("free_until").as_string())),
              opening - std::chrono::hours(24));
    EXPECT_EQ(core::parse_timestamp(std::string(terms.at("possible_until").as_string())), opening);
    EXPECT_EQ(terms.at("fee_after_free_fen").as_int64(), 12000);
    clock.advance(opening - std::chrono::hours(12) - clock.now());
    auto late = cancel(id_of(b2));
    ASSERT_EQ(late.status, 200) << late.raw.body;
    EXPECT_EQ(late.body.at("fee_fen").as_int64(), 12000);

    // It is now the evening of the first booking's day: check-in, check-out by an authorised person only.
    const std::string today = nursery::format_day(core::calendar().day(clock.now()));
    ASSERT_EQ(today, std::string(b1.body.at("days").at(0).as_string()));
    const std::string nurse = token(core::new_uuid(), auth::role::worker, org);
    const std::string base = "/v1/nursery/bookings/" + id_of(b1) + "/days/" + today;
    EXPECT_EQ(call("POST", base + "/check-out", json::object{{"pickup_phone", "13912345678"}}, nurse).status,
              409);  // not in
    ASSERT_EQ(call("POST", base + "/check-in", std::nullopt, nurse).status, 200);
    EXPECT_EQ(call("POST", base + "/check-in", std::nullopt, nurse).status, 409);
    EXPECT_EQ(call("POST", base + "/no-show", std::nullopt, nurse).status, 409);
    auto stranger = call("POST", base + "/check-out", json::object{{"pickup_phone", "13800001111"}}, nurse);
    EXPECT_EQ(stranger.status, 422);
    EXPECT_EQ(stranger.body.at("field").as_string(), "pickup_phone");
    auto out = call("POST", base + "/check-out", json::object{{"pickup_phone", "13912345678"}}, nurse);
    ASSERT_EQ(out.status, 200) << out.raw.body;
    EXPECT_FALSE(out.body.at("checked_out").is_null());
    auto list = call("GET", "/v1/nursery/attendance?day=" + today, std::nullopt, nurse);
    ASSERT_EQ(list.status, 200);
    ASSERT_EQ(list.body.at("items").as_array().size(), 1u);
    EXPECT_EQ(list.body.at("items").at(0).at("child_id").as_string(), kid);
    // The day has begun: no cancelling it any more.
    EXPECT_EQ(cancel(id_of(b1)).status, 409);
}

TEST_F(nursery_fixture, monthly_figures_compare_places_per_thousand_residents_with_the_target) {
    auto [prov, n] = new_nursery(
        "13600000681", profile(40, json::array{json::object{{"band", "24-36"}, {"caregivers", 6}}}));
    auto f = new_family_account("13700000681");
    const std::string day = day_from_today(1);
    ASSERT_EQ(book(f.token, "k", request(class_id(n, "24-36"), child(f, 30), json::array{json::string(day)}))
                  .status,
              201);
    const std::string month = day.substr(0, 7);
    const std::string staff = token(core::new_uuid(), auth::role::staff, "", {110101001});
    auto r = call("GET", "/v1/nursery/figures?community_id=110101001&month=" + month, std::nullopt, staff);
    ASSERT_EQ(r.status, 200) << r.raw.body;
    EXPECT_EQ(r.body.at("residents").as_int64(), 8305);
    EXPECT_EQ(r.body.at("places").as_int64(), 40);
    EXPECT_DOUBLE_EQ(r.body.at("places_per_1000").as_double(), 4.82);  // 40 × 1000 / 8305
    EXPECT_TRUE(r.body.at("meets_target").as_bool());
    const auto ymd = std::chrono::year_month_day(*nursery::parse_day(month + "-01"));
    const auto days_in_month = static_cast<unsigned>(
        std::chrono::year_month_day_last(ymd.year() / ymd.month() / std::chrono::last).day());
    EXPECT_DOUBLE_EQ(r.body.at("occupancy").as_double(), 1.0 / (40.0 * days_in_month));
    EXPECT_EQ(call("GET",
                   "/v1/nursery/figures?community_id=110101001&month=" + month,
                   std::nullopt,
                   token(core::new_uuid(), auth::role::staff, "", {110102001}))
                  .status,
              403);  // outside the staff member's scope: the one rule of every service
    EXPECT_EQ(call("GET", "/v1/nursery/figures?community_id=110101001abc&month=" + month, std::nullopt, staff)
                  .status,
              400);  // query integers are read strictly
    EXPECT_EQ(call("GET", "/v1/nursery/figures?community_id=110101001&month=" + month, std::nullopt, f.token)
                  .status,
              403);
    EXPECT_EQ(
        call("GET", "/v1/nursery/figures?community_id=110101001&month=2026-13", std::nullopt, staff).status,
        400);
    // A community without nurseries is short of the target.
    auto none = call(
        "GET", "/v1/nursery/figures?community_id=110101002&month=" + month, std::nullopt, admin().access);
    ASSERT_EQ(none.status, 200);
    EXPECT_FALSE(none.body.at("meets_target").as_bool());
}

// Walks the endpoints × roles table of services/nursery/README.md for who may call what at all: 401 for
// no token, 403 for a role that may never, anything else (`ok`: 2xx, 400, 404, 409, 422) where it may.
TEST_F(nursery_fixture, every_endpoint_refuses_the_roles_the_table_refuses) {
    auto [prov, n] = new_nursery(
        "13600000699", profile(10, json::array{json::object{{"band", "24-36"}, {"caregivers", 2}}}));
    const std::string org(n.at("id").as_string());
    auto f = new_family_account("13700000699");
    const std::string kid = child(f, 30);
    auto b =
        book(f.token, "k", request(class_id(n, "24-36"), kid, json::array{json::string(day_from_today(2))}));
    ASSERT_EQ(b.status, 201);
    const std::string id(b.body.at("id").as_string());
    const std::string day = day_from_today(2);
    constexpr int ok = test::role_allowed;
    const std::array<std::string, test::role_columns> tokens{
        "",
        f.token,
        prov,
        token(core::new_uuid(), auth::role::worker, org),
        token(core::new_uuid(), auth::role::staff, "", {110101001}),
        token(core::new_uuid(), auth::role::admin),
        auth::token_issuer(key, {}, clock).issue_service("matching")};
    const json::object pickup{
        {"people",
         json::array{json::object{{"name", "王军"}, {"phone", "13912345678"}, {"relation", "father"}}}}};
    const std::vector<test::role_row> table{
        {"PUT",
         "/v1/nursery/me",
         profile(10, json::array{json::object{{"band", "24-36"}, {"caregivers", 2}}}),
         {401, 403, ok, 403, 403, 403, 401}},
        {"GET", "/v1/nursery/nurseries/" + org, std::nullopt, {401, ok, ok, ok, ok, ok, 401}},
        {"GET",
         "/v1/nursery/search?lat=39.95&lon=116.41&band=24-36&date=" + day,
         std::nullopt,
         {401, ok, 403, 403, ok, ok, 401}},
        {"POST", "/v1/nursery/bookings", json::object{}, {401, ok, 403, 403, 403, 403, 401}},
        {"GET", "/v1/nursery/bookings", std::nullopt, {401, ok, 403, 403, 403, 403, 401}},
        {"GET", "/v1/nursery/bookings/" + id, std::nullopt, {401, ok, ok, ok, ok, ok, 401}},
        {"POST",
         "/v1/nursery/bookings/" + core::new_uuid() + "/cancel",
         std::nullopt,
         {401, ok, 403, 403, 403, 403, 401}},
        {"GET", "/v1/nursery/attendance?day=" + day, std::nullopt, {401, 403, ok, ok, 403, 403, 401}},
        {"POST",
         "/v1/nursery/bookings/" + id + "/days/" + day + "/check-in",
         std::nullopt,
         {401, 403, ok, ok, 403, 403, 401}},
        {"POST",
         "/v1/nursery/bookings/" + id + "/days/" + day + "/check-out",
         json::object{{"pickup_phone", "13912345678"}},
         {401, 403, ok, ok, 403, 403, 401}},
        {"POST",
         "/v1/nursery/bookings/" + id + "/days/" + day + "/no-show",
         std::nullopt,
         {401, 403, ok, ok, 403, 403, 401}},
        {"PUT",
         "/v1/nursery/children/" + kid + "/pickup-persons",
         pickup,
         {401, ok, 403, 403, 403, 403, 401}},
        {"GET",
         "/v1/nursery/children/" + kid + "/pickup-persons",
         std::nullopt,
         {401, ok, ok, ok, 403, 403, 401}},
        {"GET",
         "/v1/nursery/figures?community_id=110101001&month=" + day.substr(0, 7),
         std::nullopt,
         {401, 403, 403, 403, ok, ok, 401}},
    };
    test::walk_roles(
        table, tokens, [&](const char* method, const std::string& path, const auto& body, const auto& t) {
            return call(method, path, body, t).status;
        });
}

}  // namespace
}  // namespace carematch::nursery
