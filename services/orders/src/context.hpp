// The dependencies orders' handlers share: the runtime's, its config and the catalog.
#pragma once

#include <carematch/orders/app.hpp>
#include <carematch/runtime/deps.hpp>

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace carematch::orders {

struct catalog_item {
    std::string kind;
    std::string sub_type;
    std::string name;
    std::int64_t price_fen = 0;
    int duration_min = 60;
    int lead_min = 60;
    std::vector<std::string> credentials;
    std::optional<std::pair<int, int>> hours;  // local minutes of the day it is served (meal slots)
};

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    std::vector<catalog_item> catalog;

    const catalog_item* find(std::string_view kind, std::string_view sub_type) const;
};

}  // namespace carematch::orders
