// identity validation rules.
#include "logic.hpp"

#include <algorithm>
#include <set>

namespace carematch::identity {

bool valid_password(std::string_view s) noexcept {
    auto n = code_points(s);
    return valid_utf8(s) && n >= 8 && n <= 128;
}

std::optional<std::chrono::year_month_day> parse_past_date(std::string_view s,
                                                           std::chrono::year_month_day today) {
    auto date = core::parse_date(s);
    if (!date || *date > today || static_cast<int>(date->year()) < 1900) {
        return std::nullopt;
    }
    return date;
}

std::optional<core::problem> check_enum_list(const std::vector<std::string>& values,
                                             std::span<const std::string_view> allowed,
                                             std::size_t max_items,
                                             const char* field) {
    if (values.size() > max_items) {
        return invalid(field, "at most " + std::to_string(max_items) + " items");
    }
    std::set<std::string> seen;
    for (const auto& v : values) {
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
            return invalid(field, "unknown value '" + v.substr(0, 40) + "'");
        }
        if (!seen.insert(v).second) {
            return invalid(field, "repeated value '" + v + "'");
        }
    }
    return std::nullopt;
}

std::optional<core::problem> check_text(std::string_view value,
                                        std::size_t max_chars,
                                        bool required,
                                        const char* field) {
    if (!valid_utf8(value)) {
        return invalid(field, "must be UTF-8 text");
    }
    if (required && value.find_first_not_of(" \t") == std::string_view::npos) {
        return invalid(field, "must not be empty");
    }
    if (code_points(value) > max_chars) {
        return invalid(field, "at most " + std::to_string(max_chars) + " characters");
    }
    if (std::any_of(value.begin(), value.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 && c != '\n';
        })) {
        return invalid(field, "must not contain control characters");
    }
    return std::nullopt;
}

}  // namespace carematch::identity
