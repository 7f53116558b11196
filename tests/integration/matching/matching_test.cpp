// matching against the real PostgreSQL and Redis, with identity, orders and providers beside it on one
// listener (as in all-in-one), on a street of its own: an order reaches a worker online nearby, who accepts
// and serves it; a decline goes to a second worker; an offer nobody answers expires and excludes its worker;
// an order nobody takes by its deadline expires; accept and decline race with exactly one outcome; a stale
// lease writes no offer.
#include "integration/identity/identity_fixture.hpp"
#include "support/region_tree.hpp"

#include <carematch/matching/app.hpp>
#include <carematch/orders/app.hpp>
#include <carematch/providers/app.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace carematch::matching {
namespace {

namespace json = boost::json;
using identity::test_support::reply;

// A worker answers an offer both ways at once, on a thread of its own: the statuses of accept and decline.
std::future<std::pair<int, int>> accept_and_decline(std::uint16_t port,
                                                    std::string offer,
                                                    std::string token) {
    return std::async(std::launch::async, [offer = std::move(offer), token = std::move(token), port] {
        boost::asio::io_context io;
        http::client c(io);
        auto send = [&](const std::string& verb, const std::string& body) {
            http::outgoing o;
            o.method = "POST";
            o.target = "/v1/offers/" + offer + "/" + verb;
            o.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
            o.body = body;
            return c.send("127.0.0.1", port, o);
        };
        auto a = boost::asio::co_spawn(io, send("accept", ""), boost::asio::use_future);
        auto d = boost::asio::co_spawn(io, send("decline", "{\"reason\":\"busy\"}"), boost::asio::use_future);
        io.run();
        return std::make_pair(a.get()->status, d.get()->status);
    });
}

// Made before identity (which reads the tree at start): a base ahead of identity_fixture.
struct with_street {
    test::region_tree tree_{8100, 8999, 3};  // three streets of the test's own
};

class matching_fixture : protected with_street, public identity::test_support::identity_fixture {
  protected:
    explicit matching_fixture(int max_live_offers = 1)
        : identity_fixture(test::required_env("CAREMATCH_TEST_REDIS_URL"), std::nullopt, tree_.path) {
        const std::string source = CAREMATCH_SOURCE_DIR;
        std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            {"CAREMATCH_DB_QUEUE_LIMIT", "100000"},
            {"CAREMATCH_DB_ACQUIRE_TIMEOUT_MS", "600000"},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
            {"CAREMATCH_AUTH_DATA_KEY", cfg.auth.data_key},  // identity's: the sealed address travels
            {"CAREMATCH_ORDERS_ORDERS_SCHEMA", orders_schema},
            {"CAREMATCH_ORDERS_IDENTITY_STREAM", identity_stream},
            {"CAREMATCH_ORDERS_CONSUMER_GROUP", "orders-" + orders_schema},
            {"CAREMATCH_ORDERS_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_PROVIDERS_PROVIDERS_SCHEMA", providers_schema},
            {"CAREMATCH_PROVIDERS_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_MATCHING_MATCHING_SCHEMA", matching_schema},
            {"CAREMATCH_MATCHING_REGIONS_FILE", tree_.path},
            {"CAREMATCH_MATCHING_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_MATCHING_CONSUMER_GROUP", "matching-" + matching_schema},
            {"CAREMATCH_MATCHING_RATINGS_STREAM", "carematch:{ratings}:test-" + matching_schema},
            {"CAREMATCH_MATCHING_MAX_LIVE_OFFERS", std::to_string(max_live_offers)},
            {"CAREMATCH_ORDERS_ORDERS_CREW_FROM_LEVEL", "2"},  // crews on (off by default)
        };
        auto source_of = [env](const char* name) {
            return core::config_source("", name, [env](const std::string& k) -> std::optional<std::string> {
                auto it = env.find(k);
                return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
            });
        };
        auto os = source_of("orders");
        orders = std::make_unique<orders::app>(io, orders::read_config(os));
        auto ps = source_of("providers");
        providers = std::make_unique<providers::app>(io, providers::read_config(ps));
        auto ms = source_of("matching");
        matching_cfg = read_config(ms);
        matching = std::make_unique<app>(io, matching_cfg, clock);
        for (runtime::service* s :
             std::initializer_list<runtime::service*>{orders.get(), providers.get(), matching.get()}) {
            s->start();
            s->add_routes(routes);
            for (const auto& peer : s->peer_names()) {
                s->set_peer(peer, {"127.0.0.1", server->port()});
            }
        }
        // orders publishes its events (the relay) as in service; matching's passes are driven by the tests.
        boost::asio::co_spawn(io, orders->run(), [this](std::exception_ptr) { orders_done.set_value(); });
    }

    ~matching_fixture() override {
        orders->stop();
        orders_done.get_future().wait_for(std::chrono::seconds(20));
        server.reset();
        matching.reset();
        providers.reset();
        orders.reset();
        test::run_coro(client_io, [&]() -> boost::asio::awaitable<void> {
            redis::client r(client_io, test::redis_settings());
            std::vector<std::string> del{"DEL"};
            for (std::int64_t street = tree_.street; street < tree_.street + 3; ++street) {
                const std::string tag = "carematch:{region:" + std::to_string(street) + "}";
                for (const char* key : {":orders",
                                        ":matching",
                                        ":seen",
                                        ":online:bath",
                                        ":online:cleaning",
                                        ":online:medical_visit",
                                        ":online:meal"}) {
                    del.push_back(tag + key);
                }
            }
            co_await r.command(std::move(del));
        }());
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        for (const auto& s : {orders_schema, providers_schema, matching_schema}) {
            tx.exec("DROP SCHEMA IF EXISTS " + s + " CASCADE");
        }
        tx.commit();
    }

    // ---- the people ----

