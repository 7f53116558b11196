// Idempotency-Key for writes a client may retry (DESIGN §6), scoped per caller. The service's schema holds an
// `idempotency_keys` table (caller_id, key, request_hash, state, response_status, response_body, created_at).
#pragma once

#include <carematch/db/pool.hpp>
#include <carematch/http/message.hpp>

#include <boost/asio/awaitable.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace carematch::db {

/// What a request with an Idempotency-Key does next.
struct idempotent_start {
    /// Set when the request is answered now: 400 (no key), 422 (the key was used with another request), 409
    /// (the first request with the key is still running), or the first answer replayed byte for byte.
    std::optional<http::response> answer;
    /// Otherwise this request owns the key and must store its answer with finish_idempotent.
    std::string key;
};

/// Claims the request's Idempotency-Key for `caller` (hash of method, path and body). A key whose request
/// died without an answer may be claimed again after 60 seconds by the same request.
boost::asio::awaitable<idempotent_start> start_idempotent(pool& db,
                                                          const http::request& req,
                                                          const std::string& caller);

/// Stores the definite answer for the key, inside the transaction that made the change (or its own).
void finish_idempotent(pqxx::work& tx,
                       const std::string& caller,
                       const std::string& key,
                       const http::response& r);

}  // namespace carematch::db
