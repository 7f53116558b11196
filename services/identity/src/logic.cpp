// identity validation rules.
#include "logic.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace carematch::identity {
namespace {

std::size_t code_points(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

}  // namespace

core::problem invalid(const char* field, std::string detail) {
    return core::make_problem(core::errc::invalid_argument, std::move(detail), field);
}

bool valid_phone(std::string_view s) noexcept {
    return s.size() == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_password(std::string_view s) noexcept {
    auto n = code_points(s);
    return valid_utf8(s) && n >= 8 && n <= 128;
}

std::optional<std::chrono::year_month_day> parse_past_date(std::string_view s,
                                                           std::chrono::year_month_day today) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
        return std::nullopt;
    }
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    auto num = [](std::string_view part, auto& out) {
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
        return ec == std::errc() && p == part.data() + part.size();
    };
    if (!num(s.substr(0, 4), y) || !num(s.substr(5, 2), m) || !num(s.substr(8, 2), d)) {
        return std::nullopt;
    }
    std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
    if (!date.ok() || date > today || y < 1900) {
        return std::nullopt;
    }
    return date;
}

bool in_china(double lat, double lon) noexcept {
    return lat >= 18.0 && lat <= 53.6 && lon >= 73.5 && lon <= 135.1;
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