    // An elder of ability level `ability` (1, mild: a bath takes one worker; 2 or worse: a crew of two).
    std::pair<session, std::string> family_with_elder(const std::string& phone,
                                                      std::int64_t community = 0,
                                                      int ability = 1) {
        auto s = new_family(phone);
        auto body = elder(community != 0 ? community : tree_.community);
        body.erase("gender_preference");
        body["ability_level"] = ability;
        auto r = call("POST", "/v1/recipients", body, s.access);
        EXPECT_EQ(r.status, 201) << r.raw.body;
        return {s, std::string(r.body.at("id").as_string())};
    }

    session approved_provider(const std::string& phone, std::int64_t community = 0) {
        auto p = new_provider(phone);
        json::object org{{"kind", "home_care"},
                         {"name", "安心家政"},
                         {"community_id", community != 0 ? community : tree_.community},
                         {"address", "安定门东大街 20 号"},
                         {"location", json::object{{"lat", 39.9485}, {"lon", 116.4120}}}};
        EXPECT_EQ(call("PUT", "/v1/providers/me/organisation", org, p.access).status, 200);
        auto me = call("GET", "/v1/auth/me", std::nullopt, p.access);
        const std::string org_id(me.body.at("org_id").as_string());
        auto ok =
            call("POST", "/v1/providers/organisations/" + org_id + "/approve", std::nullopt, admin().access);
        EXPECT_EQ(ok.status, 200) << ok.raw.body;
        return p;
    }

    // A bathing caregiver of `provider`, online at (lat, lon).
    session online_worker(const session& provider, const std::string& phone, double lat, double lon) {
        auto w = new_worker(provider, phone);
        json::object profile{
            {"name", "周阿姨"},
            {"gender", "female"},
            {"languages", json::array{"mandarin"}},
            {"kinds", json::array{"bath"}},
            {"home", json::object{{"lat", lat}, {"lon", lon}}},
            {"radius_km", 5},
            {"credentials",
             json::array{json::object{
                 {"type", "bathing_certificate"}, {"number", "B-1"}, {"expires_on", "2099-01-01"}}}}};
        auto put = call("PUT", "/v1/providers/workers/" + w.user_id, profile, provider.access);
        EXPECT_EQ(put.status, 200) << put.raw.body;
        auto on = call("POST", "/v1/providers/me/online", json::object{{"lat", lat}, {"lon", lon}}, w.access);
        EXPECT_EQ(on.status, 200) << on.raw.body;
        return w;
    }

    std::string place(const session& family, const std::string& recipient) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/orders";
        o.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + family.access},
                     {"Idempotency-Key", core::new_uuid()}};
        o.body = json::serialize(
            json::object{{"recipient_id", recipient}, {"kind", "bath"}, {"sub_type", "home_bath"}});
        auto res = test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
        EXPECT_EQ(res->status, 201) << res->body;
        return std::string(json::parse(res->body).at("id").as_string());
    }

    // `n` bathing caregivers online in a row northwards, `step` degrees apart (phones `prefix` + 10, 11, …).
    std::vector<session> workers_in_a_row(const session& provider,
                                          const std::string& prefix,
                                          int n,
                                          double step) {
        std::vector<session> out;
        for (int i = 0; i < n; ++i) {
            out.push_back(
                online_worker(provider, prefix + std::to_string(10 + i), 39.9490 + step * i, 116.4130));
        }
        return out;
    }

    std::vector<std::string> place_many(const session& family, const std::string& recipient, int n) {
        std::vector<std::string> out;
        for (int i = 0; i < n; ++i) {
            out.push_back(place(family, recipient));
        }
        return out;
    }

    // Every live offer of these workers, each accepted and declined at once by its worker.
    std::vector<std::future<std::pair<int, int>>> answer_all_both_ways(const std::vector<session>& workers) {
        std::vector<std::future<std::pair<int, int>>> answers;
        for (const auto& w : workers) {
            for (const auto& o : offers_of(w)) {
                answers.push_back(
                    accept_and_decline(server->port(), std::string(o.at("id").as_string()), w.access));
            }
        }
        return answers;
    }

    // The job served: `en_route` travels, `at_door` checks in at the elder's door, `completes` completes with
    // the family's code (one worker, or a crew's two taking turns). Each step's status.
    std::vector<int> serve(const std::string& order,
                           const std::string& code,
                           const session& en_route,
                           const session& at_door,
                           const session& completes) {
        return {call("POST", "/v1/orders/" + order + "/en-route", std::nullopt, en_route.access).status,
                call("POST",
                     "/v1/orders/" + order + "/check-in",
                     json::object{{"lat", 39.9490}, {"lon", 116.4129}},
                     at_door.access)
                    .status,
                call("POST",
                     "/v1/orders/" + order + "/complete",
                     json::object{{"service_code", code}},
                     completes.access)
                    .status};
    }

    // ---- driving matching ----

    // Hands matching the order events published so far (at least `at_least` of them).
    void consume(std::size_t at_least) {
        std::size_t n = 0;
        for (int i = 0; i < 40 && n < at_least; ++i) {
            n += test::run_coro(client_io, matching->consume_once());
        }
        ASSERT_GE(n, at_least) << "the order events did not reach matching";
    }
    pass_stats tick() { return test::run_coro(client_io, matching->tick()); }
    pass_stats expire() { return test::run_coro(client_io, matching->expire()); }

    json::array offers_of(const session& s) {
        auto r = call("GET", "/v1/offers", std::nullopt, s.access);
        EXPECT_EQ(r.status, 200) << r.raw.body;
        return r.status == 200 ? r.body.at("items").as_array() : json::array{};
    }

    std::string status_of(const session& family, const std::string& order) {
        auto r = call("GET", "/v1/orders/" + order, std::nullopt, family.access);
        EXPECT_EQ(r.status, 200) << r.raw.body;
        return r.status == 200 ? std::string(r.body.at("status").as_string()) : "";
    }

    // Runs `sql` in matching's schema with {now} replaced by the epoch seconds of matching's clock.
    void travel(std::string sql) {
        const auto now = std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
        for (auto at = sql.find("{now}"); at != std::string::npos; at = sql.find("{now}")) {
            sql.replace(at, 5, now);
        }
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + matching_schema);
        tx.exec(sql);
        tx.commit();
    }

    long long matching_scalar(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + matching_schema + ", public");
        return tx.exec(sql)[0][0].as<long long>();
    }

    std::string orders_schema = test::unique_schema("orders");
    std::string providers_schema = test::unique_schema("providers");
    std::string matching_schema = test::unique_schema("matching");
    core::manual_clock clock{std::chrono::system_clock::now()};
    config matching_cfg;
    std::unique_ptr<orders::app> orders;
    std::unique_ptr<providers::app> providers;
    std::unique_ptr<app> matching;
    std::promise<void> orders_done;
};

