// Idempotency keys against the real PostgreSQL: a key is claimed in the transaction that does the work, so a
// claim dies with its transaction (a crash leaves no key stuck); a finished key replays its first answer, and
// a key left "in progress" by the older two-step protocol is reclaimed after the window.
#include "support/run_coro.hpp"

#include <carematch/core/ids.hpp>
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
    // A whole write as a service does it: claim, one order row, the answer stored, in one transaction.
    http::response write(const http::request& r, core::clock::time_point at, const std::string& note) {
        return test::run_coro(io, pool.transact([&](pqxx::work& tx) {
            idempotency_claim claim;
            if (auto earlier = claim_idempotent_in(tx, r, "family-1", at, claim)) {
                return std::move(*earlier);
            }
            tx.exec_params("INSERT INTO orders (note) VALUES ($1)", note);
            auto answer = http::json_text_response(201, R"({"note":")" + note + "\"}");
            finish_idempotent(tx, claim, answer);
            return answer;
        }));
    }
    long long scalar(const std::string& sql) {
        return test::run_coro(
            io, pool.transact([&](pqxx::work& tx) { return tx.exec(sql)[0][0].as<long long>(); }));
    }

    std::string schema = test::unique_schema("idem");
    asio::io_context io;
    db::pool pool{core::db_settings{test::db_url(), 2, 5000ms, schema}};
    core::clock::time_point t0 = std::chrono::system_clock::now();
};

TEST_F(idempotency_test, a_claim_dies_with_its_transaction_so_the_retry_of_a_crashed_write_runs_at_once) {
    {
        // The first attempt claims its key and dies before its commit (its session ends, as when the process
        // is killed).
        pqxx::connection doomed(test::db_url());
        pqxx::work tx(doomed);
        tx.exec("SET LOCAL search_path TO " + tx.quote_name(schema));
        idempotency_claim claim;
        ASSERT_FALSE(claim_idempotent_in(tx, place("k1"), "family-1", t0, claim));
        tx.exec_params("INSERT INTO orders (note) VALUES ('first')");
        pqxx::connection other(test::db_url());
        pqxx::nontransaction(other).exec_params("SELECT pg_terminate_backend($1)", doomed.backendpid());
    }
    auto retry = write(place("k1"), t0 + 1s, "retry");  // no 409, no wait for a window
    EXPECT_EQ(retry.status, 201);
    EXPECT_FALSE(retry.header("idempotent-replayed"));
    EXPECT_EQ(scalar("SELECT count(*) FROM orders"), 1);
}

TEST_F(idempotency_test, a_finished_key_replays_its_first_answer_and_refuses_another_body) {
    auto first = write(place("k2"), t0, "first");
    ASSERT_EQ(first.status, 201);
    auto again = write(place("k2"), t0 + 1s, "second");
    EXPECT_EQ(again.status, 201);
    EXPECT_EQ(again.body, first.body);
    EXPECT_EQ(again.header("idempotent-replayed").value_or(""), "true");
    auto other = write(place("k2", R"({"kind":"meal"})"), t0 + 2s, "third");
    EXPECT_EQ(other.status, 422);
    EXPECT_EQ(scalar("SELECT count(*) FROM orders"), 1);
}

TEST_F(idempotency_test, a_key_left_in_progress_by_the_two_step_protocol_is_reclaimed_after_the_window) {
    test::run_coro(io, pool.transact([&](pqxx::work& tx) {
        tx.exec_params(
            "INSERT INTO idempotency_keys (caller_id, key, request_hash, state, token, created_at)"
            " VALUES ('family-1', 'k3', $1, 'in_progress', gen_random_uuid(), to_timestamp($2::float8))",
            core::sha256_hex("POST /v1/orders\n{\"kind\":\"bath\"}"),
            std::chrono::duration<double>(t0.time_since_epoch()).count());
    }));
    EXPECT_EQ(write(place("k3"), t0 + 30s, "early").status, 409);
    EXPECT_EQ(write(place("k3"), t0 + reclaim_after + 1s, "late").status, 201);
    EXPECT_EQ(scalar("SELECT count(*) FROM orders"), 1);
}

TEST_F(idempotency_test, no_key_is_400_and_writes_nothing) {
    http::request r = place("");
    r.headers.clear();
    ASSERT_TRUE(missing_idempotency_key(r));
    EXPECT_EQ(missing_idempotency_key(r)->status, 400);
    EXPECT_EQ(write(r, t0, "none").status, 400);
    EXPECT_EQ(scalar("SELECT count(*) FROM orders"), 0);
}

}  // namespace
}  // namespace carematch::runtime
