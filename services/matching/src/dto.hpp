// matching's request bodies: described structs, parsed with unknown fields refused.
#pragma once

#include <boost/describe.hpp>

#include <string>

namespace carematch::matching {

struct decline_body {
    std::string reason;
};
BOOST_DESCRIBE_STRUCT(decline_body, (), (reason))

}  // namespace carematch::matching