TEST_F(matching_fixture, an_order_reaches_a_worker_nearby_who_accepts_and_serves_it) {
    auto [family, elder_id] = family_with_elder("13500000001");
    auto provider = approved_provider("13500000002");
    auto far = online_worker(provider, "13500000004", 39.9900, 116.4700);   // about 6 km away
    auto near = online_worker(provider, "13500000003", 39.9495, 116.4135);  // a few hundred metres
    const auto order = place(family, elder_id);
    consume(1);
    auto t = tick();
    EXPECT_EQ(t.streets, 3u);
    EXPECT_EQ(t.offered, 1u);
    EXPECT_EQ(status_of(family, order), "offered");

    // The nearer worker has it; the other sees nothing; the family's view is not a worker's.
    auto mine = offers_of(near);
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_TRUE(offers_of(far).empty());
    EXPECT_EQ(mine[0].at("order_id").as_string(), order);
    EXPECT_EQ(mine[0].at("order").at("kind").as_string(), "bath");
    EXPECT_FALSE(mine[0].at("order").as_object().contains("address"));
    EXPECT_EQ(call("GET", "/v1/offers", std::nullopt, family.access).status, 403);
    const std::string offer(mine[0].at("id").as_string());
    // Only its worker may answer it.
    EXPECT_EQ(call("POST", "/v1/offers/" + offer + "/accept", std::nullopt, far.access).status, 404);
    EXPECT_EQ(call("POST", "/v1/offers/" + offer + "/accept", std::nullopt, family.access).status, 403);
    // The organisation sees its workers' offers.
    auto org_view = call("GET", "/v1/offers", std::nullopt, provider.access);
    ASSERT_EQ(org_view.status, 200);
    EXPECT_EQ(org_view.body.at("items").as_array().size(), 1u);

    auto accepted = call("POST", "/v1/offers/" + offer + "/accept", std::nullopt, near.access);
    ASSERT_EQ(accepted.status, 200) << accepted.raw.body;
    EXPECT_EQ(accepted.body.at("state").as_string(), "accepted");
    EXPECT_EQ(call("POST", "/v1/offers/" + offer + "/accept", std::nullopt, near.access).status, 409);
    EXPECT_EQ(status_of(family, order), "assigned");
    auto seen = call("GET", "/v1/orders/" + order, std::nullopt, family.access);
    EXPECT_EQ(seen.body.at("worker_id").as_string(), near.user_id);
    EXPECT_EQ(call("GET", "/v1/offers", std::nullopt, provider.access).body.at("jobs").as_array().size(), 1u);

    // The worker serves it: travels, checks in, completes with the family's code.
    const std::string code(seen.body.at("service_code").as_string());
    EXPECT_EQ(serve(order, code, near, near, near), (std::vector<int>{200, 200, 200}));
    EXPECT_EQ(status_of(family, order), "completed");
    // matching learns of it from the events: the elder now knows this caregiver.
    consume(3);  // en route, started, completed
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM continuity WHERE worker_id = '" + near.user_id + "'"), 1);
    EXPECT_EQ(matching_scalar(
                  "SELECT count(*) FROM outbox WHERE event_type IN ('order.offered', 'order.assigned')"),
              2);
    // Done sooner than the 75 minutes planned, the worker is free again from then on: the family's next bath
    // is offered to them at once, not after the first one's planned end.
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM assignments WHERE upper(during) <= now()"), 1);
    clock.advance(std::chrono::system_clock::now() - clock.now() + std::chrono::seconds(1));
    const auto again = place(family, elder_id);
    consume(1);
    EXPECT_EQ(tick().offered, 1u);
    auto next = offers_of(near);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].at("order_id").as_string(), again);
}

// Meals come from canteens: a lunch goes only to a delivery worker of a canteen that serves lunch, delivers
// to the elder and has meals left; a canteen of two lunches gets two of three orders, whatever workers it
// has.
// Orders placed and one cancelled before matching reads any of them: read together (each run of
// order.created in one statement), the cancellation still comes after its creation, and nothing else moves.
TEST_F(matching_fixture, orders_created_and_cancelled_in_one_read_end_as_they_would_one_by_one) {
    auto [family, elder_id] = family_with_elder("13500000031");
    std::vector<std::string> orders;
    for (int i = 0; i < 4; ++i) {
        orders.push_back(place(family, elder_id));
    }
    auto cancelled = call("POST", "/v1/orders/" + orders[1] + "/cancel", json::object{}, family.access);
    ASSERT_EQ(cancelled.status, 200) << cancelled.raw.body;
    orders.push_back(place(family, elder_id));
    consume(6);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM open_orders"), 5);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM open_orders WHERE state = 'closed' AND order_id = '" +
                              orders[1] + "'"),
              1);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM open_orders WHERE state = 'waiting'"), 4);
    EXPECT_EQ(
        matching_scalar("SELECT count(*) FROM open_orders WHERE family_id IS NOT NULL AND lat IS NOT NULL"
                        " AND deadline > window_start - interval '1 day'"),
        5);
}

