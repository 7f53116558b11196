// Idempotency keys: claim with INSERT … ON CONFLICT and a fencing token, replay the stored answer, reclaim
// abandoned keys, release on failure.
#include <carematch/core/error.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/runtime/idempotency.hpp>

#include <exception>

namespace carematch::runtime {
namespace {

constexpr const char* sql_claim =
    "INSERT INTO idempotency_keys AS k (caller_id, key, request_hash, state, token, created_at)"
    " VALUES ($1, $2, $3, 'in_progress', $4::uuid, to_timestamp($5::float8))"
    " ON CONFLICT (caller_id, key) DO UPDATE SET created_at = excluded.created_at, token = excluded.token"
    " WHERE k.state = 'in_progress' AND k.request_hash = excluded.request_hash"
    " AND k.created_at < excluded.created_at - make_interval(secs => $6)"
    " RETURNING 1";
constexpr const char* sql_key =
    "SELECT request_hash, state, coalesce(response_status, 0), coalesce(response_body, '')"
    " FROM idempotency_keys WHERE caller_id = $1 AND key = $2";
constexpr const char* sql_finish =
    "UPDATE idempotency_keys SET state = 'done', response_status = $4, response_body = $5"
    " WHERE caller_id = $1 AND key = $2 AND token = $3::uuid AND state = 'in_progress'";
constexpr const char* sql_release =
    "DELETE FROM idempotency_keys WHERE caller_id = $1 AND key = $2 AND token = $3::uuid"
    " AND state = 'in_progress'";

struct stored_key {
    bool claimed = false;
    std::string request_hash;
    std::string state;
    int response_status = 0;
    std::string response_body;
};

std::string key_of(const http::request& req) {
    auto header = req.header("idempotency-key");
    return header && !header->empty() && header->size() <= 100 ? std::string(*header) : std::string();
}

std::string hash_of(const http::request& req) {
    return core::sha256_hex(req.method + " " + req.path + "\n" + req.body);
}

// Claims the key in `tx`, or reads what it holds (the answer opened when it was stored sealed; answers stored
// before sealing are JSON, which base64 never begins like).
stored_key claim_or_read(pqxx::work& tx,
                         const std::string& caller,
                         const std::string& key,
                         const std::string& hash,
                         const std::string& token,
                         core::clock::time_point now,
                         const auth::sealer* sealer) {
    const double at = std::chrono::duration<double>(now.time_since_epoch()).count();
    const auto window = static_cast<double>(reclaim_after.count());
    stored_key k;
    if (!tx.exec_params(sql_claim, caller, key, hash, token, at, window).empty()) {
        k.claimed = true;
        return k;
    }
    auto r = tx.exec_params(sql_key, caller, key);
    if (!r.empty()) {
        k.request_hash = r[0][0].as<std::string>();
        k.state = r[0][1].as<std::string>();
        k.response_status = r[0][2].as<int>();
        k.response_body = r[0][3].as<std::string>();
        if (sealer != nullptr && !k.response_body.empty() && k.response_body.front() != '{' &&
            k.response_body.front() != '[') {
            k.response_body = sealer->open_text(k.response_body);
        }
    }
    return k;
}

// The answer for a key that was not claimed: 422 for another request, 409 while running, else the replay.
http::response answer_for(const http::request& req, const stored_key& s, const std::string& hash) {
    if (s.request_hash != hash) {
        return http::problem_response(req,
                                      core::errc::invalid_argument,
                                      "this Idempotency-Key was used with another request",
                                      "Idempotency-Key");
    }
    if (s.state == "in_progress") {
        return http::problem_response(req,
                                      core::errc::conflict,
                                      "the first request with this Idempotency-Key is still running",
                                      "Idempotency-Key");
    }
    http::response replay = http::json_text_response(s.response_status, s.response_body);
    if (s.response_status >= 400) {
        replay.set_header("Content-Type", "application/problem+json");
    }
    replay.set_header("Idempotent-Replayed", "true");
    return replay;
}

}  // namespace

std::optional<http::response> missing_idempotency_key(const http::request& req) {
    if (!key_of(req).empty()) {
        return std::nullopt;
    }
    return http::problem_response(req,
                                  core::problem{400,
                                                "Bad Request",
                                                "an Idempotency-Key header (1–100 characters) is required",
                                                "Idempotency-Key"});
}

std::optional<http::response> claim_idempotent_in(pqxx::work& tx,
                                                  const http::request& req,
                                                  const std::string& caller,
                                                  core::clock::time_point now,
                                                  idempotency_claim& claim,
                                                  const auth::sealer* sealer) {
    if (auto missing = missing_idempotency_key(req)) {
        return missing;
    }
    const std::string key = key_of(req);
    const std::string hash = hash_of(req);
    const std::string token = core::new_uuid();
    const auto s = claim_or_read(tx, caller, key, hash, token, now, sealer);
    if (s.claimed) {
        claim = idempotency_claim{caller, key, token, sealer};
        return std::nullopt;
    }
    return answer_for(req, s, hash);
}

boost::asio::awaitable<idempotent_start> start_idempotent(db::pool& db,
                                                          const http::request& req,
                                                          const std::string& caller,
                                                          core::clock::time_point now,
                                                          const auth::sealer* sealer) {
    idempotent_start out;
    if (auto missing = missing_idempotency_key(req)) {
        out.answer = std::move(*missing);
        co_return out;
    }
    const std::string key = key_of(req);
    const std::string hash = hash_of(req);
    const std::string token = core::new_uuid();
    std::function<stored_key(pqxx::work&)> read = [&](pqxx::work& tx) {
        return claim_or_read(tx, caller, key, hash, token, now, sealer);
    };
    auto s = co_await db.transact(std::move(read));
    if (s.claimed) {
        out.claim = idempotency_claim{caller, key, token, sealer};
        co_return out;
    }
    out.answer = answer_for(req, s, hash);
    co_return out;
}

void finish_idempotent(pqxx::work& tx, const idempotency_claim& claim, const http::response& r) {
    auto done =
        tx.exec_params(sql_finish,
                       claim.caller,
                       claim.key,
                       claim.token,
                       r.status,
                       claim.sealer != nullptr && !r.body.empty() ? claim.sealer->seal_text(r.body) : r.body);
    if (done.affected_rows() != 1) {
        throw core::unavailable_error("the Idempotency-Key was taken over by a retry of this request");
    }
}

boost::asio::awaitable<void> release_idempotent(db::pool& db, const idempotency_claim& claim) {
    co_await db.transact(
        [&](pqxx::work& tx) { tx.exec_params(sql_release, claim.caller, claim.key, claim.token); });
}

boost::asio::awaitable<http::response> idempotent(
    db::pool& db,
    const http::request& req,
    const std::string& caller,
    core::clock::time_point now,
    std::function<boost::asio::awaitable<http::response>(const idempotency_claim&)> work,
    const auth::sealer* sealer) {
    auto started = co_await start_idempotent(db, req, caller, now, sealer);
    if (started.answer) {
        co_return std::move(*started.answer);
    }
    std::exception_ptr failure;
    try {
        co_return co_await work(started.claim);
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    try {
        co_await release_idempotent(db, started.claim);
    } catch (const std::exception&) {
        // The database is gone too: the key is reclaimable after reclaim_after.
    }
    std::rethrow_exception(failure);
}

}  // namespace carematch::runtime
