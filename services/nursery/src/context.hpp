// The dependencies nursery's handlers share, owned by the app.
#pragma once

#include "app.hpp"

#include <carematch/db/outbox.hpp>
#include <carematch/http/client.hpp>
#include <carematch/redis/client.hpp>

#include <atomic>
#include <cstdint>
#include <map>

namespace carematch::nursery {

struct context {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    const core::clock& clock;
    db::pool pool;
    redis::client redis;
    db::outbox_relay relay;
    http::client peers;
    auth::token_verifier verifier;
    std::unique_ptr<auth::token_issuer> issuer;
    std::map<std::int64_t, std::int64_t> residents;  // community → residents (region seed)
    std::atomic<bool> stopping{false};

    std::string service_token() const { return issuer->issue_service("nursery"); }
    /// Events of a street's nurseries go to that street's stream (the hash tag of its shard).
    static std::string stream(std::int64_t community_id) {
        return "carematch:{region:" + std::to_string(community_id / 1000) + "}:nursery";
    }
};

}  // namespace carematch::nursery
