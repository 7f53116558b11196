// The all-in-one process as a user runs it: started with its config, serving every service on one port,
// and stopping cleanly on SIGTERM (idle keep-alive connections closed, exit status 0).
#include "support/region_tree.hpp"
#include "support/run_coro.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/http/client.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace carematch {
namespace {

class all_in_one : public ::testing::Test {
  protected:
    test::region_tree region{5100, 5999};  // a street of its own: no stream shared with other tests
    all_in_one() {
        int out[2];
        if (pipe(out) != 0) {
            throw std::runtime_error("pipe failed");
        }
        const std::string source = CAREMATCH_SOURCE_DIR;
        const std::vector<std::pair<std::string, std::string>> env{
            {"CAREMATCH_DB_URL", test::db_url()},
            {"CAREMATCH_REDIS_URL", test::required_env("CAREMATCH_TEST_REDIS_URL")},
            {"CAREMATCH_ALL_IN_ONE_HTTP_PORT", "0"},
            {"CAREMATCH_ALL_IN_ONE_IDENTITY_SCHEMA", identity_schema},
            {"CAREMATCH_ALL_IN_ONE_ORDERS_SCHEMA", orders_schema},
            {"CAREMATCH_ALL_IN_ONE_IDENTITY_EVENTS_STREAM", "carematch:{identity}:" + identity_schema},
            {"CAREMATCH_ALL_IN_ONE_ORDERS_IDENTITY_STREAM", "carematch:{identity}:" + identity_schema},
            {"CAREMATCH_ALL_IN_ONE_ORDERS_CONSUMER_GROUP", "orders-" + orders_schema},
            {"CAREMATCH_ALL_IN_ONE_IDENTITY_REGIONS_FILE", region.path},
            {"CAREMATCH_ALL_IN_ONE_IDENTITY_BOOTSTRAP_ADMIN", "13800000000:admin-password-1"},
            {"CAREMATCH_ALL_IN_ONE_ORDERS_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_ALL_IN_ONE_PROVIDERS_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_ALL_IN_ONE_PROVIDERS_SCHEMA", providers_schema},
            {"CAREMATCH_ALL_IN_ONE_PROVIDERS_COMPLAINTS_STREAM", complaints_stream},
            {"CAREMATCH_ALL_IN_ONE_NURSERY_SCHEMA", nursery_schema},
            {"CAREMATCH_ALL_IN_ONE_NURSERY_REGIONS_FILE", region.path},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_SCHEMA", matching_schema},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_REGIONS_FILE", region.path},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_RATINGS_STREAM", ratings_stream},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_EVENTS_STREAM", ratings_stream},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_RATINGS_STREAM", ratings_stream},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_COMPLAINTS_STREAM", complaints_stream},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_EVENTS_STREAM", complaints_stream},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_CONSUMER_GROUP", "matching-" + matching_schema},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_SCHEMA", ratings_schema},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_REGIONS_FILE", region.path},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_CONSUMER_GROUP", "ratings-" + ratings_schema},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_SCHEMA", complaints_schema},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_REGIONS_FILE", region.path},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_CALENDAR_FILE", source + "/config/workdays.json"},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_CONSUMER_GROUP", "complaints-" + complaints_schema},
            {"CAREMATCH_ALL_IN_ONE_REALTIME_SCHEMA", realtime_schema},
            {"CAREMATCH_ALL_IN_ONE_SUPERVISION_SCHEMA", supervision_schema},
            {"CAREMATCH_ALL_IN_ONE_SUPERVISION_REGIONS_FILE", region.path},
            {"CAREMATCH_ALL_IN_ONE_SUPERVISION_RATINGS_STREAM", ratings_stream},
            {"CAREMATCH_ALL_IN_ONE_SUPERVISION_COMPLAINTS_STREAM", complaints_stream},
            {"CAREMATCH_ALL_IN_ONE_SUPERVISION_CONSUMER_GROUP", "supervision-" + supervision_schema},
            {"CAREMATCH_ALL_IN_ONE_REALTIME_REGIONS_FILE", region.path},
            {"CAREMATCH_ALL_IN_ONE_REALTIME_COMPLAINTS_STREAM", complaints_stream},
            {"CAREMATCH_ALL_IN_ONE_REALTIME_CONSUMER_GROUP", "realtime-" + realtime_schema},
            {"CAREMATCH_ALL_IN_ONE_REALTIME_PREFIX", "carematch:rt:" + realtime_schema},
            {"CAREMATCH_AUTH_SIGNING_KEY", "e2e:" + std::string(43, 'A') + "="},
            {"CAREMATCH_AUTH_DATA_KEY", std::string(42, 'B') + "A="},
            {"CAREMATCH_ALL_IN_ONE_AUTH_DATA_KEY", std::string(42, 'B') + "A="},
        };
        pid_ = fork();
        if (pid_ == 0) {
            dup2(out[1], STDERR_FILENO);
            close(out[0]);
            close(out[1]);
            for (const auto& [k, v] : env) {
                setenv(k.c_str(), v.c_str(), 1);
            }
            std::string config = source + "/config/all-in-one.toml";
            execl(CAREMATCH_ALL_IN_ONE_BIN,
                  "carematch-all-in-one",
                  config.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        log_ = fdopen(out[0], "r");
        // The process logs one JSON line per event; wait for the one that says where it listens.
        char line[4096];
        while (fgets(line, sizeof line, log_) != nullptr) {
            boost::system::error_code ec;
            auto v = boost::json::parse(line, ec);
            if (!ec && v.is_object() && v.as_object().contains("msg")) {
                if (v.at("msg").as_string() == "listening") {
                    port_ = static_cast<std::uint16_t>(v.at("port").as_int64());
                    break;
                }
                if (v.at("msg").as_string() == "start-up failed") {
                    ADD_FAILURE() << line;
                    break;
                }
            }
        }
    }

    ~all_in_one() override {
        if (pid_ > 0 && !reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (log_ != nullptr) {
            fclose(log_);
        }
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + identity_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + orders_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + providers_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + nursery_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + matching_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + ratings_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + complaints_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + realtime_schema + " CASCADE");
        tx.exec("DROP SCHEMA IF EXISTS " + supervision_schema + " CASCADE");
        tx.commit();
    }

    int stop_and_wait() {
        kill(pid_, SIGTERM);
        // Drain the log so the process never blocks on a full pipe while shutting down.
        char line[4096];
        while (fgets(line, sizeof line, log_) != nullptr) {
        }
        int status = 0;
        waitpid(pid_, &status, 0);
        reaped_ = true;
        return status;
    }

    std::string identity_schema = test::unique_schema("e2e_identity");
    std::string orders_schema = test::unique_schema("e2e_orders");
    std::string providers_schema = test::unique_schema("e2e_providers");
    std::string nursery_schema = test::unique_schema("e2e_nursery");
    std::string matching_schema = test::unique_schema("e2e_matching");
    std::string ratings_schema = test::unique_schema("e2e_ratings");
    std::string complaints_schema = test::unique_schema("e2e_complaints");
    std::string realtime_schema = test::unique_schema("e2e_realtime");
    std::string supervision_schema = test::unique_schema("e2e_supervision");
    std::string ratings_stream = "carematch:{ratings}:e2e-" + core::new_uuid();
    std::string complaints_stream = "carematch:{complaints}:e2e-" + core::new_uuid();
    pid_t pid_ = -1;
    bool reaped_ = false;
    FILE* log_ = nullptr;
    std::uint16_t port_ = 0;
};

