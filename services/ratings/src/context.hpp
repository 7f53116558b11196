// The dependencies ratings' handlers share: the runtime's, its config and the streets it reads.
#pragma once

#include <carematch/ratings/app.hpp>
#include <carematch/runtime/deps.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace carematch::ratings {

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    std::vector<std::int64_t> streets;
};

}  // namespace carematch::ratings
