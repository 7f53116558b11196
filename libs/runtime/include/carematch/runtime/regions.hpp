// The streets of the region tree (config/regions.json): what a service that reads every street's event stream
// subscribes to.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace carematch::runtime {

/// The ids of the tree's streets, in file order. Throws core::config_error naming `key` when the file cannot
/// be read, is malformed or names no street.
std::vector<std::int64_t> read_streets(std::string_view key, const std::string& path);

/// The stream a street's order events go to (orders' and matching's outboxes).
std::string orders_stream(std::int64_t street);

/// The stream a street's nursery events go to.
std::string nursery_stream(std::int64_t street);

}  // namespace carematch::runtime
