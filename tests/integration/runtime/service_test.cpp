// runtime::service: a background task that throws is restarted with its name logged, never dropped.
#include "support/run_coro.hpp"

#include <carematch/db/migrate.hpp>
#include <carematch/runtime/deps.hpp>
#include <carematch/runtime/service.hpp>

#include <gtest/gtest.h>

namespace carematch::runtime {
namespace {

namespace asio = boost::asio;

const std::vector<db::migration>& no_migrations() {
    static const std::vector<db::migration> none;
    return none;
}

core::service_config settings(const std::string& schema) {
    core::service_config s;
    s.db.url = test::db_url();
    s.db.schema = schema;
    s.db.pool_size = 2;
    s.redis = test::redis_settings();
    return s;
}

auth::token_config keys() {
    auth::token_config t;
    t.signing_key = auth::format_signing_key(auth::generate_signing_key("test1"));
    return t;
}

class flaky_service final : public service {
  public:
    flaky_service(asio::io_context& io, const std::string& schema, int failures)
        : service("flaky",
                  std::make_unique<deps>(io, settings(schema), schema, keys(), clock_),
                  no_migrations()) {
        std::function<asio::awaitable<void>()> loop = [this, failures]() -> asio::awaitable<void> {
            if (++runs <= failures) {
                throw std::runtime_error("lost the connection");
            }
            stop();
            co_return;
        };
        add_loop("flaky loop", std::move(loop));
    }
    void add_routes(http::router&) override {}
    std::string_view openapi() const override { return "{}"; }
    int runs = 0;

  private:
    core::system_clock clock_;
};

class service_test : public ::testing::Test {
  protected:
    ~service_test() override {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }
    std::string schema = test::unique_schema("svc");
    asio::io_context io;
};

TEST_F(service_test, a_task_that_throws_is_started_again_until_it_succeeds) {
    flaky_service s(io, schema, 3);
    s.start();
    test::run_coro(io, s.run());  // returns only once every task, the relay included, has stopped
    EXPECT_EQ(s.runs, 4);
}

TEST_F(service_test, probes_answer_for_postgres_and_redis) {
    flaky_service s(io, schema, 0);
    s.start();
    auto probes = s.probes();
    ASSERT_EQ(probes.size(), 2u);
    for (auto& p : probes) {
        EXPECT_TRUE(test::run_coro(io, p.check())) << p.name;
    }
}

}  // namespace
}  // namespace carematch::runtime
