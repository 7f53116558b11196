// The dependencies providers' handlers share, owned by the app.
#pragma once

#include "app.hpp"

#include <atomic>
#include <cstdint>
#include <string>

namespace carematch::providers {

struct context {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    const core::clock& clock;
    db::pool pool;
    redis::client redis;
    db::outbox_relay relay;
    auth::token_verifier verifier;
    /// kind → for each sub-type, the credentials it needs (a worker is a candidate of a kind when it holds
    /// valid credentials for at least one of its sub-types).
    std::map<std::string, std::vector<std::vector<std::string>>> kind_credentials;
    std::atomic<bool> stopping{false};

    /// Presence is sharded by street (a community id / 1000): the hash tag keeps a street's keys on one
    /// Redis Cluster node, next to its orders stream.
    static std::string shard_tag(std::int64_t community_id) {
        return "carematch:{region:" + std::to_string(community_id / 1000) + "}";
    }
    static std::string online_key(std::int64_t community_id, const std::string& kind) {
        return shard_tag(community_id) + ":online:" + kind;
    }
    static std::string seen_key(std::int64_t community_id) { return shard_tag(community_id) + ":seen"; }
    static constexpr const char* events_stream = "carematch:{providers}:events";
};

}  // namespace carematch::providers
