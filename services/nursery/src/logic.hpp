// The nursery's rules as pure functions: age bands and ratios, places, days, prices, notice.
#pragma once

#include <carematch/core/clock.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carematch::nursery {

using day = std::chrono::sys_days;

/// A class's age band: children from `min_months` (inclusive) to `max_months` (exclusive) of age.
struct band {
    std::string_view name;  // "6-12", "12-24", "24-36"
    int min_months;
    int max_months;
    int ratio;  // children per caregiver: 1:3, 1:5, 1:7
};
std::optional<band> find_band(std::string_view name);

/// Daily places of a class: caregivers × the band's ratio, never above the nursery's licensed places.
int class_places(int caregivers, const band& b, int licensed_places);
/// The places of `places` held for eligible (普惠) families.
int affordable_places(int places, int percent);

/// "YYYY-MM-DD" → day; nullopt when malformed or not a calendar date.
std::optional<day> parse_day(std::string_view text);
std::string format_day(day d);
/// "HH:MM" → minutes of the day; nullopt when malformed.
std::optional<int> minutes_of_day(std::string_view hhmm);
/// Whole months of age on `on` for a child born on `birth`.
int age_in_months(day birth, day on);

/// The days of a request: a list, or a range from..to inclusive. Sorted, distinct, 1 to 62 days; nullopt with
/// a reason otherwise.
struct day_request {
    std::vector<day> days;
    std::string error;  // set when the request is malformed
};
day_request expand_days(const std::vector<std::string>& dates,
                        const std::optional<std::string>& from,
                        const std::optional<std::string>& to);

struct prices {
    std::int64_t full_day_fen = 0;
    std::int64_t half_day_fen = 0;
    std::int64_t hour_fen = 0;
};
/// The price of a booking: per day for full and half days, per hour for hourly.
std::int64_t booking_price(const prices& p, std::string_view mode, int hours, std::size_t days);
/// One day's price in that mode (the late-cancellation fee).
std::int64_t day_price(const prices& p, std::string_view mode, int hours);

/// Priority on the waitlist and eligibility for affordable places: families in these categories come first.
bool eligible_for_affordable(const std::vector<std::string>& priority_categories);

/// Cancelling before the first booked day opens: free until `notice_hours` before the opening, one day's
/// price after that; nullopt once the first day has begun (the booking is in progress). The opening is local
/// time on `local`.
std::optional<std::int64_t> cancellation_fee(const core::calendar& local,
                                             std::chrono::system_clock::time_point now,
                                             day first_day,
                                             int opens_minute,
                                             int notice_hours,
                                             std::int64_t one_day_fen);

}  // namespace carematch::nursery
