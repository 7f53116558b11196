// identity's request bodies: described structs, parsed with unknown fields refused.
#pragma once

#include <boost/describe.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::identity {

// ---- request bodies ----
struct register_body {
    std::string phone;
    std::string password;
    std::optional<std::string> display_name;
};
BOOST_DESCRIBE_STRUCT(register_body, (), (phone, password, display_name))

struct provider_register_body {
    std::string phone;
    std::string password;
    std::string org_name;
};
BOOST_DESCRIBE_STRUCT(provider_register_body, (), (phone, password, org_name))

struct login_body {
    std::string phone;
    std::string password;
};
BOOST_DESCRIBE_STRUCT(login_body, (), (phone, password))

struct refresh_body {
    std::string refresh_token;
};
BOOST_DESCRIBE_STRUCT(refresh_body, (), (refresh_token))

struct password_body {
    std::string old_password;
    std::string new_password;
};
BOOST_DESCRIBE_STRUCT(password_body, (), (old_password, new_password))

struct worker_body {
    std::string phone;
    std::string password;
    std::string display_name;
};
BOOST_DESCRIBE_STRUCT(worker_body, (), (phone, password, display_name))

struct staff_body {
    std::string phone;
    std::string password;
    std::string role;
    std::optional<std::vector<std::int64_t>> communities;
    std::optional<std::vector<std::int64_t>> districts;  // district staff: every community under them
    std::optional<std::string> display_name;
};
BOOST_DESCRIBE_STRUCT(staff_body, (), (phone, password, role, communities, districts, display_name))

struct region_body {
    std::int64_t id = 0;
    std::optional<std::int64_t> parent_id;
    std::string level;
    std::string name;
    std::int64_t residents = 0;
};
BOOST_DESCRIBE_STRUCT(region_body, (), (id, parent_id, level, name, residents))

struct region_patch {
    std::optional<std::string> name;
    std::optional<std::int64_t> residents;
};
BOOST_DESCRIBE_STRUCT(region_patch, (), (name, residents))

struct geo_point {
    double lat = 0;
    double lon = 0;
};
BOOST_DESCRIBE_STRUCT(geo_point, (), (lat, lon))

struct contact {
    std::string name;
    std::string phone;
    std::string relation;
};
BOOST_DESCRIBE_STRUCT(contact, (), (name, phone, relation))

struct consent_body {
    std::string purpose;
    std::string text_version;
};
BOOST_DESCRIBE_STRUCT(consent_body, (), (purpose, text_version))

struct recipient_body {
    std::optional<std::string> kind;
    std::optional<std::string> name;
    std::optional<std::string> birth_date;
    std::optional<std::int64_t> community_id;
    std::optional<std::string> gender;
    std::optional<int> ability_level;
    std::optional<std::vector<std::string>> priority_categories;
    std::optional<std::vector<std::string>> diet;
    std::optional<std::vector<std::string>> languages;
    std::optional<std::string> gender_preference;
    std::optional<std::string> address;
    std::optional<geo_point> location;
    std::optional<std::vector<contact>> emergency_contacts;
    std::optional<std::string> health_notes;
    std::optional<std::vector<std::string>> allergies;
    std::optional<std::vector<contact>> guardians;
    std::optional<std::vector<consent_body>> consents;
};
BOOST_DESCRIBE_STRUCT(recipient_body,
                      (),
                      (kind,
                       name,
                       birth_date,
                       community_id,
                       gender,
                       ability_level,
                       priority_categories,
                       diet,
                       languages,
                       gender_preference,
                       address,
                       location,
                       emergency_contacts,
                       health_notes,
                       allergies,
                       guardians,
                       consents))

}  // namespace carematch::identity
