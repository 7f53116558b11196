// Idempotency keys: claim with INSERT … ON CONFLICT, replay the stored answer, reclaim abandoned keys.
#include <carematch/core/error.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/db/idempotency.hpp>

namespace carematch::db {
namespace {

constexpr const char* sql_claim =
    "INSERT INTO idempotency_keys AS k (caller_id, key, request_hash, state) VALUES ($1, $2, $3, "
    "'in_progress')"
    " ON CONFLICT (caller_id, key) DO UPDATE SET created_at = now()"
    " WHERE k.state = 'in_progress' AND k.request_hash = excluded.request_hash"
    " AND k.created_at < now() - interval '60 seconds'"
    " RETURNING 1";
constexpr const char* sql_key =
    "SELECT request_hash, state, coalesce(response_status, 0), coalesce(response_body, '')"
    " FROM idempotency_keys WHERE caller_id = $1 AND key = $2";
constexpr const char* sql_finish =
    "UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4"
    " WHERE caller_id = $1 AND key = $2";

struct stored_key {
    bool claimed = false;
    std::string request_hash;
    std::string state;
    int response_status = 0;
    std::string response_body;
};

}  // namespace

boost::asio::awaitable<idempotent_start> start_idempotent(pool& db,
                                                          const http::request& req,
                                                          const std::string& caller) {
    idempotent_start out;
    auto header = req.header("idempotency-key");
    if (!header || header->empty() || header->size() > 100) {
        out.answer =
            http::problem_response(req,
                                   core::problem{400,
                                                 "Bad Request",
                                                 "an Idempotency-Key header (1–100 characters) is required",
                                                 "Idempotency-Key"});
        co_return out;
    }
    const std::string key(*header);
    const std::string hash = core::sha256_hex(req.method + " " + req.path + "\n" + req.body);
    auto s = co_await db.transact([&](pqxx::work& tx) {
        stored_key k;
        if (!tx.exec_params(sql_claim, caller, key, hash).empty()) {
            k.claimed = true;
            return k;
        }
        auto r = tx.exec_params(sql_key, caller, key);
        if (!r.empty()) {
            k.request_hash = r[0][0].as<std::string>();
            k.state = r[0][1].as<std::string>();
            k.response_status = r[0][2].as<int>();
            k.response_body = r[0][3].as<std::string>();
        }
        return k;
    });
    if (s.claimed) {
        out.key = key;
        co_return out;
    }
    if (s.request_hash != hash) {
        out.answer = http::problem_response(req,
                                            core::errc::invalid_argument,
                                            "this Idempotency-Key was used with another request",
                                            "Idempotency-Key");
    } else if (s.state == "in_progress") {
        out.answer = http::problem_response(req,
                                            core::errc::conflict,
                                            "the first request with this Idempotency-Key is still running",
                                            "Idempotency-Key");
    } else {
        http::response replay = http::json_text_response(s.response_status, s.response_body);
        if (s.response_status >= 400) {
            replay.set_header("Content-Type", "application/problem+json");
        }
        replay.set_header("Idempotent-Replayed", "true");
        out.answer = std::move(replay);
    }
    co_return out;
}

void finish_idempotent(pqxx::work& tx,
                       const std::string& caller,
                       const std::string& key,
                       const http::response& r) {
    tx.exec_params(sql_finish, caller, key, r.status, r.body);
}

}  // namespace carematch::db
