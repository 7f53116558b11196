// Union of the services' OpenAPI documents for a process that runs several (all-in-one).
#include <carematch/runtime/openapi.hpp>

#include <boost/json.hpp>

#include <initializer_list>
#include <stdexcept>

namespace carematch::runtime {

namespace json = boost::json;

namespace {

// Adds every member of `from` to `into`; a name already there must hold the same value.
void add_members(json::object& into, const json::object& from, const char* what) {
    for (const auto& [name, value] : from) {
        if (auto* old = into.if_contains(name); old != nullptr && *old != value) {
            throw std::invalid_argument(std::string("two API documents define ") + what + " " +
                                        std::string(name) + " differently");
        }
        into[name] = value;
    }
}

json::object& object_at(json::object& o, const char* key) {
    if (!o.contains(key) || !o.at(key).is_object()) {
        o[key] = json::object();
    }
    return o.at(key).as_object();
}

}  // namespace

std::string merge_openapi(const std::vector<std::string_view>& documents) {
    if (documents.empty()) {
        return "{}";
    }
    if (documents.size() == 1) {
        return std::string(documents.front());
    }
    json::object out = json::parse(documents.front()).as_object();
    json::array tags = out.contains("tags") ? out.at("tags").as_array() : json::array();
    // The union speaks for every service: its own title and description, naming each document's title.
    std::string titles;
    for (std::size_t i = 0; i < documents.size(); ++i) {
        const json::object doc = i == 0 ? out : json::parse(documents[i]).as_object();
        if (const auto* info = doc.if_contains("info"); info != nullptr && info->is_object()) {
            if (const auto* t = info->as_object().if_contains("title"); t != nullptr && t->is_string()) {
                titles += titles.empty() ? "" : ", ";
                titles += t->as_string();
            }
        }
        if (i == 0) {
            continue;
        }
        if (const auto* paths = doc.if_contains("paths")) {
            add_members(object_at(out, "paths"), paths->as_object(), "path");
        }
        if (const auto* comps = doc.if_contains("components")) {
            for (const char* part : {"schemas", "securitySchemes"}) {
                if (const auto* members = comps->as_object().if_contains(part)) {
                    add_members(object_at(object_at(out, "components"), part), members->as_object(), part);
                }
            }
        }
        if (const auto* more = doc.if_contains("tags")) {
            for (const auto& t : more->as_array()) {
                tags.push_back(t);
            }
        }
    }
    out["tags"] = std::move(tags);
    json::object& info = out["info"].as_object();
    info["title"] = "CareMatch API";
    info["description"] =
        "Every CareMatch service mounted in one process (all-in-one), in one document: " + titles +
        ". Each service's README (services/<name>/README.md) gives its roles and events.";
    return json::serialize(out);
}

}  // namespace carematch::runtime