TEST_F(matching_fixture, a_canteen_is_offered_no_more_lunches_than_it_cooks) {
    auto [family, elder_id] = family_with_elder("13500000081");
    auto canteen = new_provider("13500000082");
    ASSERT_EQ(call("PUT",
                   "/v1/providers/me/organisation",
                   json::object{{"kind", "canteen"},
                                {"name", "社区长者食堂"},
                                {"community_id", tree_.community},
                                {"address", "安定门东大街 22 号"},
                                {"location", json::object{{"lat", 39.9487}, {"lon", 116.4122}}}},
                   canteen.access)
                  .status,
              200);
    const std::string canteen_org(
        call("GET", "/v1/auth/me", std::nullopt, canteen.access).body.at("org_id").as_string());
    ASSERT_EQ(
        call("POST", "/v1/providers/organisations/" + canteen_org + "/approve", std::nullopt, admin().access)
            .status,
        200);
    ASSERT_EQ(call("PUT",
                   "/v1/providers/me/canteen",
                   json::object{{"delivery_radius_km", 3},
                                {"diet_tags", json::array{}},
                                {"slots", json::array{json::object{{"slot", "lunch"}, {"meals", 2}}}}},
                   canteen.access)
                  .status,
              200);
    auto home_care = approved_provider("13500000083");  // no kitchen: its delivery worker carries no meals
    auto meal_worker = [&](const session& provider, const std::string& phone) {
        auto w = new_worker(provider, phone);
        json::object profile{
            {"name", "送餐员"},
            {"gender", "male"},
            {"languages", json::array{"mandarin"}},
            {"kinds", json::array{"meal"}},
            {"home", json::object{{"lat", 39.9492}, {"lon", 116.4131}}},
            {"radius_km", 5},
            {"credentials",
             json::array{json::object{
                 {"type", "health_certificate"}, {"number", "H-1"}, {"expires_on", "2099-01-01"}}}}};
        EXPECT_EQ(call("PUT", "/v1/providers/workers/" + w.user_id, profile, provider.access).status, 200);
        EXPECT_EQ(call("POST",
                       "/v1/providers/me/online",
                       json::object{{"lat", 39.9492}, {"lon", 116.4131}},
                       w.access)
                      .status,
                  200);
        return w;
    };
    std::vector<session> cooks;
    for (int i = 0; i < 3; ++i) {
        cooks.push_back(meal_worker(canteen, "1350000009" + std::to_string(i)));
    }
    auto outsider = meal_worker(home_care, "13500000099");

    // Three lunches for the day after tomorrow, local time.
    const auto day =
        std::chrono::floor<std::chrono::days>(clock.now() + std::chrono::hours(8)) + std::chrono::days(2);
    const std::chrono::year_month_day ymd{day};
    char date[16];
    std::snprintf(date,
                  sizeof date,
                  "%04d-%02u-%02u",
                  static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    for (int i = 0; i < 3; ++i) {
        http::outgoing o;
        o.method = "POST";
        o.target = "/v1/orders";
        o.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + family.access},
                     {"Idempotency-Key", core::new_uuid()}};
        o.body = json::serialize(json::object{{"recipient_id", elder_id},
                                              {"kind", "meal"},
                                              {"sub_type", "lunch"},
                                              {"start", std::string(date) + "T11:30:00+08:00"},
                                              {"end", std::string(date) + "T12:00:00+08:00"}});
        auto res = test::run_coro(client_io, client.send("127.0.0.1", server->port(), o));
        ASSERT_EQ(res->status, 201) << res->body;
    }
    consume(3);
    tick();
    tick();  // a second tick changes nothing: the canteen has no lunch left
    std::size_t offered = 0;
    for (const auto& cook : cooks) {
        offered += offers_of(cook).size();
    }
    EXPECT_EQ(offered, 2u);
    EXPECT_TRUE(offers_of(outsider).empty());
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM open_orders WHERE kind = 'meal' AND state = 'waiting'"),
              1);
}

TEST_F(matching_fixture, a_decline_goes_to_the_next_worker_and_never_back) {
    auto [family, elder_id] = family_with_elder("13500000011");
    auto provider = approved_provider("13500000012");
    auto first = online_worker(provider, "13500000013", 39.9495, 116.4135);
    auto second = online_worker(provider, "13500000014", 39.9560, 116.4200);
    const auto order = place(family, elder_id);
    consume(1);
    ASSERT_EQ(tick().offered, 1u);
    auto offers = offers_of(first);
    ASSERT_EQ(offers.size(), 1u);
    const std::string offer(offers[0].at("id").as_string());
    EXPECT_EQ(
        call("POST", "/v1/offers/" + offer + "/decline", json::object{{"reason", ""}}, first.access).status,
        422);
    EXPECT_EQ(
        call("POST", "/v1/offers/" + offer + "/decline", json::object{{"reason", "a\x01"}}, first.access)
            .status,
        422);
    auto declined = call(
        "POST", "/v1/offers/" + offer + "/decline", json::object{{"reason", "太远了 too far"}}, first.access);
    ASSERT_EQ(declined.status, 200) << declined.raw.body;
    EXPECT_EQ(status_of(family, order), "matching");
    EXPECT_EQ(call("POST", "/v1/offers/" + offer + "/accept", std::nullopt, first.access).status, 409);

    ASSERT_EQ(tick().offered, 1u);
    EXPECT_TRUE(offers_of(first).empty());  // never offered again after a decline
    auto next = offers_of(second);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(call("POST",
                   "/v1/offers/" + std::string(next[0].at("id").as_string()) + "/accept",
                   std::nullopt,
                   second.access)
                  .status,
              200);
    EXPECT_EQ(status_of(family, order), "assigned");
}

