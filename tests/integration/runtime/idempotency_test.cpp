// Idempotency keys against the real PostgreSQL: a retry that takes over an abandoned key, a late first
// request that can no longer write, and a failed attempt that gives its key back.
#include "support/run_coro.hpp"

#include <carematch/db/migrate.hpp>
#include <carematch/runtime/idempotency.hpp>

#include <gtest/gtest.h>

namespace carematch::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class idempotency_test : public ::testing::Test {
  protected:
    idempotency_test() {
        db::migrate(test::db_url(),
                    schema,
                    {{1,
                      "init",
                      "CREATE TABLE idempotency_keys (caller_id text NOT NULL, key text NOT NULL,"
                      " request_hash text NOT NULL, state text NOT NULL, token uuid, response_status integer,"
                      " response_body text, created_at timestamptz NOT NULL DEFAULT now(),"
                      " PRIMARY KEY (caller_id, key));"
                      "CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL);"}});
    }
    ~idempotency_test() override {
        pqxx::connection c(test::db_url());
        pqxx::work tx(c);
        tx.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        tx.commit();
    }

    static http::request place(const std::string& key, const std::string& body = R"({"kind":"bath"})") {
        http::request r;
        r.method = "POST";
        r.path = "/v1/orders";
        r.body = body;
        r.headers.emplace_back("idempotency-key", key);
        return r;
    }
    idempotent_start start(const http::request& r, core::clock::time_point at) {
        return test::run_coro(io, start_idempotent(pool, r, "family-1", at));
    }
    // The work a request does once it owns its key: one order row and the answer, in one transaction.
    void finish(const idempotency_claim& claim, const std::string& note) {
        test::run_coro(io, pool.transact([&](pqxx::work& tx) {
            tx.exec_params("INSERT INTO orders (note) VALUES ($1)", note);
            finish_idempotent(tx, claim, http::json_text_response(201, R"({"note":")" + note + "\"}"));
        }));
    }
    long long orders() {
        return test::run_coro(io, pool.transact([](pqxx::work& tx) {
            return tx.exec("SELECT count(*) FROM orders")[0][0].as<long long>();
        }));
    }

    std::string schema = test::unique_schema("idem");
    asio::io_context io;
    db::pool pool{core::db_settings{test::db_url(), 2, 5000ms, schema}};
    core::clock::time_point t0 = std::chrono::system_clock::now();
};

TEST_F(idempotency_test, a_first_request_held_past_the_reclaim_window_cannot_overwrite_its_retry) {
    auto first = start(place("k1"), t0);
    ASSERT_FALSE(first.answer);
    // While the first runs, the same request is told so.
    auto early = start(place("k1"), t0 + 30s);
    ASSERT_TRUE(early.answer);
    EXPECT_EQ(early.answer->status, 409);

    // Past the window the retry takes the key over with a token of its own, and finishes.
    auto retry = start(place("k1"), t0 + reclaim_after + 1s);
    ASSERT_FALSE(retry.answer);
    EXPECT_NE(retry.claim.token, first.claim.token);
    finish(retry.claim, "retry");

    // The first request's late finish fails, and its transaction (with its order) rolls back.
    EXPECT_THROW(finish(first.claim, "first"), core::unavailable_error);
    EXPECT_EQ(orders(), 1);

    auto replay = start(place("k1"), t0 + reclaim_after + 2s);
    ASSERT_TRUE(replay.answer);
    EXPECT_EQ(replay.answer->status, 201);
    EXPECT_EQ(replay.answer->body, R"({"note":"retry"})");
}

TEST_F(idempotency_test, a_key_is_not_reclaimed_by_another_body_nor_before_the_window) {
    auto first = start(place("k2"), t0);
    ASSERT_FALSE(first.answer);
    auto other = start(place("k2", R"({"kind":"meal"})"), t0 + reclaim_after + 1s);
    ASSERT_TRUE(other.answer);
    EXPECT_EQ(other.answer->status, 422);
    auto inside = start(place("k2"), t0 + reclaim_after - 1s);
    ASSERT_TRUE(inside.answer);
    EXPECT_EQ(inside.answer->status, 409);
    finish(first.claim, "first");
    EXPECT_EQ(orders(), 1);
}

TEST_F(idempotency_test, a_failed_attempt_releases_its_key_so_the_retry_runs_at_once) {
    std::function<asio::awaitable<http::response>(const idempotency_claim&)> failing =
        [](const idempotency_claim&) -> asio::awaitable<http::response> {
        throw core::unavailable_error("identity unavailable");
        co_return http::response{};
    };
    EXPECT_THROW(test::run_coro(io, idempotent(pool, place("k3"), "family-1", t0, std::move(failing))),
                 core::unavailable_error);
    int runs = 0;
    std::function<asio::awaitable<http::response>(const idempotency_claim&)> working =
        [&](const idempotency_claim& claim) -> asio::awaitable<http::response> {
        ++runs;
        co_await pool.transact(
            [&](pqxx::work& tx) { finish_idempotent(tx, claim, http::json_text_response(201, "{}")); });
        co_return http::json_text_response(201, "{}");
    };
    auto answer = test::run_coro(io, idempotent(pool, place("k3"), "family-1", t0 + 1s, std::move(working)));
    EXPECT_EQ(runs, 1);
    EXPECT_EQ(answer.status, 201);
    EXPECT_FALSE(answer.header("idempotent-replayed"));
}

TEST_F(idempotency_test, no_key_is_400) {
    http::request r = place("");
    r.headers.clear();
    auto s = start(r, t0);
    ASSERT_TRUE(s.answer);
    EXPECT_EQ(s.answer->status, 400);
}

}  // namespace
}  // namespace carematch::runtime
