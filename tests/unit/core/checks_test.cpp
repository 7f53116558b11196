// The input checks every service shares.
#include <carematch/core/checks.hpp>

#include <gtest/gtest.h>

namespace carematch::core {
namespace {

TEST(checks, dates_are_digits_and_real_calendar_days) {
    ASSERT_TRUE(parse_date("2024-02-29"));
    EXPECT_EQ(static_cast<int>(parse_date("2024-02-29")->year()), 2024);
    EXPECT_FALSE(parse_date("2023-02-29"));
    EXPECT_FALSE(parse_date("2024-13-01"));
    EXPECT_FALSE(parse_date("2024-1-01"));
    EXPECT_FALSE(parse_date("+024-01-01"));
    EXPECT_FALSE(parse_date("2024-01-01T00"));
}

TEST(checks, text_phones_and_positions) {
    EXPECT_EQ(code_points("王秀英"), 3u);
    EXPECT_TRUE(valid_utf8("安定门"));
    EXPECT_FALSE(valid_utf8("\xE5\xAE"));
    EXPECT_TRUE(valid_phone("13912345678"));
    EXPECT_FALSE(valid_phone("12912345678"));
    EXPECT_FALSE(valid_phone("1391234567"));
    EXPECT_TRUE(in_china(39.95, 116.41));
    EXPECT_FALSE(in_china(51.5, -0.1));
    EXPECT_EQ(invalid("phone", "x").status, 422);
}

}  // namespace
}  // namespace carematch::core
