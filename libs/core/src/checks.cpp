// Input checks shared by every service.
#include <carematch/core/checks.hpp>

#include <algorithm>

namespace carematch::core {

problem invalid(const char* field, std::string detail) {
    return make_problem(errc::invalid_argument, std::move(detail), field);
}

bool valid_utf8(std::string_view s) noexcept {
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

std::size_t code_points(std::string_view s) noexcept {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool valid_phone(std::string_view s) noexcept {
    return s.size() == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view s) noexcept {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
        return std::nullopt;
    }
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
    }
    const int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    const auto m = static_cast<unsigned>((s[5] - '0') * 10 + (s[6] - '0'));
    const auto d = static_cast<unsigned>((s[8] - '0') * 10 + (s[9] - '0'));
    const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
    if (!date.ok()) {
        return std::nullopt;
    }
    return date;
}

bool in_china(double lat, double lon) noexcept {
    return lat >= 18.0 && lat <= 53.6 && lon >= 73.5 && lon <= 135.1;
}

}  // namespace carematch::core