// A bath for a frail elder takes two workers: both seats are offered at once or not at all; the order is
// assigned only when both accepted; a seat declined goes to another worker while the seat accepted holds.
// A crew is offered whole or not at all: when seat 1's offer is refused in the tick's write, seat 0's is
// rolled back with it, and the order waits for the next tick as it was.
TEST_F(matching_fixture, a_crew_whose_second_seat_is_refused_is_offered_no_seat) {
    auto [family, elder_id] = family_with_elder("13500000081", 0, 3);
    auto provider = approved_provider("13500000082");
    online_worker(provider, "13500000083", 39.9495, 116.4135);
    online_worker(provider, "13500000084", 39.9500, 116.4140);
    const auto order = place(family, elder_id);
    consume(1);
    // The insert of any seat-1 offer writes nothing, as when the lease or the worker moved meanwhile.
    travel(
        "CREATE FUNCTION skip_seat_one() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN IF NEW.seat = 1 THEN RETURN NULL; END IF; RETURN NEW; END $$;"
        "CREATE TRIGGER skip_seat_one BEFORE INSERT ON offers FOR EACH ROW EXECUTE FUNCTION skip_seat_one()");
    EXPECT_EQ(tick().offered, 0u);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM offers"), 0);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM open_orders WHERE state = 'waiting'"), 1);
    EXPECT_EQ(status_of(family, order), "created");
    travel("DROP TRIGGER skip_seat_one ON offers");
    EXPECT_EQ(tick().offered, 2u);  // the next tick offers both seats
    EXPECT_EQ(status_of(family, order), "offered");
}

TEST_F(matching_fixture, a_frail_elder_s_bath_goes_to_a_crew_of_two_seat_by_seat) {
    auto [family, elder_id] = family_with_elder("13500000091", 0, 3);
    auto provider = approved_provider("13500000092");
    auto a = online_worker(provider, "13500000093", 39.9495, 116.4135);
    const auto order = place(family, elder_id);
    consume(1);
    EXPECT_EQ(tick().offered, 0u);  // one worker online: no half crew is sent
    EXPECT_EQ(status_of(family, order), "created");

    auto b = online_worker(provider, "13500000094", 39.9500, 116.4140);
    auto c = online_worker(provider, "13500000095", 39.9600, 116.4250);  // farther
    EXPECT_EQ(tick().offered, 2u);
    EXPECT_EQ(status_of(family, order), "offered");
    auto seen = call("GET", "/v1/orders/" + order, std::nullopt, family.access);
    EXPECT_EQ(seen.body.at("crew").as_int64(), 2);
    std::set<std::string> named{std::string(seen.body.at("worker_id").as_string()),
                                std::string(seen.body.at("second_worker_id").as_string())};
    EXPECT_EQ(named, (std::set<std::string>{a.user_id, b.user_id}));
    auto for_a = offers_of(a);
    auto for_b = offers_of(b);
    ASSERT_EQ(for_a.size(), 1u);
    ASSERT_EQ(for_b.size(), 1u);
    EXPECT_TRUE(offers_of(c).empty());

    // A accepts: the seat is held, the order waits for the other.
    auto accepted = call("POST",
                         "/v1/offers/" + std::string(for_a[0].at("id").as_string()) + "/accept",
                         std::nullopt,
                         a.access);
    ASSERT_EQ(accepted.status, 200) << accepted.raw.body;
    EXPECT_EQ(accepted.body.at("state").as_string(), "accepted");
    EXPECT_EQ(status_of(family, order), "offered");
    // B declines: the order looks for one worker again, A keeps the seat.
    auto declined = call("POST",
                         "/v1/offers/" + std::string(for_b[0].at("id").as_string()) + "/decline",
                         json::object{{"reason", "腰疼 back pain"}},
                         b.access);
    ASSERT_EQ(declined.status, 200) << declined.raw.body;
    EXPECT_EQ(status_of(family, order), "matching");
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM assignments WHERE active"), 1);

    EXPECT_EQ(tick().offered, 1u);  // the open seat only, to the third worker
    EXPECT_TRUE(offers_of(b).empty());
    auto for_c = offers_of(c);
    ASSERT_EQ(for_c.size(), 1u);
    seen = call("GET", "/v1/orders/" + order, std::nullopt, family.access);
    named = {std::string(seen.body.at("worker_id").as_string()),
             std::string(seen.body.at("second_worker_id").as_string())};
    EXPECT_EQ(named, (std::set<std::string>{a.user_id, c.user_id}));
    auto last = call("POST",
                     "/v1/offers/" + std::string(for_c[0].at("id").as_string()) + "/accept",
                     std::nullopt,
                     c.access);
    ASSERT_EQ(last.status, 200) << last.raw.body;
    EXPECT_EQ(status_of(family, order), "assigned");
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM assignments WHERE active"), 2);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM outbox WHERE event_type = 'order.assigned'"
                              " AND payload::jsonb ? 'second_worker_id'"),
              1);

    // Both see the job, the worker who declined does not; either may serve it.
    EXPECT_EQ(call("GET", "/v1/orders/" + order, std::nullopt, a.access).status, 200);
    EXPECT_EQ(call("GET", "/v1/orders/" + order, std::nullopt, c.access).status, 200);
    EXPECT_EQ(call("GET", "/v1/orders/" + order, std::nullopt, b.access).status, 404);
    const std::string code(seen.body.at("service_code").as_string());
    EXPECT_EQ(serve(order, code, c, a, c), (std::vector<int>{200, 200, 200}));
    consume(3);  // en route, started, completed
    // The elder now knows both.
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM continuity"), 2);
}

