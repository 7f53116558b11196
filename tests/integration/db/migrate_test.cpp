// Migrations apply once, in order, under a lock; a failing one leaves nothing behind.
#include "support/run_coro.hpp"

#include <carematch/db/migrate.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <thread>

namespace carematch::db {
namespace {

class migrate_test : public ::testing::Test {
  protected:
    ~migrate_test() override {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }
    long long scalar(const std::string& sql) {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        return tx.exec(sql)[0][0].as<long long>();
    }
    std::string schema = test::unique_schema("mig");
    // Given out of order on purpose: 2 needs 1's table.
    std::vector<migration> steps{
        {2, "seed", "INSERT INTO items (name) VALUES ('first');"},
        {1, "init", "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);"},
    };
};

TEST_F(migrate_test, applies_in_order_once_and_a_second_run_applies_none) {
    EXPECT_EQ(migrate(test::db_url(), schema, steps), 2);
    EXPECT_EQ(migrate(test::db_url(), schema, steps), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM " + schema + ".items"), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM " + schema + ".schema_migrations"), 2);
    steps.push_back({3, "more", "INSERT INTO items (name) VALUES ('second');"});
    EXPECT_EQ(migrate(test::db_url(), schema, steps), 1);
    EXPECT_EQ(scalar("SELECT count(*) FROM " + schema + ".items"), 2);
}

TEST_F(migrate_test, concurrent_starters_apply_each_migration_once) {
    std::atomic<int> applied{0};
    std::vector<std::thread> starters;
    for (int i = 0; i < 4; ++i) {
        starters.emplace_back([&] { applied += migrate(test::db_url(), schema, steps); });
    }
    for (auto& t : starters) {
        t.join();
    }
    EXPECT_EQ(applied, 2);
    EXPECT_EQ(scalar("SELECT count(*) FROM " + schema + ".items"), 1);
}

TEST_F(migrate_test, failing_migration_rolls_back_and_is_not_recorded) {
    steps.push_back({3, "broken", "INSERT INTO items (name) VALUES ('half'); SELECT * FROM no_such_table;"});
    EXPECT_THROW(migrate(test::db_url(), schema, steps), pqxx::sql_error);
    EXPECT_EQ(scalar("SELECT count(*) FROM " + schema + ".items"), 1);
    EXPECT_EQ(scalar("SELECT max(version) FROM " + schema + ".schema_migrations"), 2);
}

TEST_F(migrate_test, rejects_bad_schema_names_and_duplicate_versions) {
    EXPECT_THROW(migrate(test::db_url(), "Robert'); DROP", steps), std::invalid_argument);
    steps.push_back({1, "again", "SELECT 1;"});
    EXPECT_THROW(migrate(test::db_url(), schema, steps), std::invalid_argument);
}

}  // namespace
}  // namespace carematch::db