TEST_F(all_in_one, serves_every_service_and_stops_cleanly_on_sigterm) {
    ASSERT_NE(port_, 0) << "the process did not report its port";
    test::raw_connection c(port_);
    c.send(test::get_request("/readyz"));
    auto ready = c.read();
    EXPECT_EQ(ready.result_int(), 200);
    // Every service's own probes and pool gauges, not only the first one's.
    c.send(test::get_request("/metrics"));
    const std::string metrics = c.read().body();
    for (const char* svc : {"identity",
                            "orders",
                            "providers",
                            "nursery",
                            "matching",
                            "ratings",
                            "complaints",
                            "realtime",
                            "supervision"}) {
        EXPECT_NE(ready.body().find(std::string("\"") + svc + ".postgres\":{\"status\":\"ok\""),
                  std::string::npos)
            << ready.body();
        EXPECT_NE(ready.body().find(std::string("\"") + svc + ".redis\":{\"status\":\"ok\""),
                  std::string::npos);
        EXPECT_NE(metrics.find(std::string("carematch_db_pool_size{service=\"") + svc + "\"}"),
                  std::string::npos)
            << svc;
    }
    c.send(test::get_request("/v1/catalog"));
    auto catalog = c.read();
    EXPECT_EQ(catalog.result_int(), 200);
    EXPECT_NE(catalog.body().find("home_bath"), std::string::npos);
    EXPECT_NE(catalog.body().find(R"("sub_type":"lunch")"), std::string::npos);
    EXPECT_NE(catalog.body().find(R"("hours":"10:30-13:30")"),
              std::string::npos);  // when lunch may be ordered
    // The API document: every service's operations in one.
    c.send(test::get_request("/openapi.json"));
    auto api = c.read();
    EXPECT_EQ(api.result_int(), 200);
    const auto doc = boost::json::parse(api.body()).as_object();
    EXPECT_EQ(doc.at("info").at("title").as_string(), "CareMatch API");
    for (const char* path :
         {"/v1/auth/login", "/v1/orders", "/v1/offers/{id}/accept", "/v1/ws", "/v1/complaints"}) {
        EXPECT_TRUE(doc.at("paths").as_object().contains(path)) << path;
    }
    c.send(test::get_request("/v1/recipients"));
    EXPECT_EQ(c.read().result_int(), 401);  // identity's routes are mounted too
    c.send(test::get_request("/v1/providers/organisations"));
    EXPECT_EQ(c.read().result_int(), 401);  // and providers'
    c.send(test::get_request("/v1/nursery/bookings"));
    EXPECT_EQ(c.read().result_int(), 401);  // and nursery's
    c.send(test::get_request("/v1/offers"));
    EXPECT_EQ(c.read().result_int(), 401);  // and matching's
    c.send(test::get_request("/v1/ratings"));
    EXPECT_EQ(c.read().result_int(), 401);  // and ratings'
    c.send(test::get_request("/v1/complaints"));
    EXPECT_EQ(c.read().result_int(), 401);  // and complaints'
    c.send(test::get_request("/v1/supervision/watchlist"));
    EXPECT_EQ(c.read().result_int(), 401);  // and supervision's
    c.send(test::get_request("/v1/ws"));
    EXPECT_EQ(c.read().result_int(), 426);  // and realtime's
    // `c` stays open and idle: shutdown must close it rather than wait for it.
    int status = stop_and_wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(c.closed_by_peer());
}