TEST_F(matching_fixture, an_unanswered_offer_expires_and_an_order_nobody_takes_expires_at_its_deadline) {
    auto [family, elder_id] = family_with_elder("13500000021");
    auto provider = approved_provider("13500000022");
    auto only = online_worker(provider, "13500000023", 39.9495, 116.4135);
    const auto order = place(family, elder_id);
    consume(1);
    ASSERT_EQ(tick().offered, 1u);
    // Time passes in the database: the offer is a second from its expiry, then a second past it.
    travel("UPDATE offers SET created_at = to_timestamp({now} - 59), expires_at = to_timestamp({now} + 1)");
    EXPECT_EQ(expire().expired_offers, 0u);
    travel("UPDATE offers SET created_at = to_timestamp({now} - 61), expires_at = to_timestamp({now} - 1)");
    EXPECT_EQ(expire().expired_offers, 1u);
    EXPECT_EQ(status_of(family, order), "matching");
    EXPECT_TRUE(offers_of(only).empty());
    EXPECT_EQ(tick().offered, 0u);  // the only worker let it expire: not offered again
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM outbox WHERE event_type = 'offer.expired'"), 1);

    // Its deadline passes with nobody assigned: the order expires and the family sees why.
    travel("UPDATE open_orders SET deadline = to_timestamp({now} + 1)");
    EXPECT_EQ(expire().expired_orders, 0u);
    travel("UPDATE open_orders SET deadline = to_timestamp({now})");
    EXPECT_EQ(expire().expired_orders, 1u);
    auto seen = call("GET", "/v1/orders/" + order, std::nullopt, family.access);
    EXPECT_EQ(seen.body.at("status").as_string(), "expired");
    const auto& history = seen.body.at("history").as_array();
    EXPECT_EQ(history.back().at("reason").as_string(), "nobody was assigned by the deadline");
}

TEST_F(matching_fixture, accept_and_decline_racing_on_each_offer_have_exactly_one_outcome) {
    auto [family, elder_id] = family_with_elder("13500000031");
    auto provider = approved_provider("13500000032");
    constexpr int n = 8;
    const auto workers = workers_in_a_row(provider, "135000001", n, 0.0005);
    const auto orders_placed = place_many(family, elder_id, n);
    consume(n);
    ASSERT_EQ(tick().offered, static_cast<std::size_t>(n));
    // Each worker answers its offer both ways at once.
    auto answers = answer_all_both_ways(workers);
    ASSERT_EQ(answers.size(), static_cast<std::size_t>(n));
    int accepted = 0;
    for (int i = 0; i < n; ++i) {
        auto [a, d] = answers[i].get();
        EXPECT_TRUE((a == 200 && d == 409) || (a == 409 && d == 200)) << a << " " << d;
        if (a == 200) {
            ++accepted;
        }
    }
    long long assigned = 0;
    for (const auto& o : orders_placed) {
        assigned += status_of(family, o) == "assigned" ? 1 : 0;
    }
    EXPECT_EQ(assigned, accepted);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM offers WHERE state = 'accepted'"), accepted);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM offers WHERE state = 'declined'"), n - accepted);
}

TEST_F(matching_fixture, a_process_whose_lease_moved_on_offers_nothing) {
    auto [family, elder_id] = family_with_elder("13500000041");
    auto provider = approved_provider("13500000042");
    place(family, elder_id);
    consume(1);
    auto first = tick();
    EXPECT_EQ(first.streets, 3u);
    EXPECT_EQ(first.offered, 0u);  // nobody online yet
    online_worker(provider, "13500000043", 39.9495, 116.4135);
    // Another process takes the street over (as after this one stopped renewing): this one's token is stale.
    pqxx::connection c(test::db_url());
    {
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + matching_schema);
        tx.exec(
            "UPDATE street_leases SET owner = 'another', token = token + 1, expires_at = now() + interval '1 "
            "hour'");
        tx.commit();
    }
    auto t = tick();
    EXPECT_EQ(t.streets, 0u);
    EXPECT_EQ(t.offered, 0u);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM offers"), 0);
    // Once the other owner's lease lapses, this process takes the street back with a new token and offers.
    {
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + matching_schema);
        tx.exec("UPDATE street_leases SET expires_at = now() - interval '1 second'");
        tx.commit();
    }
    auto back = tick();
    EXPECT_EQ(back.streets, 3u);
    EXPECT_EQ(back.offered, 1u);
    EXPECT_EQ(matching_scalar("SELECT max(token) FROM street_leases"), 3);
}

// Workers holding several offers at once, so that many orders race at the same time.
class matching_race_fixture : public matching_fixture {
  protected:
    matching_race_fixture() : matching_fixture(5) {}
};

// Each of many offers is accepted, declined and expired at once: exactly one outcome per order, and what the
// family reads from orders is what matching recorded.
TEST_F(matching_race_fixture, accept_decline_and_expiry_racing_on_many_orders_have_exactly_one_outcome) {
    auto [family, elder_id] = family_with_elder("13500000071");
    auto provider = approved_provider("13500000072");
    constexpr int workers_n = 20;
    constexpr int per_worker = 5;
    const auto workers = workers_in_a_row(provider, "135000002", workers_n, 0.0002);
    const auto placed = place_many(family, elder_id, workers_n * per_worker);
    consume(placed.size());
    std::size_t offered = 0;
    for (int round = 0; round < per_worker * 2 && offered < placed.size(); ++round) {
        offered += tick().offered;
    }
    ASSERT_EQ(offered, placed.size());
    // Accepts and declines from the workers while the clock passes every expiry and the expiry pass runs.
    auto answers = answer_all_both_ways(workers);
    ASSERT_EQ(answers.size(), placed.size());
    // Time passes in the database (matching's own clock stays, so that its service tokens stay valid).
    travel(
        "UPDATE offers SET created_at = to_timestamp({now} - 61), expires_at = to_timestamp({now} - 1)"
        " WHERE state = 'live'");
    auto expired = expire().expired_offers;
    int accepted = 0;
    int declined = 0;
    for (auto& f : answers) {
        auto [a, d] = f.get();
        EXPECT_TRUE(a == 200 || a == 409) << a;
        EXPECT_TRUE(d == 200 || d == 409) << d;
        EXPECT_FALSE(a == 200 && d == 200);
        accepted += a == 200 ? 1 : 0;
        declined += d == 200 ? 1 : 0;
    }
    // An offer whose accept was still deciding (it lost to a job the worker already held) was skipped by that
    // pass (SKIP LOCKED); the next pass, as in service a second later, expires it.
    expired += expire().expired_offers;
    std::printf("outcomes: %d accepted, %d declined, %zu expired\n", accepted, declined, expired);
    EXPECT_EQ(static_cast<std::size_t>(accepted + declined) + expired, placed.size())
        << accepted << " accepted, " << declined << " declined, " << expired << " expired";
    EXPECT_EQ(
        matching_scalar("SELECT count(*) FROM offers WHERE state IN ('accepted', 'declined', 'expired')"),
        static_cast<long long>(placed.size()));
    // The family reads from orders exactly what matching recorded.
    std::map<std::string, long long> by_status;
    for (const auto& o : placed) {
        ++by_status[status_of(family, o)];
    }
    EXPECT_EQ(by_status["assigned"], accepted);
    EXPECT_EQ(by_status["matching"], declined + static_cast<long long>(expired));
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM assignments WHERE active"), accepted);
}

