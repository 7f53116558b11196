// What supervision's handlers share: the runtime's dependencies, its config and the region tree.
#pragma once

#include <carematch/runtime/deps.hpp>
#include <carematch/supervision/app.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace carematch::supervision {

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    std::vector<std::int64_t> streets;
    std::map<std::int64_t, std::vector<std::int64_t>> communities_of;  // district → its communities
    std::map<std::int64_t, std::int64_t> residents;  // community → residents (region tree)
    std::vector<std::string> streams;                // what the consumer reads
};

namespace facts {
/// Applies one event to the read models (inside the consumer's transaction).
void apply(pqxx::work& tx, const events::event& e);
/// The same for a read's events in order, each run of order.created in one statement.
void apply_all(pqxx::work& tx, const std::vector<const events::event*>& es);
}  // namespace facts

}  // namespace carematch::supervision
