// The all-in-one process as a user runs it: started with its config, serving every service on one port,
// and stopping cleanly on SIGTERM (idle keep-alive connections closed, exit status 0).
#include "support/run_coro.hpp"
#include "support/test_server.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace carematch {
namespace {

class all_in_one : public ::testing::Test {
  protected:
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
            {"CAREMATCH_ALL_IN_ONE_IDENTITY_REGIONS_FILE", source + "/config/regions.json"},
            {"CAREMATCH_ALL_IN_ONE_ORDERS_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_ALL_IN_ONE_PROVIDERS_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_ALL_IN_ONE_PROVIDERS_SCHEMA", providers_schema},
            {"CAREMATCH_ALL_IN_ONE_NURSERY_SCHEMA", nursery_schema},
            {"CAREMATCH_ALL_IN_ONE_NURSERY_REGIONS_FILE", source + "/config/regions.json"},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_SCHEMA", matching_schema},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_REGIONS_FILE", source + "/config/regions.json"},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_CATALOG_FILE", source + "/config/catalog.json"},
            {"CAREMATCH_ALL_IN_ONE_MATCHING_CONSUMER_GROUP", "matching-" + matching_schema},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_SCHEMA", ratings_schema},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_REGIONS_FILE", source + "/config/regions.json"},
            {"CAREMATCH_ALL_IN_ONE_RATINGS_CONSUMER_GROUP", "ratings-" + ratings_schema},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_SCHEMA", complaints_schema},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_REGIONS_FILE", source + "/config/regions.json"},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_CALENDAR_FILE", source + "/config/workdays.json"},
            {"CAREMATCH_ALL_IN_ONE_COMPLAINTS_CONSUMER_GROUP", "complaints-" + complaints_schema},
            {"CAREMATCH_AUTH_SIGNING_KEY", "e2e:" + std::string(43, 'A') + "="},
            {"CAREMATCH_IDENTITY_DATA_KEY", std::string(42, 'B') + "A="},
            {"CAREMATCH_ALL_IN_ONE_IDENTITY_DATA_KEY", std::string(42, 'B') + "A="},
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
    for (const char* svc :
         {"identity", "orders", "providers", "nursery", "matching", "ratings", "complaints"}) {
        EXPECT_NE(ready.body().find(std::string("\"") + svc + ".postgres\":\"ok\""), std::string::npos)
            << ready.body();
        EXPECT_NE(ready.body().find(std::string("\"") + svc + ".redis\":\"ok\""), std::string::npos);
        EXPECT_NE(metrics.find(std::string("carematch_db_pool_size{service=\"") + svc + "\"}"),
                  std::string::npos)
            << svc;
    }
    c.send(test::get_request("/v1/catalog"));
    auto catalog = c.read();
    EXPECT_EQ(catalog.result_int(), 200);
    EXPECT_NE(catalog.body().find("home_bath"), std::string::npos);
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
    // `c` stays open and idle: shutdown must close it rather than wait for it.
    int status = stop_and_wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(c.closed_by_peer());
}

}  // namespace
}  // namespace carematch
