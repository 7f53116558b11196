// JSON form of a matching instance and result (documented in libs/match/README.md).
#pragma once

#include <carematch/match/model.hpp>

#include <boost/json.hpp>

namespace carematch::match::codec {

/// Throws std::invalid_argument naming the offending member.
instance read_instance(const boost::json::value& v);
boost::json::value write_instance(const instance& in);
boost::json::value write_result(const result& r);

}  // namespace carematch::match::codec
