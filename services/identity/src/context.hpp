// The dependencies identity's handlers share: the runtime's (the sealer among them), its config, the hasher.
#pragma once

#include <carematch/identity/app.hpp>
#include <carematch/runtime/deps.hpp>

namespace carematch::identity {

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    auth::password_hasher hasher;
    std::string dummy_hash;  // verified against for unknown accounts, so timing does not tell them apart
};

}  // namespace carematch::identity
