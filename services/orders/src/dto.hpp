// orders' request bodies: described structs, parsed with unknown fields refused.
#pragma once

#include <boost/describe.hpp>
#include <boost/json/array.hpp>

#include <optional>
#include <string>

namespace carematch::orders {

struct quote_body {
    std::string recipient_id;
    std::string kind;
    std::string sub_type;
};
BOOST_DESCRIBE_STRUCT(quote_body, (), (recipient_id, kind, sub_type))

struct place_body {
    std::string recipient_id;
    std::string kind;
    std::string sub_type;
    std::optional<std::string> start;  // ISO 8601 with offset; both absent: as soon as possible
    std::optional<std::string> end;
    std::optional<std::string> notes;
    std::optional<std::string> reason;  // staff ordering for an elder: why (a phone call, a visit)
};
BOOST_DESCRIBE_STRUCT(place_body, (), (recipient_id, kind, sub_type, start, end, notes, reason))

struct cancel_body {
    std::optional<std::string> reason;
};
BOOST_DESCRIBE_STRUCT(cancel_body, (), (reason))

struct complete_body {
    std::string service_code;
};
BOOST_DESCRIBE_STRUCT(complete_body, (), (service_code))

struct check_in_body {
    double lat = 0;
    double lon = 0;
};
BOOST_DESCRIBE_STRUCT(check_in_body, (), (lat, lon))

struct internal_transition_body {
    std::string to;
    std::optional<std::string> worker_id;
    std::optional<std::string> org_id;
    std::optional<int> attempt;
    std::optional<std::string> reason;
    std::optional<std::string> second_worker_id;  // an offer to a crew: seat 1 (worker_id is seat 0)
    std::optional<std::string> second_org_id;
};
BOOST_DESCRIBE_STRUCT(internal_transition_body,
                      (),
                      (to, worker_id, org_id, attempt, reason, second_worker_id, second_org_id))

// Many transitions in one call (matching tells orders a street's offers of one tick at once): {"items": [each
// an internal_transition_body with its "order_id"]}.
struct internal_transitions_body {
    boost::json::array items;
};
BOOST_DESCRIBE_STRUCT(internal_transitions_body, (), (items))

}  // namespace carematch::orders
