// The dependencies identity's handlers share: the runtime's, its config, the hasher and the sealer.
#pragma once

#include <carematch/auth/sealer.hpp>
#include <carematch/identity/app.hpp>
#include <carematch/runtime/deps.hpp>

namespace carematch::identity {

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    auth::password_hasher hasher;
    std::unique_ptr<auth::sealer> sealer;
    std::string dummy_hash;  // verified against for unknown accounts, so timing does not tell them apart
};

}  // namespace carematch::identity
