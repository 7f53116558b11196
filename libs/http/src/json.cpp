// Strict JSON body parsing with a depth limit.
#include <carematch/core/config.hpp>
#include <carematch/http/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

namespace carematch::http {

namespace {

// The first key that appears twice in one object of `text` (already known to be valid JSON), decoded;
// Boost 1.81 keeps the last one silently, and a body whose meaning depends on which one wins is refused
// instead.
std::optional<std::string> duplicate_key(std::string_view text) {
    std::vector<char> open;                   // '{' or '['
    std::vector<std::set<std::string>> keys;  // one per open object
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (ch == '{') {
            open.push_back('{');
            keys.emplace_back();
        } else if (ch == '[') {
            open.push_back('[');
        } else if (ch == '}' || ch == ']') {
            if (!open.empty()) {
                if (open.back() == '{') {
                    keys.pop_back();
                }
                open.pop_back();
            }
        } else if (ch == '"') {
            std::size_t j = i + 1;
            while (j < text.size() && text[j] != '"') {
                j += text[j] == '\\' ? 2 : 1;
            }
            const std::string_view token = text.substr(i, j - i + 1);
            std::size_t k = j + 1;
            while (k < text.size() &&
                   (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r')) {
                ++k;
            }
            if (k < text.size() && text[k] == ':' && !open.empty() && open.back() == '{') {
                boost::system::error_code ec;
                auto decoded = boost::json::parse(token, ec);
                const std::string key =
                    !ec && decoded.is_string() ? std::string(decoded.as_string()) : std::string(token);
                if (!keys.back().insert(key).second) {
                    return key;
                }
            }
            i = j;
        }
    }
    return std::nullopt;
}

}  // namespace

parsed<boost::json::object> parse_json_object(const request& req) {
    auto ct = req.header("content-type");
    std::string type = ct ? std::string(ct->substr(0, ct->find(';'))) : std::string();
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
    while (!type.empty() && type.back() == ' ') {
        type.pop_back();
    }
    if (type != "application/json") {
        return core::problem{
            415, "Unsupported Media Type", "the body must be application/json", "content-type"};
    }
    boost::json::parse_options opts;
    opts.max_depth = 32;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(req.body, ec, {}, opts);
    if (ec) {
        return core::problem{400, "Bad Request", "malformed JSON: " + ec.message(), "body"};
    }
    if (!v.is_object()) {
        return core::problem{400, "Bad Request", "the body must be a JSON object", "body"};
    }
    if (auto key = duplicate_key(req.body)) {
        return core::problem{400, "Bad Request", "a member appears twice in one object", key->substr(0, 64)};
    }
    return std::move(v.as_object());
}

boost::json::array read_json_array_file(std::string_view key, const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw core::config_error(std::string(key), "cannot read " + path);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto doc = boost::json::parse(ss.str(), ec);
    if (ec || !doc.is_array()) {
        throw core::config_error(std::string(key), path + " is not a JSON array");
    }
    return std::move(doc.as_array());
}

}  // namespace carematch::http

namespace carematch::core {
void throw_exception_from_error(const problem& p, const boost::source_location&) {
    throw problem_error(p);
}
}  // namespace carematch::core
