// nursery's request bodies: described structs, parsed with unknown fields refused.
#pragma once

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::nursery {

struct price_body {
    std::int64_t full_day_fen = 0;
    std::int64_t half_day_fen = 0;
    std::int64_t hour_fen = 0;
};
BOOST_DESCRIBE_STRUCT(price_body, (), (full_day_fen, half_day_fen, hour_fen))

struct class_body {
    std::string band;
    int caregivers = 0;
};
BOOST_DESCRIBE_STRUCT(class_body, (), (band, caregivers))

struct nursery_body {
    std::string kind;
    std::string opens;
    std::string closes;
    int licensed_places = 0;
    int affordable_percent = 0;
    price_body prices;
    std::vector<class_body> classes;
};
BOOST_DESCRIBE_STRUCT(nursery_body,
                      (),
                      (kind, opens, closes, licensed_places, affordable_percent, prices, classes))

struct pickup_body {
    std::string name;
    std::string phone;
    std::string relation;
};
BOOST_DESCRIBE_STRUCT(pickup_body, (), (name, phone, relation))

struct pickups_body {
    std::vector<pickup_body> people;
};
BOOST_DESCRIBE_STRUCT(pickups_body, (), (people))

struct booking_body {
    std::string class_id;
    std::string child_id;
    std::optional<std::vector<std::string>> dates;
    std::optional<std::string> from;
    std::optional<std::string> to;
    std::string mode;
    std::optional<int> hours;
    std::optional<bool> waitlist;
};
BOOST_DESCRIBE_STRUCT(booking_body, (), (class_id, child_id, dates, from, to, mode, hours, waitlist))

struct checkout_body {
    std::string pickup_phone;
};
BOOST_DESCRIBE_STRUCT(checkout_body, (), (pickup_phone))

}  // namespace carematch::nursery
