// The dependencies orders' handlers share: the runtime's, its config and the catalog.
#pragma once

#include <carematch/db/group_commit.hpp>
#include <carematch/orders/app.hpp>
#include <carematch/runtime/deps.hpp>

#include <memory>
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
    // Orders placed at the same time share a transaction and its commit (handlers::place_together).
    std::unique_ptr<db::group_commit> intake;

    const catalog_item* find(std::string_view kind, std::string_view sub_type) const;
};

namespace handlers {
/// The group commit of order intake: places the orders of a group in one transaction.
void place_together(context& c, pqxx::work& tx, const std::vector<db::group_commit::entry*>& group);
}  // namespace handlers

}  // namespace carematch::orders
