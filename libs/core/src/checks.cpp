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

bool in_china(double lat, double lon) noexcept {
    return lat >= 18.0 && lat <= 53.6 && lon >= 73.5 && lon <= 135.1;
}

}  // namespace carematch::core