// A user's reply: status and JSON body.
struct answer {
    int status = 0;
    boost::json::value body;
    std::string raw;
};

class all_in_one_flow : public all_in_one {
  protected:
    // The process logs a line per request: read them all the time, so that it never blocks on a full pipe,
    // and keep them for a test to search.
    all_in_one_flow() {
        drainer_ = std::thread([this] {
            char line[4096];
            while (log_ != nullptr && fgets(line, sizeof line, log_) != nullptr) {
                std::lock_guard lock(log_mutex_);
                log_text_ += line;
            }
        });
    }
    std::string log_text() {
        std::lock_guard lock(log_mutex_);
        return log_text_;
    }
    ~all_in_one_flow() override {
        if (drainer_.joinable()) {
            if (!reaped_ && pid_ > 0) {
                kill(pid_, SIGKILL);
            }
            drainer_.join();
        }
    }
    int stop_flow() {
        kill(pid_, SIGTERM);
        drainer_.join();
        int status = 0;
        waitpid(pid_, &status, 0);
        reaped_ = true;
        return status;
    }
    std::thread drainer_;
    std::mutex log_mutex_;
    std::string log_text_;

    answer call(const std::string& method,
                const std::string& target,
                const std::optional<boost::json::object>& body = std::nullopt,
                const std::string& token = "",
                const std::string& key = "") {
        http::outgoing o;
        o.method = method;
        o.target = target;
        if (body) {
            o.body = boost::json::serialize(*body);
            o.headers.emplace_back("Content-Type", "application/json");
        }
        if (!token.empty()) {
            o.headers.emplace_back("Authorization", "Bearer " + token);
        }
        if (!key.empty()) {
            o.headers.emplace_back("Idempotency-Key", key);
        }
        auto res = test::run_coro(io, client.send("127.0.0.1", port_, o));
        answer a;
        if (!res) {
            return a;
        }
        a.status = res->status;
        a.raw = res->body;
        boost::system::error_code ec;
        a.body = boost::json::parse(res->body, ec);
        return a;
    }
    std::string login(const std::string& phone, const std::string& password) {
        auto r =
            call("POST", "/v1/auth/login", boost::json::object{{"phone", phone}, {"password", password}});
        EXPECT_EQ(r.status, 200) << r.raw;
        return r.status == 200 ? std::string(r.body.at("access_token").as_string()) : "";
    }
    // Asks until `done` holds, for at most `limit` (the platform works in the background: ticks, consumers).
    template <class F>
    bool eventually(F done, std::chrono::seconds limit = std::chrono::seconds(30)) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // between questions, not as a wait
        }
        return true;
    }

    boost::asio::io_context io;
    http::client client{io};
};

