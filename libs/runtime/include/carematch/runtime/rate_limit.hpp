// Per-caller request budgets in the HTTP middleware, shared by every instance through Redis (GCRA): over
// budget, 429 problem+json with Retry-After and the RateLimit headers of the IETF draft.
#pragma once

#include <carematch/core/config.hpp>
#include <carematch/http/middleware.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace carematch::redis {
class client;
}
namespace carematch::auth {
class token_verifier;
}

namespace carematch::runtime {

struct rate_limit_stats {
    std::atomic<std::uint64_t> limited{0};    // requests answered 429
    std::atomic<std::uint64_t> fail_open{0};  // requests let through because Redis did not answer
};

/// Charges each request to its caller's budget of its class (core::rate_limits): /v1/auth/... per client
/// address (X-Real-IP when the peer is a proxy on loopback); other writes and reads per user when the request
/// carries a valid access token, else per address.
/// Probes, metrics, internal calls and service tokens are not charged. When Redis cannot be asked, the
/// request passes and `stats.fail_open` counts it: a Redis outage does not refuse every request. Keys live
/// under `prefix`.
http::middleware rate_limit(const core::rate_limits& limits,
                            redis::client& redis,
                            const auth::token_verifier& verifier,
                            rate_limit_stats& stats,
                            std::string prefix = "carematch:rl");

}  // namespace carematch::runtime
