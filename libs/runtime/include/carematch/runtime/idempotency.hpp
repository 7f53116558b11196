// Idempotency-Key for writes a client may retry (DESIGN §6), scoped per caller. The service's schema holds an
// `idempotency_keys` table (caller_id, key, request_hash, state, token, response_status, response_body,
// created_at). Given a sealer (services that keep personal data), the stored answer is sealed at rest: it may
// hold an address, notes or a name.
#pragma once

#include <carematch/auth/sealer.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/message.hpp>

#include <boost/asio/awaitable.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace carematch::runtime {

/// This request's claim on its key: only the holder of `token` may store the answer.
struct idempotency_claim {
    std::string caller;
    std::string key;
    std::string token;
    const auth::sealer* sealer = nullptr;  // seals the stored answer when set
};

/// How long a key may stay "in progress" before the same request may claim it again. Keys are claimed in the
/// transaction that does the work, so a claim dies with its transaction; only rows left "in progress" by the
/// older two-step protocol wait this long. Longer than any request's deadline.
inline constexpr std::chrono::seconds reclaim_after{60};

/// 400 when the request has no usable Idempotency-Key, else nullopt: for checks before the transaction.
std::optional<http::response> missing_idempotency_key(const http::request& req);

/// Every write a client may retry claims its key here, in the transaction that makes the change (the key
/// claimed, the change made and its answer stored together: a crash before the commit leaves no claim
/// behind, so a retry runs at once instead of answering 409). Claims the request's key for `caller` into
/// `claim`. When the key was used before, returns the answer to give instead (the first answer replayed byte
/// for byte, 422 for another request, 409 while a first request still runs) and the transaction must change
/// nothing. Otherwise the caller makes its change and stores its answer with finish_idempotent in the same
/// transaction. A concurrent request with the same key waits for this transaction, then replays its answer.
std::optional<http::response> claim_idempotent_in(pqxx::work& tx,
                                                  const http::request& req,
                                                  const std::string& caller,
                                                  core::clock::time_point now,
                                                  idempotency_claim& claim,
                                                  const auth::sealer* sealer = nullptr);

/// What a request with an Idempotency-Key does next (claim_fresh_idempotent).
struct idempotent_start {
    /// Set when the request is answered now: the first answer replayed byte for byte, or 422 (the key was
    /// used with another request).
    std::optional<http::response> answer;
    /// Otherwise, with a token, this request owns the key and must store its answer with finish_idempotent.
    idempotency_claim claim;
};

/// One request of claim_fresh_idempotent: the request and its caller.
struct idempotent_request {
    const http::request* req = nullptr;
    std::string caller;
};

/// For writes that share a transaction (group commit): claims, in one statement, the keys of `requests`.
/// Returns in order, for each request, its claim (claim.token set) when the key was never used; the answer
/// when it was used and is done (the first answer replayed byte for byte, or 422 for another request);
/// neither when the request has no usable key, or its key is held by a request not done (twice among
/// `requests`, or by the two-step protocol): the caller runs those alone, through claim_idempotent_in, which
/// answers them.
std::vector<idempotent_start> claim_fresh_idempotent(pqxx::work& tx,
                                                     const std::vector<idempotent_request>& requests,
                                                     core::clock::time_point now,
                                                     const auth::sealer* sealer = nullptr);

/// finish_idempotent for several claims in one statement.
void finish_idempotent_all(
    pqxx::work& tx, const std::vector<std::pair<const idempotency_claim*, const http::response*>>& done);

/// Stores the definite answer for the claim, inside the transaction that made the change. Throws
/// core::unavailable_error (so the transaction rolls back and the client is told to retry, which replays the
/// answer) when the claim is no longer this request's: a retry took the key over.
void finish_idempotent(pqxx::work& tx, const idempotency_claim& claim, const http::response& r);

}  // namespace carematch::runtime