// The loop a family, a worker and community staff close together on one all-in-one process: an order reaches
// the worker nearby, who accepts and serves it; the family rates it badly; the complaint queue opens the
// rectification ticket.
TEST_F(all_in_one_flow, an_order_is_offered_served_rated_and_a_bad_review_reaches_the_complaint_queue) {
    ASSERT_NE(port_, 0);
    namespace json = boost::json;
    const auto admin = login("13800000000", "admin-password-1");
    // The family and its elder.
    ASSERT_EQ(call("POST",
                   "/v1/auth/register",
                   json::object{{"phone", "13700000001"}, {"password", "family-pass-1"}})
                  .status,
              201);
    const auto family = login("13700000001", "family-pass-1");
    auto elder = call(
        "POST",
        "/v1/recipients",
        json::object{{"kind", "elder"},
                     {"name", "王秀英"},
                     {"birth_date", "1940-03-02"},
                     {"community_id", region.community},
                     {"gender", "female"},
                     {"ability_level", 2},
                     {"address", "安定门东大街 12 号"},
                     {"location", json::object{{"lat", 39.9489}, {"lon", 116.4128}}},
                     {"consents",
                      json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}},
        family);
    ASSERT_EQ(elder.status, 201) << elder.raw;
    const std::string elder_id(elder.body.at("id").as_string());
    // A home-care company, approved, with a bathing caregiver online nearby.
    ASSERT_EQ(call("POST",
                   "/v1/auth/register/provider",
                   json::object{
                       {"phone", "13600000001"}, {"password", "provider-pass"}, {"org_name", "安心居家养老"}})
                  .status,
              201);
    const auto provider = login("13600000001", "provider-pass");
    auto org = call("PUT",
                    "/v1/providers/me/organisation",
                    json::object{{"kind", "home_care"},
                                 {"name", "安心居家养老"},
                                 {"community_id", region.community},
                                 {"address", "安定门东大街 20 号"},
                                 {"location", json::object{{"lat", 39.9485}, {"lon", 116.4120}}}},
                    provider);
    ASSERT_EQ(org.status, 200) << org.raw;
    const std::string org_id(org.body.at("id").as_string());
    ASSERT_EQ(call("POST", "/v1/providers/organisations/" + org_id + "/approve", std::nullopt, admin).status,
              200);
    auto worker =
        call("POST",
             "/v1/auth/workers",
             json::object{{"phone", "13600000002"}, {"password", "worker-pass"}, {"display_name", "周阿姨"}},
             provider);
    ASSERT_EQ(worker.status, 201) << worker.raw;
    const std::string worker_id(worker.body.at("id").as_string());
    ASSERT_EQ(call("PUT",
                   "/v1/providers/workers/" + worker_id,
                   json::object{{"name", "周阿姨"},
                                {"gender", "female"},
                                {"languages", json::array{"mandarin"}},
                                {"kinds", json::array{"bath"}},
                                {"home", json::object{{"lat", 39.95}, {"lon", 116.41}}},
                                {"radius_km", 5},
                                {"credentials",
                                 json::array{json::object{{"type", "bathing_certificate"},
                                                          {"number", "B-1"},
                                                          {"expires_on", "2099-12-31"}}}}},
                   provider)
                  .status,
              200);
    const auto w = login("13600000002", "worker-pass");
    ASSERT_EQ(
        call("POST", "/v1/providers/me/online", json::object{{"lat", 39.9490}, {"lon", 116.4130}}, w).status,
        200);
    // Community staff.
    ASSERT_EQ(call("POST",
                   "/v1/admin/users",
                   json::object{{"phone", "13500000001"},
                                {"password", "staff-pass-1"},
                                {"role", "staff"},
                                {"display_name", "社区工作人员"},
                                {"communities", json::array{region.community}}},
                   admin)
                  .status,
              201);
    const auto staff = login("13500000001", "staff-pass-1");

    // The worker and the family watch live.
    test::ws_client worker_live(port_, "/v1/ws", "carematch.v1, bearer." + w);
    test::ws_client family_live(port_, "/v1/ws", "carematch.v1, bearer." + family);
    ASSERT_TRUE(worker_live.open() && family_live.open());
    ASSERT_NE(worker_live.next().value_or("").find("\"ready\""), std::string::npos);
    ASSERT_NE(family_live.next().value_or("").find("\"ready\""), std::string::npos);

    // The family orders a bath as soon as possible; within a few ticks the worker sees the offer.
    auto placed = call("POST",
                       "/v1/orders",
                       json::object{{"recipient_id", elder_id}, {"kind", "bath"}, {"sub_type", "home_bath"}},
                       family,
                       core::new_uuid());
    ASSERT_EQ(placed.status, 201) << placed.raw;
    const std::string order(placed.body.at("id").as_string());
    // The offer is pushed to the worker's socket, with its expiry; the worker accepts it over REST.
    auto pushed = worker_live.next(std::chrono::seconds(30));
    ASSERT_TRUE(pushed.has_value()) << "the offer never reached the worker's socket";
    auto frame = json::parse(*pushed);
    ASSERT_EQ(frame.at("type"), "offer.new") << *pushed;
    EXPECT_EQ(frame.at("data").at("order_id").as_string(), order);
    EXPECT_TRUE(frame.at("data").as_object().contains("expires_at"));
    const std::string offer(frame.at("data").at("offer_id").as_string());
    ASSERT_EQ(call("POST", "/v1/offers/" + offer + "/accept", std::nullopt, w).status, 200);
    // The family sees its order move to assigned, live: created, offered, assigned.
    std::vector<std::string> moves;
    while (moves.empty() || moves.back() != "assigned") {
        auto m = family_live.next(std::chrono::seconds(30));
        ASSERT_TRUE(m.has_value()) << "the family's socket fell silent after " << moves.size() << " moves";
        moves.emplace_back(json::parse(*m).at("data").at("status").as_string());
    }
    EXPECT_EQ(moves, (std::vector<std::string>{"created", "offered", "assigned"}));
    auto seen = call("GET", "/v1/orders/" + order, std::nullopt, family);
    EXPECT_EQ(seen.body.at("status").as_string(), "assigned");
    const std::string code(seen.body.at("service_code").as_string());
    ASSERT_EQ(call("POST", "/v1/orders/" + order + "/en-route", std::nullopt, w).status, 200);
    ASSERT_EQ(
        call(
            "POST", "/v1/orders/" + order + "/check-in", json::object{{"lat", 39.9489}, {"lon", 116.4128}}, w)
            .status,
        200);
    ASSERT_EQ(
        call("POST", "/v1/orders/" + order + "/complete", json::object{{"service_code", code}}, w).status,
        200);

    // Ratings learns of the completion from the event; the family rates it badly.
    answer rated;
    ASSERT_TRUE(eventually([&] {
        rated =
            call("POST",
                 "/v1/ratings",
                 json::object{
                     {"order_id", order}, {"level", 1}, {"tags", json::array{"late"}}, {"comment", "迟到了"}},
                 family,
                 core::new_uuid());
        return rated.status == 201;
    })) << rated.raw;
    // The complaint queue opens the rectification ticket for the community's staff.
    ASSERT_TRUE(eventually([&] {
        auto q = call(
            "GET", "/v1/complaints?community_id=" + std::to_string(region.community), std::nullopt, staff);
        return q.status == 200 && q.body.at("items").as_array().size() == 1 &&
               q.body.at("items").as_array()[0].at("category").as_string() == "rectification";
    })) << "no rectification ticket";
    // Staff work it through to its close (a return visit first); the review then shows its follow-up done.
    auto queue =
        call("GET", "/v1/complaints?community_id=" + std::to_string(region.community), std::nullopt, staff);
    const auto& ticket = queue.body.at("items").as_array()[0];
    const std::string tid(ticket.at("id").as_string());
    ASSERT_EQ(call("POST",
                   "/v1/complaints/" + tid + "/claim",
                   json::object{{"version", ticket.at("version")}},
                   staff)
                  .status,
              200);
    ASSERT_EQ(call("POST",
                   "/v1/complaints/" + tid + "/resolve",
                   json::object{{"outcome", "upheld"}, {"measures", "约谈机构，护理员培训守时"}},
                   staff)
                  .status,
              200);
    ASSERT_EQ(
        call("POST", "/v1/complaints/" + tid + "/return-visit", json::object{{"satisfaction", 4}}, staff)
            .status,
        200);
    ASSERT_EQ(call("POST", "/v1/complaints/" + tid + "/close", std::nullopt, staff).status, 200);
    const std::string review(rated.body.at("id").as_string());
    ASSERT_TRUE(eventually([&] {
        auto r = call("GET", "/v1/ratings/" + review, std::nullopt, family);
        return r.status == 200 && r.body.at("followup_state").as_string() == "done";
    })) << "the review never showed its follow-up done";
    // Supervision counted it all from the events: one order served, one bad review followed up, no backlog.
    ASSERT_TRUE(eventually([&] {
        auto f = call(
            "GET", "/v1/supervision/communities/" + std::to_string(region.community), std::nullopt, staff);
        if (f.status != 200) {
            return false;
        }
        const auto& t = f.body.at("total");
        return t.at("orders").at("completed") == 1 && t.at("ratings").at("bad_followed_up") == 1 &&
               t.at("complaints").at("filed") == 1 && t.at("complaints").at("backlog") == 0;
    })) << call("GET", "/v1/supervision/communities/" + std::to_string(region.community), std::nullopt, staff)
               .raw;
    EXPECT_EQ(stop_flow(), 0);
}

