// The nursery's rules: age in months, bands and places, day requests, prices, the notice fee.
#include "nursery/src/logic.hpp"

#include <gtest/gtest.h>

namespace carematch::nursery {
namespace {

day d(const char* text) {
    return *parse_day(text);
}

TEST(nursery_logic, age_in_months_counts_whole_months) {
    EXPECT_EQ(age_in_months(d("2024-03-15"), d("2026-03-14")), 23);
    EXPECT_EQ(age_in_months(d("2024-03-15"), d("2026-03-15")), 24);
    EXPECT_EQ(age_in_months(d("2024-01-31"), d("2024-02-29")), 0);
    EXPECT_EQ(age_in_months(d("2024-01-31"), d("2024-03-31")), 2);
}

TEST(nursery_logic, places_are_caregivers_times_ratio_within_the_licence) {
    EXPECT_EQ(class_places(2, *find_band("6-12"), 100), 6);
    EXPECT_EQ(class_places(2, *find_band("12-24"), 100), 10);
    EXPECT_EQ(class_places(15, *find_band("24-36"), 100), 100);  // 105, capped
    EXPECT_EQ(class_places(2, *find_band("12-24"), 5), 5);
    EXPECT_FALSE(find_band("0-6"));
    EXPECT_EQ(affordable_places(100, 30), 30);
    EXPECT_EQ(affordable_places(7, 50), 3);
}

TEST(nursery_logic, day_requests_are_lists_or_ranges_of_real_dates) {
    auto list = expand_days({"2026-12-03", "2026-12-01", "2026-12-03"}, std::nullopt, std::nullopt);
    ASSERT_TRUE(list.error.empty());
    ASSERT_EQ(list.days.size(), 2u);
    EXPECT_EQ(format_day(list.days.front()), "2026-12-01");
    auto range = expand_days({}, std::string("2026-12-30"), std::string("2027-01-02"));
    EXPECT_EQ(range.days.size(), 4u);
    EXPECT_FALSE(expand_days({"2027-02-29"}, std::nullopt, std::nullopt).error.empty());
    EXPECT_FALSE(expand_days({"2026-1-1"}, std::nullopt, std::nullopt).error.empty());
    EXPECT_FALSE(expand_days({}, std::string("2026-12-05"), std::string("2026-12-01")).error.empty());
    EXPECT_FALSE(expand_days({}, std::string("2026-12-01"), std::string("2027-02-01")).error.empty());  // 63
    EXPECT_FALSE(
        expand_days({"2026-12-01"}, std::string("2026-12-01"), std::string("2026-12-02")).error.empty());
    EXPECT_FALSE(expand_days({}, std::nullopt, std::nullopt).error.empty());
}

TEST(nursery_logic, prices_and_the_notice_fee) {
    const prices p{12000, 7000, 2000};
    const core::calendar china;  // the default: UTC+8
    EXPECT_EQ(booking_price(p, "full_day", 0, 5), 60000);
    EXPECT_EQ(booking_price(p, "hourly", 3, 2), 12000);
    // First day 2026-12-10 opens 07:30 China time = 2026-12-09 23:30 UTC.
    const auto opening = std::chrono::system_clock::time_point(d("2026-12-09")) + std::chrono::hours(23) +
                         std::chrono::minutes(30);
    EXPECT_EQ(cancellation_fee(china, opening - std::chrono::hours(25), d("2026-12-10"), 450, 24, 12000), 0);
    EXPECT_EQ(cancellation_fee(china, opening - std::chrono::hours(24), d("2026-12-10"), 450, 24, 12000), 0);
    EXPECT_EQ(cancellation_fee(china, opening - std::chrono::hours(2), d("2026-12-10"), 450, 24, 12000),
              12000);
    EXPECT_FALSE(cancellation_fee(china, opening, d("2026-12-10"), 450, 24, 12000));
    EXPECT_EQ(format_day(china.day(opening)), "2026-12-10");
    EXPECT_EQ(format_day(china.day(opening - std::chrono::minutes(451))), "2026-12-09");
}

TEST(nursery_logic, minutes_of_the_day) {
    EXPECT_EQ(minutes_of_day("07:30"), 450);
    EXPECT_EQ(minutes_of_day("23:59"), 1439);
    EXPECT_FALSE(minutes_of_day("24:00"));
    EXPECT_FALSE(minutes_of_day("7:30"));
    EXPECT_FALSE(minutes_of_day("07:60"));
    EXPECT_FALSE(minutes_of_day("0a:30"));
}

TEST(nursery_logic, eligibility_for_affordable_places) {
    EXPECT_TRUE(eligible_for_affordable({"minimum_allowance"}));
    EXPECT_TRUE(eligible_for_affordable({"living_alone", "extreme_poverty"}));
    EXPECT_FALSE(eligible_for_affordable({"age_80_plus"}));
    EXPECT_FALSE(eligible_for_affordable({}));
}

}  // namespace
}  // namespace carematch::nursery
