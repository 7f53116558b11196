// Input checks shared by every service.
#include <carematch/core/checks.hpp>

#include <algorithm>
#include <cstdio>

namespace carematch::core {

problem invalid(const char* field, std::string detail) {
    return make_problem(errc::invalid_argument, std::move(detail), field);
}

problem bad_query(const char* field, std::string detail) {
    return problem{400, "Bad Request", std::move(detail), field};
}

bool plain_text(std::string_view s, std::size_t max_chars) noexcept {
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if ((u < 0x20 && ch != '\n' && ch != '\t') || u == 0x7f) {
            return false;
        }
    }
    return valid_utf8(s) && code_points(s) <= max_chars;
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

std::string format_date(std::chrono::sys_days d) {
    const std::chrono::year_month_day ymd(d);
    char buf[16];
    std::snprintf(buf,
                  sizeof buf,
                  "%04d-%02u-%02u",
                  static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s) noexcept {
    if (s.size() < 20 || s.size() > 35 || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
        return std::nullopt;
    }
    const auto date = parse_date(s.substr(0, 10));
    auto digits = [&](std::size_t at) -> int {
        if (s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') {
            return -1;
        }
        return (s[at] - '0') * 10 + (s[at + 1] - '0');
    };
    const int h = digits(11);
    const int m = digits(14);
    const int sec = digits(17);
    if (!date || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60) {
        return std::nullopt;
    }
    // The clock's nanoseconds reach only to 2262: later instants would wrap around. No service plans that
    // far.
    if (static_cast<int>(date->year()) < 1900 || static_cast<int>(date->year()) > 2200) {
        return std::nullopt;
    }
    std::size_t i = 19;
    std::chrono::microseconds fraction{0};
    if (s[i] == '.') {
        std::int64_t scale = 100'000;
        ++i;
        const std::size_t first = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            fraction += std::chrono::microseconds((s[i] - '0') * scale);
            scale /= 10;
            ++i;
        }
        if (i == first || i - first > 9) {
            return std::nullopt;
        }
    }
    std::chrono::minutes offset{0};
    if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        offset = std::chrono::minutes(0);
    } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        const int oh = digits(i + 1);
        const int om = digits(i + 4);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) {
            return std::nullopt;
        }
        offset = std::chrono::minutes(oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    return std::chrono::system_clock::time_point(std::chrono::sys_days(*date)) + std::chrono::hours(h) +
           std::chrono::minutes(m) + std::chrono::seconds(sec) + fraction - offset;
}

bool in_china(double lat, double lon) noexcept {
    return lat >= 18.0 && lat <= 53.6 && lon >= 73.5 && lon <= 135.1;
}

}  // namespace carematch::core
