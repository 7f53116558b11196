// Input checks every service applies the same way: text, phone numbers, positions, and the 422 naming a
// field.
#pragma once

#include <carematch/core/error.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace carematch::core {

/// A problem 422 naming `field`.
problem invalid(const char* field, std::string detail);

/// A problem 400 naming query parameter `field`: it is not what the parameter's syntax allows.
problem bad_query(const char* field, std::string detail);

/// The one rule for text a person writes: well-formed UTF-8, no control characters but newline and tab, at
/// most `max_chars` characters (code points, not bytes).
bool plain_text(std::string_view s, std::size_t max_chars) noexcept;

/// Well-formed UTF-8.
bool valid_utf8(std::string_view s) noexcept;

/// Characters (UTF-8 code points) of `s`.
std::size_t code_points(std::string_view s) noexcept;

/// A mainland China mobile number: 11 digits starting 13–19.
bool valid_phone(std::string_view s) noexcept;

/// "YYYY-MM-DD" (digits only) as a real calendar date; nullopt otherwise.
std::optional<std::chrono::year_month_day> parse_date(std::string_view s) noexcept;

/// YYYY-MM-DD, the form parse_date reads.
std::string format_date(std::chrono::sys_days d);

/// An ISO 8601 / RFC 3339 instant with its zone: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM). Timestamps are
/// compared only after this, never as text (two offsets name the same instant differently). Years 1900–2200.
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s) noexcept;

/// Inside mainland China's bounding box (lat 18.0–53.6, lon 73.5–135.1).
bool in_china(double lat, double lon) noexcept;

}  // namespace carematch::core
