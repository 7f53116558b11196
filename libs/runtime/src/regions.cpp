// The streets of the region tree.
#include <carematch/core/config.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/regions.hpp>

#include <boost/json.hpp>

namespace carematch::runtime {

std::vector<std::int64_t> read_streets(std::string_view key, const std::string& path) {
    const auto regions = http::read_json_array_file(key, path);
    std::vector<std::int64_t> streets;
    try {
        for (const auto& v : regions) {
            if (v.at("level").as_string() == "street") {
                streets.push_back(v.at("id").to_number<std::int64_t>());
            }
        }
    } catch (const std::exception& e) {
        throw core::config_error(std::string(key), std::string("malformed region tree: ") + e.what());
    }
    if (streets.empty()) {
        throw core::config_error(std::string(key), "names no street");
    }
    return streets;
}

std::string orders_stream(std::int64_t street) {
    return "carematch:{region:" + std::to_string(street) + "}:orders";
}

std::string nursery_stream(std::int64_t street) {
    return "carematch:{region:" + std::to_string(street) + "}:nursery";
}

}  // namespace carematch::runtime
