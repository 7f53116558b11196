// Strict JSON body parsing with a depth limit.
#include <carematch/core/config.hpp>
#include <carematch/http/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace carematch::http {

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
