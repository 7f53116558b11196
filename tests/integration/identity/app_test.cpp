// The identity service end to end: migrations into its schema, /healthz, /readyz, /metrics over a real port.
#include "identity_fixture.hpp"

#include <carematch/db/migrate.hpp>

namespace carematch::identity {
const std::vector<db::migration>& migrations();  // compiled in from services/identity/migrations
}

namespace carematch::identity {
namespace {

using test_support::identity_fixture;

TEST_F(identity_fixture, serves_health_readiness_and_metrics) {
    EXPECT_EQ(call("GET", "/healthz").status, 200);
    auto ready = call("GET", "/readyz");
    EXPECT_EQ(ready.status, 200) << ready.raw.body;
    EXPECT_EQ(ready.body.at("checks").at("postgres").at("status").as_string(), "ok");
    EXPECT_EQ(call("GET", "/v1/nothing-here").status, 404);
    auto metrics = call("GET", "/metrics");
    EXPECT_EQ(metrics.status, 200);
    const std::string& text = metrics.raw.body;
    EXPECT_NE(text.find(R"(carematch_http_requests_total{method="GET",route="/healthz",status="200"} 1)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(R"(route="unmatched",status="404"} 1)"), std::string::npos);
    EXPECT_NE(text.find("carematch_http_request_duration_seconds_bucket"), std::string::npos);
    EXPECT_NE(text.find("carematch_http_requests_in_flight 1"), std::string::npos);  // this very request
    EXPECT_NE(
        text.find("# TYPE carematch_db_pool_size gauge\ncarematch_db_pool_size{service=\"identity\"} 8\n"),
        std::string::npos)
        << text;
    EXPECT_EQ(scalar("SELECT count(*) FROM schema_migrations"), static_cast<long long>(migrations().size()));
    EXPECT_EQ(scalar("SELECT count(*) FROM regions WHERE level = 'community'"), 100);
}

class identity_without_redis : public identity_fixture {
  protected:
    identity_without_redis() : identity_fixture("redis://127.0.0.1:1") {}
};

TEST_F(identity_without_redis, readyz_is_503_when_redis_is_unreachable) {
    auto res = call("GET", "/readyz");
    EXPECT_EQ(res.status, 503);
    EXPECT_NE(res.body.at("checks").at("redis").at("status").as_string(), "ok")
        << res.raw.body;  // refused, or no answer in 1 s
    EXPECT_EQ(res.body.at("checks").at("postgres").at("status").as_string(), "ok");
}

}  // namespace
}  // namespace carematch::identity
