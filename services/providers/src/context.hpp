// The dependencies providers' handlers share: the runtime's, its config and the credential needs per kind.
#pragma once

#include <carematch/providers/app.hpp>
#include <carematch/runtime/deps.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace carematch::providers {

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    /// kind → for each sub-type, the credentials it needs (a worker is a candidate of a kind when it holds
    /// valid credentials for at least one of its sub-types).
    std::map<std::string, std::vector<std::vector<std::string>>> kind_credentials;

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
