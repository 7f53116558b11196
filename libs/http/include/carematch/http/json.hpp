// JSON request parsing and responses on Boost.JSON; DTOs are described structs (Boost.Describe).
#pragma once

#include <carematch/core/error.hpp>
#include <carematch/http/message.hpp>

#include <boost/describe.hpp>
#include <boost/json.hpp>
#include <boost/mp11/algorithm.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace carematch::http {

/// The outcome of reading client input: a value, or the problem to answer with.
template <class T>
using parsed = boost::system::result<T, core::problem>;

/// Parses the body as JSON (Content-Type application/json, depth at most 32). Problems: 415 for another
/// content type, 400 for malformed JSON or a top-level value that is not an object.
parsed<boost::json::object> parse_json_object(const request& req);

/// The JSON array in the file at `path` (a seed or catalog named by config key `key`); throws
/// core::config_error naming `key` when the file is unreadable or is not a JSON array.
boost::json::array read_json_array_file(std::string_view key, const std::string& path);

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// The first key of `obj` that is not a described member of T, or empty.
template <class T>
std::string unknown_key(const boost::json::object& obj) {
    for (const auto& kv : obj) {
        bool known = false;
        boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
            [&](auto member) { known = known || kv.key() == member.name; });
        if (!known) {
            return std::string(kv.key());
        }
    }
    return {};
}

/// Converts the body to T with try_value_to (never throws). When `reject_unknown` is set, a key that is not
/// a member of T is a 422 naming it (protects against mass assignment); a wrong type is a 422 naming the
/// first member that fails to convert.
template <class T>
parsed<T> parse_json_body(const request& req, bool reject_unknown = true) {
    auto obj = parse_json_object(req);
    if (!obj) {
        return obj.error();
    }
    for (std::string k = unknown_key<T>(*obj); !k.empty(); k = unknown_key<T>(*obj)) {
        if (reject_unknown) {
            return core::make_problem(core::errc::invalid_argument, "unknown field", k);
        }
        obj->erase(k);  // ignored; Boost 1.81 would refuse the conversion otherwise
    }
    std::string bad_field;
    std::string missing;
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>(
        [&](auto member) {
            if (!bad_field.empty() || !missing.empty()) {
                return;
            }
            using member_type = std::remove_cvref_t<decltype(std::declval<T&>().*member.pointer)>;
            // Boost 1.81 wants every described member present: an absent optional member is null.
            if constexpr (is_optional<member_type>::value) {
                if (!obj->contains(member.name)) {
                    (*obj)[member.name] = nullptr;
                }
            } else if (!obj->contains(member.name)) {
                missing = member.name;
                return;
            }
            if (const auto* v = obj->if_contains(member.name)) {
                if (!boost::json::try_value_to<member_type>(*v)) {
                    bad_field = member.name;
                }
            }
        });
    if (!missing.empty()) {
        return core::make_problem(core::errc::invalid_argument, "a required field is missing", missing);
    }
    if (!bad_field.empty()) {
        return core::make_problem(core::errc::invalid_argument, "field has the wrong type", bad_field);
    }
    auto r = boost::json::try_value_to<T>(boost::json::value(std::move(*obj)));
    if (!r) {
        return core::make_problem(
            core::errc::invalid_argument, "a required field is missing or invalid", "body");
    }
    return std::move(*r);
}

/// A JSON response of any value convertible with value_from.
template <class T>
response json_response(int status, const T& value) {
    return json_text_response(status, boost::json::serialize(boost::json::value_from(value)));
}

}  // namespace carematch::http

namespace carematch::core {
/// Lets result<T, problem>::value() throw the problem, answered by the dispatcher.
[[noreturn]] void throw_exception_from_error(const problem& p, const boost::source_location& loc);
}  // namespace carematch::core