// The seats of many crews are accepted, declined and expired at once: each seat has one outcome, an order is
// assigned exactly when both its seats were accepted (with those two workers, in orders too), and every seat
// accepted holds its worker's time.
TEST_F(matching_race_fixture,
       the_seats_of_many_crews_racing_end_with_one_outcome_each_and_whole_crews_assigned) {
    auto [family, elder_id] = family_with_elder("13500000171", 0, 3);
    auto provider = approved_provider("13500000172");
    constexpr int workers_n = 20;
    const auto workers = workers_in_a_row(provider, "135000003", workers_n, 0.0002);
    const auto placed = place_many(family, elder_id, workers_n * 5 / 2);
    consume(placed.size());
    std::size_t offered = 0;
    for (int round = 0; round < 10 && offered < 2 * placed.size(); ++round) {
        offered += tick().offered;
    }
    ASSERT_EQ(offered, 2 * placed.size());
    auto answers = answer_all_both_ways(workers);
    ASSERT_EQ(answers.size(), 2 * placed.size());
    travel(
        "UPDATE offers SET created_at = to_timestamp({now} - 61), expires_at = to_timestamp({now} - 1)"
        " WHERE state = 'live'");
    expire();
    int accepted = 0;
    for (auto& f : answers) {
        auto [a, d] = f.get();
        EXPECT_TRUE(a == 200 || a == 409) << a;
        EXPECT_TRUE(d == 200 || d == 409) << d;
        EXPECT_FALSE(a == 200 && d == 200);
        accepted += a == 200 ? 1 : 0;
    }
    expire();
    EXPECT_EQ(
        matching_scalar("SELECT count(*) FROM offers WHERE state IN ('accepted', 'declined', 'expired')"),
        static_cast<long long>(2 * placed.size()));
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM offers WHERE state = 'accepted'"), accepted);
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM assignments WHERE active"), accepted);
    // Whole crews, as matching recorded them and as orders shows them to the family.
    const long long whole = matching_scalar(
        "SELECT count(*) FROM (SELECT order_id FROM offers WHERE state = 'accepted' GROUP BY order_id"
        " HAVING count(*) = 2) x");
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM open_orders WHERE state = 'assigned'"), whole);
    long long assigned = 0;
    for (const auto& o : placed) {
        auto seen = call("GET", "/v1/orders/" + o, std::nullopt, family.access);
        const std::string status(seen.body.at("status").as_string());
        EXPECT_TRUE(status == "assigned" || status == "matching") << status;
        if (status != "assigned") {
            continue;
        }
        ++assigned;
        EXPECT_EQ(
            matching_scalar("SELECT count(*) FROM offers WHERE state = 'accepted' AND order_id = '" + o +
                            "' AND worker_id IN ('" + std::string(seen.body.at("worker_id").as_string()) +
                            "', '" + std::string(seen.body.at("second_worker_id").as_string()) + "')"),
            2);
    }
    EXPECT_EQ(assigned, whole);
    std::printf("crews: %lld of %zu assigned, %d seats accepted\n", whole, placed.size(), accepted);
}

// A lost stream entry delays an order by at most one reconciler period: matching reads the street's waiting
// orders from orders, takes in what it never heard of, and takes back an offer it has no record of.
TEST_F(matching_fixture,
       the_reconciler_takes_in_an_order_whose_event_was_lost_and_takes_back_an_unknown_offer) {
    auto [family, elder_id] = family_with_elder("13500000061");
    auto provider = approved_provider("13500000062");
    auto w = online_worker(provider, "13500000063", 39.9495, 116.4135);
    const auto lost = place(family, elder_id);  // its event is never handed to matching
    EXPECT_EQ(tick().offered, 0u);
    auto r = test::run_coro(client_io, matching->reconcile());
    EXPECT_EQ(r.repaired, 1u);
    EXPECT_EQ(tick().offered, 1u);
    EXPECT_EQ(status_of(family, lost), "offered");
    EXPECT_EQ(test::run_coro(client_io, matching->reconcile()).repaired, 0u);  // in agreement now

    // An offer orders shows but matching never recorded (written by someone else): taken back, offered again.
    auto [family2, elder2] = family_with_elder("13500000064");
    const auto stray = place(family2, elder2);
    core::system_clock sys;
    const auto token = auth::token_issuer(key, {}, sys).issue_service("matching");
    auto offered =
        call("POST",
             "/v1/internal/orders/" + stray + "/transition",
             json::object{{"to", "offered"}, {"worker_id", core::new_uuid()}, {"org_id", core::new_uuid()}},
             token);
    ASSERT_EQ(offered.status, 200) << offered.raw.body;
    r = test::run_coro(client_io, matching->reconcile());
    EXPECT_EQ(r.repaired, 1u);
    EXPECT_EQ(status_of(family2, stray), "matching");
}

