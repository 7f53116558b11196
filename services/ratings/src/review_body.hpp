// The rules of a review's body (POST /v1/ratings, PUT /v1/ratings/{id}): its members, their ranges, the
// dimensions of each kind and the fixed tags. A header of its own, so that the fuzz target reads bodies with
// the very code the handlers use.
#pragma once

#include <carematch/core/checks.hpp>
#include <carematch/core/error.hpp>
#include <carematch/core/ids.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace carematch::ratings {

using core::invalid;
namespace json = boost::json;

// The dimensions a family scores, by kind.
inline const std::vector<std::string>& dimensions_of(const std::string& kind) {
    static const std::vector<std::string> home{"punctuality", "attitude", "skill", "hygiene"};
    static const std::vector<std::string> meal{"taste", "temperature", "on_time"};
    static const std::vector<std::string> nursery{"care", "hygiene", "communication"};
    if (kind == "meal") {
        return meal;
    }
    if (kind == "nursery") {
        return nursery;
    }
    return home;
}

inline const std::set<std::string>& known_tags() {
    static const std::set<std::string> tags{"punctual",
                                            "patient",
                                            "professional",
                                            "clean",
                                            "friendly",
                                            "careful",
                                            "late",
                                            "rude",
                                            "careless",
                                            "unclean",
                                            "no_show",
                                            "overcharged",
                                            "incomplete"};
    return tags;
}

// Text a person wrote: valid UTF-8, no control characters but newline and tab, at most `max` characters.
inline bool good_text(const std::string& s, std::size_t max) {
    return core::plain_text(s, max);
}

struct body {
    std::optional<std::string> order_id;
    int level = 0;
    json::object dimensions;
    std::vector<std::string> tags;
    std::string comment;
    bool anonymous = false;
};

// A review's body; `kind` decides the dimensions. Unknown members, wrong types and values out of range are
// problems naming the member.
inline core::result<body> read_body(const json::object& o,
                                    const std::optional<std::string>& kind,
                                    bool with_order) {
    body b;
    for (const auto& [k, v] : o) {
        const std::string key(k);
        if (key == "order_id" && with_order) {
            if (!v.is_string() || !core::is_uuid(v.as_string())) {
                return core::errc::invalid_argument;
            }
            b.order_id = std::string(v.as_string());
        } else if (key == "level") {
            if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > 5) {
                return core::errc::invalid_argument;
            }
            b.level = static_cast<int>(v.as_int64());
        } else if (key == "dimensions") {
            if (!v.is_object()) {
                return core::errc::invalid_argument;
            }
            b.dimensions = v.as_object();
        } else if (key == "tags") {
            if (!v.is_array() || v.as_array().size() > 10) {
                return core::errc::invalid_argument;
            }
            for (const auto& t : v.as_array()) {
                if (!t.is_string() || !known_tags().contains(std::string(t.as_string()))) {
                    return core::errc::invalid_argument;
                }
                b.tags.emplace_back(t.as_string());
            }
        } else if (key == "comment") {
            if (!v.is_string()) {
                return core::errc::invalid_argument;
            }
            b.comment = std::string(v.as_string());
        } else if (key == "anonymous") {
            if (!v.is_bool()) {
                return core::errc::invalid_argument;
            }
            b.anonymous = v.as_bool();
        } else {
            return core::errc::invalid_argument;
        }
    }
    (void)kind;
    return b;
}

// The same checks with the member each failure names (read_body only says that one failed).
inline std::optional<core::problem> check_body(const json::object& o,
                                               const std::string& kind,
                                               bool with_order) {
    const auto& dims = dimensions_of(kind);
    for (const auto& [k, v] : o) {
        const std::string key(k);
        if (key == "order_id" && with_order) {
            if (!v.is_string() || !core::is_uuid(v.as_string())) {
                return invalid("order_id", "the id of a completed order");
            }
        } else if (key == "level") {
            if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > 5) {
                return invalid("level", "1 (非常不满意) to 5 (非常满意)");
            }
        } else if (key == "dimensions") {
            if (!v.is_object()) {
                return invalid("dimensions", "an object of scores 1 to 5");
            }
            for (const auto& [dk, dv] : v.as_object()) {
                if (std::find(dims.begin(), dims.end(), std::string(dk)) == dims.end()) {
                    std::string known;
                    for (const auto& d : dims) {
                        known += (known.empty() ? "" : ", ") + d;
                    }
                    return invalid("dimensions", "for " + kind + ": " + known);
                }
                if (!dv.is_int64() || dv.as_int64() < 1 || dv.as_int64() > 5) {
                    return invalid("dimensions", "each score is 1 to 5");
                }
            }
        } else if (key == "tags") {
            if (!v.is_array() || v.as_array().size() > 10) {
                return invalid("tags", "at most 10 tags");
            }
            std::set<std::string> seen;
            for (const auto& t : v.as_array()) {
                if (!t.is_string() || !known_tags().contains(std::string(t.as_string()))) {
                    return invalid("tags",
                                   "tags from the fixed list (punctual, patient, …, no_show, overcharged)");
                }
                if (!seen.insert(std::string(t.as_string())).second) {
                    return invalid("tags", "each tag once");
                }
            }
        } else if (key == "comment") {
            if (!v.is_string() || !good_text(std::string(v.as_string()), 500)) {
                return invalid("comment", "text of at most 500 characters, no control characters");
            }
        } else if (key == "anonymous") {
            if (!v.is_bool()) {
                return invalid("anonymous", "true or false");
            }
        } else {
            return invalid(key.substr(0, 40).c_str(), "not a member of a review");
        }
    }
    if (!o.contains("level")) {
        return invalid("level", "required: 1 (非常不满意) to 5 (非常满意)");
    }
    if (with_order && !o.contains("order_id")) {
        return invalid("order_id", "required: the id of a completed order");
    }
    return std::nullopt;
}

}  // namespace carematch::ratings
