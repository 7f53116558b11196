// The input checks every service shares.
#include <carematch/core/checks.hpp>
#include <carematch/core/clock.hpp>

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

TEST(checks, timestamps_are_instants_whatever_their_offset) {
    using namespace std::chrono;
    const auto utc = parse_timestamp("2026-03-01T23:30:00Z");
    ASSERT_TRUE(utc);
    EXPECT_EQ(utc, parse_timestamp("2026-03-02T07:30:00+08:00"));
    EXPECT_EQ(utc, parse_timestamp("2026-03-01T18:30:00-05:00"));
    EXPECT_EQ(*parse_timestamp("2026-03-01T23:30:00.250Z") - *utc, milliseconds(250));
    // As text "2026-03-02T07:00:00+08:00" sorts after "2026-03-01T23:30:00Z"; as instants it is earlier.
    EXPECT_LT(*parse_timestamp("2026-03-02T07:00:00+08:00"), *utc);
    for (const char* bad : {"2026-03-01 23:30:00Z",
                            "2026-03-01T23:30:00",
                            "2026-03-01T24:00:00Z",
                            "2026-02-30T10:00:00Z",
                            "2026-03-01T23:30:00+0800",
                            "2026-03-01T23:30:00.Z",
                            "2026-03-01T23:30Z"}) {
        EXPECT_FALSE(parse_timestamp(bad)) << bad;
    }
}

TEST(checks, the_local_day_at_23_30_utc_is_the_next_day_in_china) {
    using namespace std::chrono;
    const calendar china;
    const auto t = *parse_timestamp("2026-03-01T23:30:00Z");
    EXPECT_EQ(format_date(china.day(t)), "2026-03-02");
    EXPECT_EQ(format_date(calendar(minutes(0)).day(t)), "2026-03-01");
    EXPECT_EQ(china.at(china.day(t), hours(7) + minutes(30)), t);
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
