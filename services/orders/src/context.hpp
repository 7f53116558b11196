// The dependencies orders' handlers share, owned by the app.
#pragma once

#include "app.hpp"

#include <carematch/http/client.hpp>

namespace carematch::orders {

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
    std::vector<catalog_item> catalog;

    const catalog_item* find(std::string_view kind, std::string_view sub_type) const;
};

}  // namespace carematch::orders
