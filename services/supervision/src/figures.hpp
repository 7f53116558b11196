// The figures of a set of communities over a span of local days, as JSON and CSV, and the provider watchlist.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace carematch::supervision {

struct span {
    std::vector<std::int64_t> communities;
    std::string from;  // YYYY-MM-DD, local, inclusive
    std::string to;    // YYYY-MM-DD, local, inclusive
    int utc_offset_minutes = 480;
};

/// {"from", "to", "total": {orders, ratings, complaints}, "days": [{"day", orders, ratings, complaints}]}.
boost::json::object figures(pqxx::work& tx, const span& s);

/// One CSV row per day of `figures`.
std::string figures_csv(const boost::json::object& figures);

/// Organisations seen in these communities (reviews, tickets, workers) scored under `below`, complained about
/// in the last 30 days, suspended, with workers suspended, or with credentials expired or expiring within 30
/// local days.
boost::json::array watchlist(pqxx::work& tx,
                             const std::vector<std::int64_t>& communities,
                             double below,
                             int utc_offset_minutes);

}  // namespace carematch::supervision
