// Idempotency keys: claim with INSERT … ON CONFLICT and a fencing token, replay the stored answer, reclaim
// abandoned keys, release on failure.
#include <carematch/core/error.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/runtime/idempotency.hpp>

#include <exception>
#include <map>

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
constexpr const char* sql_claim_fresh =
    "INSERT INTO idempotency_keys (caller_id, key, request_hash, state, token, created_at)"
    " SELECT c, k, h, 'in_progress', t, to_timestamp($5::float8)"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[]) AS v(c, k, h, t)"
    " ON CONFLICT (caller_id, key) DO NOTHING RETURNING token::text";
constexpr const char* sql_keys =
    "SELECT k.caller_id, k.key, request_hash, state, coalesce(response_status, 0), coalesce(response_body, "
    "'')"
    " FROM idempotency_keys AS k JOIN unnest($1::text[], $2::text[]) AS v(c, k) ON k.caller_id = v.c"
    " AND k.key = v.k";
constexpr const char* sql_finish =
    "UPDATE idempotency_keys AS k SET state = 'done', response_status = v.s, response_body = v.b"
    " FROM unnest($1::text[], $2::text[], $3::uuid[], $4::int[], $5::text[]) AS v(c, k, t, s, b)"
    " WHERE k.caller_id = v.c AND k.key = v.k AND k.token = v.t AND k.state = 'in_progress'";

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

// A key's row from column `at` on: request_hash, state, response_status, response_body (opened when it was
// stored sealed; answers stored before sealing are JSON, which base64 never begins like).
stored_key stored_key_of(const pqxx::row& r, pqxx::row::size_type at, const auth::sealer* sealer) {
    stored_key k;
    k.request_hash = r[at].as<std::string>();
    k.state = r[at + 1].as<std::string>();
    k.response_status = r[at + 2].as<int>();
    k.response_body = r[at + 3].as<std::string>();
    if (sealer != nullptr && !k.response_body.empty() && k.response_body.front() != '{' &&
        k.response_body.front() != '[') {
        k.response_body = sealer->open_text(k.response_body);
    }
    return k;
}

// Claims the key in `tx`, or reads what it holds (stored_key_of).
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
        k = stored_key_of(r[0], 0, sealer);
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

std::vector<idempotent_start> claim_fresh_idempotent(pqxx::work& tx,
                                                     const std::vector<idempotent_request>& requests,
                                                     core::clock::time_point now,
                                                     const auth::sealer* sealer) {
    std::vector<idempotent_start> out(requests.size());
    std::vector<std::string> callers;
    std::vector<std::string> keys;
    std::vector<std::string> hashes;
    std::vector<std::string> tokens;
    std::vector<std::size_t> asked;  // index into requests of each row sent
    for (std::size_t i = 0; i < requests.size(); ++i) {
        std::string key = key_of(*requests[i].req);
        if (key.empty()) {
            continue;
        }
        asked.push_back(i);
        callers.push_back(requests[i].caller);
        keys.push_back(std::move(key));
        hashes.push_back(hash_of(*requests[i].req));
        tokens.push_back(core::new_uuid());
    }
    if (asked.empty()) {
        return out;
    }
    const double at = std::chrono::duration<double>(now.time_since_epoch()).count();
    std::map<std::string, std::size_t> by_token;
    for (std::size_t j = 0; j < asked.size(); ++j) {
        by_token.emplace(tokens[j], j);
    }
    for (const auto& row : tx.exec_params(sql_claim_fresh,
                                          db::text_array(callers),
                                          db::text_array(keys),
                                          db::text_array(hashes),
                                          db::text_array(tokens),
                                          at)) {
        if (auto it = by_token.find(row[0].as<std::string>()); it != by_token.end()) {
            const auto j = it->second;
            out[asked[j]].claim = idempotency_claim{callers[j], keys[j], tokens[j], sealer};
        }
    }
    // The keys used before: answered here when their first request is done (its writer committed, or the
    // claim above would have waited for it).
    std::vector<std::string> used_callers;
    std::vector<std::string> used_keys;
    std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> used;
    for (std::size_t j = 0; j < asked.size(); ++j) {
        if (out[asked[j]].claim.token.empty()) {
            used_callers.push_back(callers[j]);
            used_keys.push_back(keys[j]);
            used[{callers[j], keys[j]}].push_back(j);
        }
    }
    if (used.empty()) {
        return out;
    }
    for (const auto& row :
         tx.exec_params(sql_keys, db::text_array(used_callers), db::text_array(used_keys))) {
        auto it = used.find({row[0].as<std::string>(), row[1].as<std::string>()});
        if (it == used.end()) {
            continue;
        }
        const auto k = stored_key_of(row, 2, sealer);
        if (k.state != "done") {
            continue;  // held: answered alone (409, or a reclaim after the window)
        }
        for (const auto j : it->second) {
            out[asked[j]].answer = answer_for(*requests[asked[j]].req, k, hashes[j]);
        }
    }
    return out;
}

void finish_idempotent_all(
    pqxx::work& tx, const std::vector<std::pair<const idempotency_claim*, const http::response*>>& done) {
    if (done.empty()) {
        return;
    }
    std::vector<std::string> callers;
    std::vector<std::string> keys;
    std::vector<std::string> tokens;
    std::vector<std::int64_t> statuses;
    std::vector<std::string> bodies;
    for (const auto& [claim, r] : done) {
        callers.push_back(claim->caller);
        keys.push_back(claim->key);
        tokens.push_back(claim->token);
        statuses.push_back(r->status);
        bodies.push_back(claim->sealer != nullptr && !r->body.empty() ? claim->sealer->seal_text(r->body)
                                                                      : r->body);
    }
    auto updated = tx.exec_params(sql_finish,
                                  db::text_array(callers),
                                  db::text_array(keys),
                                  db::text_array(tokens),
                                  db::int_array(statuses),
                                  db::text_array(bodies));
    if (updated.affected_rows() != done.size()) {
        throw core::unavailable_error("the Idempotency-Key was taken over by a retry of this request");
    }
}

void finish_idempotent(pqxx::work& tx, const idempotency_claim& claim, const http::response& r) {
    finish_idempotent_all(tx, {{&claim, &r}});
}

}  // namespace carematch::runtime
