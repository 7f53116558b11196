// The identity skeleton end to end: migrations into its schema, /healthz, /readyz, /metrics over a real port.
#include "identity/src/app.hpp"

#include "support/run_coro.hpp"
#include "support/test_server.hpp"

#include <carematch/http/middleware.hpp>

#include <gtest/gtest.h>

namespace carematch::identity {
namespace {

class identity_app_test : public ::testing::Test {
  protected:
    ~identity_app_test() override {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }

    config make_config(core::redis_settings redis) {
        core::config_source src("", "identity", [&](const std::string& name) -> std::optional<std::string> {
            if (name == "CAREMATCH_DB_URL") {
                return test::db_url();
            }
            if (name == "CAREMATCH_REDIS_URL") {
                return "redis://" + redis.host + ":" + std::to_string(redis.port);
            }
            if (name == "CAREMATCH_IDENTITY_IDENTITY_SCHEMA") {
                return schema;
            }
            return std::nullopt;
        });
        auto c = read_config(src);
        src.reject_unknown();
        return c;
    }

    std::string schema = test::unique_schema("identity");
};

TEST_F(identity_app_test, serves_health_readiness_and_metrics) {
    boost::asio::io_context io(2);  // outlives the app and the server
    app a(io, make_config(test::redis_settings()));
    a.start();
    observability::metrics m;
    observability::add_pool_gauges(m, a.pool());
    http::router r;
    a.add_routes(r);
    observability::add_routes(r, m, a.probes());
    test::test_server srv(io, http::compose(observability::standard_chain(m), r.as_handler()));

    test::raw_connection c(srv.port());
    c.send(test::get_request("/healthz"));
    EXPECT_EQ(c.read().result_int(), 200);
    c.send(test::get_request("/readyz"));
    auto ready = c.read();
    EXPECT_EQ(ready.result_int(), 200) << ready.body();
    EXPECT_NE(ready.body().find("\"postgres\":\"ok\""), std::string::npos);
    c.send(test::get_request("/v1/nothing-here"));
    EXPECT_EQ(c.read().result_int(), 404);
    c.send(test::get_request("/metrics"));
    auto metrics = c.read();
    EXPECT_EQ(metrics.result_int(), 200);
    const std::string& text = metrics.body();
    EXPECT_NE(text.find(R"(carematch_http_requests_total{method="GET",route="/healthz",status="200"} 1)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(route="unmatched",status="404"} 1)"), std::string::npos);
    EXPECT_NE(text.find("carematch_http_request_duration_seconds_bucket"), std::string::npos);
    EXPECT_NE(text.find("carematch_http_requests_in_flight 1"), std::string::npos);  // this very request
    EXPECT_NE(text.find("carematch_db_pool_size 8"), std::string::npos);

    pqxx::connection db(test::db_url());
    pqxx::work tx(db);
    EXPECT_EQ(tx.exec("SELECT count(*) FROM " + schema + ".schema_migrations")[0][0].as<int>(),
              static_cast<int>(migrations().size()));
}

TEST_F(identity_app_test, readyz_is_503_when_redis_is_unreachable) {
    boost::asio::io_context io(2);
    app a(io, make_config(core::redis_settings{"127.0.0.1", 1}));
    a.start();
    observability::metrics m;
    http::router r;
    observability::add_routes(r, m, a.probes());
    test::test_server srv(io, r.as_handler());
    test::raw_connection c(srv.port());
    c.send(test::get_request("/readyz"));
    auto res = c.read();
    EXPECT_EQ(res.result_int(), 503);
    EXPECT_NE(res.body().find("\"redis\":\"unavailable\""), std::string::npos) << res.body();
    EXPECT_NE(res.body().find("\"postgres\":\"ok\""), std::string::npos);
}

}  // namespace
}  // namespace carematch::identity