// An accept claimed in matching but never applied in orders (the process died in between) is applied by the
// repair pass once it is older than stuck_after: the order ends assigned in orders as in matching.
TEST_F(matching_fixture, the_repair_pass_applies_an_outcome_a_crash_left_half_done) {
    auto [family, elder_id] = family_with_elder("13500000071");
    auto provider = approved_provider("13500000072");
    auto w = online_worker(provider, "13500000073", 39.9495, 116.4135);
    const auto order = place(family, elder_id);
    consume(1);
    ASSERT_EQ(tick().offered, 1u);
    EXPECT_EQ(test::run_coro(client_io, matching->repair()).repaired, 0u);  // nothing half done
    // The claim of an accept, as a process that died before telling orders left it, a minute ago.
    travel(
        "UPDATE offers SET state = 'accepting', changed_at = to_timestamp({now} - 60)"
        " WHERE order_id = '" +
        order + "'");
    EXPECT_EQ(status_of(family, order), "offered");
    EXPECT_EQ(test::run_coro(client_io, matching->repair()).repaired, 1u);
    EXPECT_EQ(status_of(family, order), "assigned");
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM offers WHERE state = 'accepted'"), 1);
}

// Three matching processes share the streets, one each; one is killed with SIGKILL: another takes its street
// within two lease periods, and its orders are offered once each.
TEST_F(matching_fixture, a_killed_process_s_street_is_taken_over_within_two_lease_periods) {
    constexpr int lease_ms = 1000;
    const std::string source = CAREMATCH_SOURCE_DIR;
    const std::vector<std::pair<std::string, std::string>> env{
        {"CAREMATCH_DB_URL", test::db_url()},
        {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
        {"CAREMATCH_AUTH_SIGNING_KEY", auth::format_signing_key(key)},
        {"CAREMATCH_MATCHING_HTTP_PORT", "0"},
        {"CAREMATCH_MATCHING_LOG_LEVEL", "warn"},
        {"CAREMATCH_MATCHING_MATCHING_SCHEMA", matching_schema},
        {"CAREMATCH_MATCHING_REGIONS_FILE", tree_.path},
        {"CAREMATCH_MATCHING_CATALOG_FILE", source + "/config/catalog.json"},
        {"CAREMATCH_MATCHING_ORDERS_URL", "http://127.0.0.1:" + std::to_string(server->port())},
        {"CAREMATCH_MATCHING_PROVIDERS_URL", "http://127.0.0.1:" + std::to_string(server->port())},
        {"CAREMATCH_MATCHING_CONSUMER_GROUP", "matching-" + matching_schema},
        {"CAREMATCH_MATCHING_RATINGS_STREAM", "carematch:{ratings}:test-" + matching_schema},
        {"CAREMATCH_MATCHING_LEASE_MS", std::to_string(lease_ms)},
        {"CAREMATCH_MATCHING_TICK_MS", "100"},
    };
    std::vector<pid_t> processes;
    for (int i = 0; i < 3; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            for (const auto& [k, v] : env) {
                setenv(k.c_str(), v.c_str(), 1);
            }
            const std::string config = source + "/config/matching.toml";
            execl(CAREMATCH_MATCHING_BIN, "carematch-matching", config.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        processes.push_back(pid);
    }
    struct reaper {
        std::vector<pid_t>& pids;
        ~reaper() {
            for (pid_t p : pids) {
                kill(p, SIGKILL);
                waitpid(p, nullptr, 0);
            }
        }
    } reap{processes};
    // Who owns what, as the database says.
    auto owners = [&] {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("SET search_path TO " + matching_schema);
        std::map<std::int64_t, std::string> out;
        for (const auto& r : tx.exec("SELECT street, owner FROM street_leases WHERE expires_at > now()")) {
            out[r[0].as<std::int64_t>()] = r[1].as<std::string>();
        }
        return out;
    };
    auto wait_until = [](auto done, std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) {
                return false;
            }
            std::this_thread::yield();
        }
        return true;
    };
    ASSERT_TRUE(wait_until(
        [&] {
            auto o = owners();
            std::set<std::string> distinct;
            for (const auto& [_, who] : o) {
                distinct.insert(who);
            }
            return o.size() == 3 && distinct.size() == 3;
        },
        std::chrono::seconds(30)))
        << "three processes never shared the three streets";
    // Kill the owner of the first street (its pid is in its name: host:pid:random).
    const std::string victim = owners().at(tree_.street);
    const auto first_colon = victim.find(':');
    const pid_t victim_pid = static_cast<pid_t>(std::stol(victim.substr(first_colon + 1)));
    ASSERT_NE(std::find(processes.begin(), processes.end(), victim_pid), processes.end()) << victim;
    kill(victim_pid, SIGKILL);
    waitpid(victim_pid, nullptr, 0);
    processes.erase(std::find(processes.begin(), processes.end(), victim_pid));
    const auto killed_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until(
        [&] {
            auto o = owners();
            return o.contains(tree_.street) && o.at(tree_.street) != victim;
        },
        std::chrono::seconds(10)));
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
    EXPECT_LE(took.count(), 2 * lease_ms) << "the street had no owner for " << took.count() << " ms";

    // The street works under its new owner: an order there reaches the worker once.
    auto [family, elder_id] = family_with_elder("13500000051");
    auto provider = approved_provider("13500000052");
    auto w = online_worker(provider, "13500000053", 39.9495, 116.4135);
    const auto order = place(family, elder_id);
    // Orders says offered a moment before matching shows the offer live: wait for both.
    ASSERT_TRUE(wait_until([&] { return offers_of(w).size() == 1; }, std::chrono::seconds(20)));
    EXPECT_EQ(status_of(family, order), "offered");
    EXPECT_EQ(matching_scalar("SELECT count(*) FROM offers"), 1);
}

}  // namespace
}  // namespace carematch::matching
