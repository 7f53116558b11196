// The dependencies identity's handlers share, owned by the app.
#pragma once

#include "app.hpp"

namespace carematch::identity {

struct context {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    const core::clock& clock;
    db::pool pool;
    redis::client redis;
    db::outbox_relay relay;
    auth::password_hasher hasher;
    auth::token_verifier verifier;
    std::unique_ptr<auth::token_issuer> issuer;  // set in app::start once the key is parsed
    std::unique_ptr<auth::sealer> sealer;
    std::string dummy_hash;  // verified against for unknown accounts, so timing does not tell them apart
};

}  // namespace carematch::identity
