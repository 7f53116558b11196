// identity's pure decisions: input validation rules, no I/O.
#pragma once

#include <carematch/core/checks.hpp>
#include <carematch/core/error.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace carematch::identity {

using core::code_points;
using core::in_china;
using core::invalid;
using core::valid_phone;
using core::valid_utf8;

/// 8 to 128 characters (UTF-8 code points).
bool valid_password(std::string_view s) noexcept;

/// "YYYY-MM-DD" as a real calendar date, not after `today`.
std::optional<std::chrono::year_month_day> parse_past_date(std::string_view s,
                                                           std::chrono::year_month_day today);

/// Checks that every item of `values` is one of `allowed`, that there are at most `max_items`, and no
/// repeats.
std::optional<core::problem> check_enum_list(const std::vector<std::string>& values,
                                             std::span<const std::string_view> allowed,
                                             std::size_t max_items,
                                             const char* field);

/// Checks a free-text field's length in code points; `required` also refuses empty.
std::optional<core::problem> check_text(std::string_view value,
                                        std::size_t max_chars,
                                        bool required,
                                        const char* field);

inline constexpr std::array<std::string_view, 5> priority_categories = {
    "extreme_poverty",    // 特困
    "minimum_allowance",  // 低保
    "age_80_plus",        // 80 岁以上
    "special_family",     // 计划生育特殊家庭
    "living_alone",       // 独居
};
inline constexpr std::array<std::string_view, 5> diet_tags = {
    "low_salt", "low_sugar", "soft", "halal", "vegetarian"};
inline constexpr std::array<std::string_view, 7> language_tags = {
    "mandarin", "cantonese", "wu", "minnan", "hakka", "local_dialect", "english"};
inline constexpr std::array<std::string_view, 2> consent_purposes = {"sensitive_storage",
                                                                     "share_health_with_provider"};

}  // namespace carematch::identity