// The city simulator drives a short, busy half hour through the public API and its sockets (orders, offers,
// declines, no-shows, ratings, complaints, staff, nursery bookings) and checks what the platform promised:
// every order final or inside its window, nobody doing two jobs at once, every bad review followed up, late
// complaints escalated, no nursery over its places, supervision's figures equal to what it counted.
TEST_F(all_in_one_flow, the_city_simulator_runs_a_short_day_and_every_check_holds) {
    ASSERT_NE(port_, 0);
    const auto out = std::filesystem::temp_directory_path() / ("carematch-sim-" + core::new_uuid());
    const std::string source = CAREMATCH_SOURCE_DIR;
    const std::string command = std::string(CAREMATCH_SIM_BIN) + " --quiet --scenario " + source +
                                "/config/sim/short.json --url http://127.0.0.1:" + std::to_string(port_) +
                                " --admin 13800000000:admin-password-1 --street " +
                                std::to_string(region.street) + " --out " + out.string() + " 2>&1";
    FILE* p = popen(command.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string printed;
    char buf[4096];
    while (fgets(buf, sizeof buf, p) != nullptr) {
        printed += buf;
    }
    const int status = pclose(p);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << printed;
    std::ifstream in(out / "summary.json");
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto summary = boost::json::parse(text.str(), ec);
    ASSERT_FALSE(ec) << printed;
    // It did the day's work, not nothing: orders placed and served, reviews written, tickets worked.
    EXPECT_GE(summary.at("orders").at("total").at("placed").as_int64(), 5) << printed;
    EXPECT_GE(summary.at("orders").at("total").at("completed").as_int64(), 3) << printed;
    EXPECT_GE(summary.at("ratings").at("count").as_int64(), 1) << printed;
    // Nursery places: the short day books more children than the nursery has places, so some wait.
    EXPECT_GE(summary.at("nursery").at("confirmed").as_int64(), 1) << printed;
    EXPECT_GE(summary.at("nursery").at("waitlisted").as_int64(), 1) << printed;
    const auto& checks = summary.at("checks").as_array();
    EXPECT_EQ(checks.size(), 6u);
    for (const auto& c : checks) {
        EXPECT_TRUE(c.at("ok").as_bool()) << c.at("name").as_string() << ": " << c.at("detail").as_string();
    }
    for (const char* plot : {"latency.svg", "timeline.svg", "map.svg", "orders.csv", "summary.txt"}) {
        EXPECT_TRUE(std::filesystem::exists(out / plot)) << plot;
    }
    std::filesystem::remove_all(out);
    EXPECT_EQ(stop_flow(), 0);
}

// What a command prints on its standard output ("" when it cannot run).
std::string output_of(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[65536];
    std::size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    pclose(p);
    return out;
}

std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Personal data submitted through the API (phones, names, addresses, emergency contacts, health notes, order
// notes, a worker's name and licence number, a child and who may collect it) is nowhere in plain text: not in
// a pg_dump of every schema the platform wrote, not in PostgreSQL's log (a duplicate phone included), not in
// the process's log, not in the event streams.
TEST_F(all_in_one_flow, personal_data_submitted_is_in_no_dump_log_or_stream_in_plain_text) {
    ASSERT_NE(port_, 0);
    namespace json = boost::json;
    // Values of this run only, so that a hit can only be this test's data.
    std::mt19937_64 rng(std::random_device{}());
    auto digits = [&](int n) {
        std::string s;
        for (int i = 0; i < n; ++i) {
            s += static_cast<char>('0' + rng() % 10);
        }
        return s;
    };
    const std::string tag = core::random_hex(4);
    const std::string family_phone = "139" + digits(8), contact_phone = "137" + digits(8),
                      worker_phone = "136" + digits(8), pickup_phone = "135" + digits(8),
                      staff_phone = "134" + digits(8);
    const std::string family_name = "家属" + tag, elder_name = "老人" + tag,
                      address = "安定门内大街" + tag + "号", contact_name = "联系人" + tag,
                      health = "糖尿病" + tag, notes = "门铃坏了" + tag, worker_display = "护理员" + tag,
                      worker_name = "护工" + tag, licence = "BC-" + tag, child_name = "宝宝" + tag,
                      pickup_name = "接送人" + tag, staff_name = "社工" + tag;

    const auto admin = login("13800000000", "admin-password-1");
    ASSERT_EQ(call("POST",
                   "/v1/auth/register",
                   json::object{
                       {"phone", family_phone}, {"password", "family-pass-1"}, {"display_name", family_name}})
                  .status,
              201);
    // The same phone again: refused, and PostgreSQL's unique violation must not log the number.
    EXPECT_EQ(
        call("POST", "/v1/auth/register", json::object{{"phone", family_phone}, {"password", "other-pass-1"}})
            .status,
        409);
    const auto family = login(family_phone, "family-pass-1");
    ASSERT_FALSE(family.empty());
    // Sealed at rest, shown to its owner.
    auto me = call("GET", "/v1/auth/me", std::nullopt, family);
    ASSERT_EQ(me.status, 200);
    EXPECT_EQ(me.body.at("phone").as_string(), family_phone);
    EXPECT_EQ(me.body.at("display_name").as_string(), family_name);
    auto elder = call(
        "POST",
        "/v1/recipients",
        json::object{{"kind", "elder"},
                     {"name", elder_name},
                     {"birth_date", "1938-05-06"},
                     {"community_id", region.community},
                     {"gender", "female"},
                     {"ability_level", 1},
                     {"address", address},
                     {"location", json::object{{"lat", 39.9489}, {"lon", 116.4128}}},
                     {"emergency_contacts",
                      json::array{json::object{
                          {"name", contact_name}, {"phone", contact_phone}, {"relation", "女儿"}}}},
                     {"health_notes", health},
                     {"consents",
                      json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}},
        family);
    ASSERT_EQ(elder.status, 201) << elder.raw;
    const std::string elder_id(elder.body.at("id").as_string());
    auto shown = call("GET", "/v1/recipients/" + elder_id, std::nullopt, family);
    ASSERT_EQ(shown.status, 200);
    for (const auto& v : {elder_name, address, contact_name, contact_phone, health}) {
        EXPECT_NE(shown.raw.find(v), std::string::npos) << "the family no longer sees " << v;
    }
    auto placed =
        call("POST",
             "/v1/orders",
             json::object{
                 {"recipient_id", elder_id}, {"kind", "bath"}, {"sub_type", "home_bath"}, {"notes", notes}},
             family,
             core::new_uuid());
    ASSERT_EQ(placed.status, 201) << placed.raw;
    EXPECT_EQ(placed.body.at("address").as_string(), address);
    EXPECT_EQ(placed.body.at("notes").as_string(), notes);
    auto child = call(
        "POST",
        "/v1/recipients",
        json::object{{"kind", "child"},
                     {"name", child_name},
                     {"birth_date", "2025-09-01"},
                     {"community_id", region.community},
                     {"consents",
                      json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}},
        family);
    ASSERT_EQ(child.status, 201) << child.raw;
    const std::string child_id(child.body.at("id").as_string());
    auto pickups =
        call("PUT",
             "/v1/nursery/children/" + child_id + "/pickup-persons",
             json::object{{"people",
                           json::array{json::object{
                               {"name", pickup_name}, {"phone", pickup_phone}, {"relation", "奶奶"}}}}},
             family);
    ASSERT_EQ(pickups.status, 200) << pickups.raw;
    auto listed = call("GET", "/v1/nursery/children/" + child_id + "/pickup-persons", std::nullopt, family);
    EXPECT_NE(listed.raw.find(pickup_phone), std::string::npos) << listed.raw;

    // A provider's worker with a name and a licence number; community staff with a name.
    const std::string provider_phone = "133" + digits(8);
    ASSERT_EQ(call("POST",
                   "/v1/auth/register/provider",
                   json::object{
                       {"phone", provider_phone}, {"password", "provider-pass"}, {"org_name", "安心" + tag}})
                  .status,
              201);
    const auto provider = login(provider_phone, "provider-pass");
    auto org = call("PUT",
                    "/v1/providers/me/organisation",
                    json::object{{"kind", "home_care"},
                                 {"name", "安心" + tag},
                                 {"community_id", region.community},
                                 {"address", "安定门东大街 20 号"},
                                 {"location", json::object{{"lat", 39.9485}, {"lon", 116.4120}}}},
                    provider);
    ASSERT_EQ(org.status, 200) << org.raw;
    ASSERT_EQ(call("POST",
                   "/v1/providers/organisations/" + std::string(org.body.at("id").as_string()) + "/approve",
                   std::nullopt,
                   admin)
                  .status,
              200);
    auto worker = call(
        "POST",
        "/v1/auth/workers",
        json::object{{"phone", worker_phone}, {"password", "worker-pass"}, {"display_name", worker_display}},
        provider);
    ASSERT_EQ(worker.status, 201) << worker.raw;
    const std::string worker_id(worker.body.at("id").as_string());
    auto profile =
        call("PUT",
             "/v1/providers/workers/" + worker_id,
             json::object{
                 {"name", worker_name},
                 {"gender", "female"},
                 {"languages", json::array{"mandarin"}},
                 {"kinds", json::array{"bath"}},
                 {"home", json::object{{"lat", 39.95}, {"lon", 116.41}}},
                 {"radius_km", 5},
                 {"credentials",
                  json::array{json::object{
                      {"type", "bathing_certificate"}, {"number", licence}, {"expires_on", "2099-12-31"}}}}},
             provider);
    ASSERT_EQ(profile.status, 200) << profile.raw;
    EXPECT_EQ(profile.body.at("name").as_string(), worker_name);
    EXPECT_NE(profile.raw.find(licence), std::string::npos) << profile.raw;
    EXPECT_EQ(call("POST",
                   "/v1/admin/users",
                   json::object{{"phone", staff_phone},
                                {"password", "staff-pass-1"},
                                {"role", "staff"},
                                {"display_name", staff_name},
                                {"communities", json::array{region.community}}},
                   admin)
                  .status,
              201);

    // Every place the data could rest.
    const std::string pg_bin = test::required_env("CAREMATCH_TEST_PG_BIN");
    const std::string url = test::db_url();
    std::string dump;
    for (const auto& schema : {identity_schema,
                               orders_schema,
                               providers_schema,
                               nursery_schema,
                               matching_schema,
                               ratings_schema,
                               complaints_schema,
                               realtime_schema,
                               supervision_schema}) {
        dump += output_of(pg_bin + "/pg_dump --no-owner -n '" + schema + "' '" + url + "'");
    }
    ASSERT_NE(dump.find(identity_schema + ".users"), std::string::npos) << "pg_dump gave no dump";
    const std::string pg_log = file_text(test::required_env("CAREMATCH_TEST_PG_LOG"));
    std::string streams;
    const std::string redis = test::required_env("CAREMATCH_TEST_REDIS_URL");
    for (const auto& stream : {"carematch:{identity}:" + identity_schema,
                               "carematch:{region:" + std::to_string(region.community / 1000) + "}:orders",
                               ratings_stream,
                               complaints_stream}) {
        streams += output_of("redis-cli -u '" + redis + "' --no-raw XRANGE '" + stream + "' - +");
    }
    ASSERT_NE(streams.find("recipient.saved"), std::string::npos) << "the streams could not be read";
    EXPECT_EQ(stop_flow(), 0);
    const std::string process_log = log_text();
    ASSERT_NE(process_log.find("/v1/recipients"), std::string::npos) << "the process's log was not read";

    const std::vector<std::pair<const char*, std::string>> needles{{"family phone", family_phone},
                                                                   {"family display name", family_name},
                                                                   {"elder name", elder_name},
                                                                   {"address", address},
                                                                   {"emergency contact", contact_name},
                                                                   {"emergency phone", contact_phone},
                                                                   {"health notes", health},
                                                                   {"order notes", notes},
                                                                   {"child name", child_name},
                                                                   {"pickup name", pickup_name},
                                                                   {"pickup phone", pickup_phone},
                                                                   {"worker phone", worker_phone},
                                                                   {"worker display name", worker_display},
                                                                   {"worker name", worker_name},
                                                                   {"licence number", licence},
                                                                   {"staff phone", staff_phone},
                                                                   {"staff name", staff_name}};
    const std::vector<std::pair<const char*, const std::string*>> places{{"pg_dump", &dump},
                                                                         {"PostgreSQL's log", &pg_log},
                                                                         {"the process's log", &process_log},
                                                                         {"the streams", &streams}};
    for (const auto& [what, value] : needles) {
        for (const auto& [where, text] : places) {
            EXPECT_EQ(text->find(value), std::string::npos)
                << what << " (" << value << ") in plain text in " << where;
        }
    }
}

}  // namespace
}  // namespace carematch
