// The dependencies nursery's handlers share: the runtime's, its config and residents per community.
#pragma once

#include <carematch/nursery/app.hpp>
#include <carematch/runtime/deps.hpp>

#include <atomic>
#include <cstdint>
#include <map>

namespace carematch::nursery {

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    std::map<std::int64_t, std::int64_t> residents;  // community → residents (region seed)

    std::string service_token() const { return issuer->issue_service("nursery"); }
    /// Events of a street's nurseries go to that street's stream (the hash tag of its shard).
    static std::string stream(std::int64_t community_id) {
        return "carematch:{region:" + std::to_string(community_id / 1000) + "}:nursery";
    }
};

}  // namespace carematch::nursery
