// providers' request bodies: described structs, parsed with unknown fields refused.
#pragma once

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::providers {

struct point_body {
    double lat = 0;
    double lon = 0;
};
BOOST_DESCRIBE_STRUCT(point_body, (), (lat, lon))

struct credential_body {
    std::string type;
    std::string number;
    std::string expires_on;
};
BOOST_DESCRIBE_STRUCT(credential_body, (), (type, number, expires_on))

struct worker_body {
    std::string name;
    std::string gender;
    std::vector<std::string> languages;
    std::vector<std::string> kinds;
    point_body home;
    double radius_km = 5;
    std::vector<credential_body> credentials;
};
BOOST_DESCRIBE_STRUCT(worker_body, (), (name, gender, languages, kinds, home, radius_km, credentials))

struct suspend_body {
    std::string reason;
    std::string until;
};
BOOST_DESCRIBE_STRUCT(suspend_body, (), (reason, until))

struct hours_body {
    std::string from;  // HH:MM
    std::string to;    // HH:MM, 24:00 ends the day
};
BOOST_DESCRIBE_STRUCT(hours_body, (), (from, to))

struct weekday_body {
    int weekday = 0;  // 1 = Monday … 7 = Sunday
    std::vector<hours_body> hours;
};
BOOST_DESCRIBE_STRUCT(weekday_body, (), (weekday, hours))

struct exception_body {
    std::string date;               // YYYY-MM-DD
    std::vector<hours_body> hours;  // empty: a day off
};
BOOST_DESCRIBE_STRUCT(exception_body, (), (date, hours))

struct availability_body {
    std::vector<weekday_body> weekly;
    std::vector<exception_body> exceptions;
};
BOOST_DESCRIBE_STRUCT(availability_body, (), (weekly, exceptions))

struct organisation_body {
    std::string kind;
    std::string name;
    std::optional<std::string> registration_number;
    std::int64_t community_id = 0;
    std::string address;
    point_body location;
};
BOOST_DESCRIBE_STRUCT(organisation_body,
                      (),
                      (kind, name, registration_number, community_id, address, location))

struct reason_body {
    std::string reason;
};
BOOST_DESCRIBE_STRUCT(reason_body, (), (reason))

struct slot_body {
    std::string slot;
    int meals = 0;
};
BOOST_DESCRIBE_STRUCT(slot_body, (), (slot, meals))

struct canteen_body {
    double delivery_radius_km = 0;
    std::vector<std::string> diet_tags;
    std::vector<slot_body> slots;
};
BOOST_DESCRIBE_STRUCT(canteen_body, (), (delivery_radius_km, diet_tags, slots))

}  // namespace carematch::providers
