// The dependencies providers' handlers share, owned by the app.
#pragma once

#include "app.hpp"

#include <atomic>

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

    std::string online_key(const std::string& kind) const { return "carematch:{presence}:online:" + kind; }
    std::string seen_key() const { return "carematch:{presence}:seen"; }
};

}  // namespace carematch::providers
