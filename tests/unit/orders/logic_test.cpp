// The order lifecycle, cancellation fees and subsidies, table-driven.
#include "orders/src/logic.hpp"

#include <carematch/core/clock.hpp>

#include <gtest/gtest.h>

#include <set>

namespace carematch::orders {
namespace {

TEST(lifecycle, allows_exactly_the_documented_transitions) {
    using s = status;
    const std::set<std::pair<s, s>> expected{
        {s::created, s::matching},     {s::created, s::cancelled},  {s::created, s::expired},
        {s::created, s::offered},      {s::matching, s::offered},   {s::matching, s::cancelled},
        {s::matching, s::expired},     {s::offered, s::assigned},   {s::offered, s::matching},
        {s::offered, s::cancelled},    {s::offered, s::expired},    {s::assigned, s::en_route},
        {s::assigned, s::cancelled},   {s::assigned, s::failed},    {s::assigned, s::matching},
        {s::en_route, s::in_service},  {s::en_route, s::cancelled}, {s::en_route, s::failed},
        {s::in_service, s::completed}, {s::in_service, s::failed},
    };
    for (int a = 0; a <= static_cast<int>(s::failed); ++a) {
        for (int b = 0; b <= static_cast<int>(s::failed); ++b) {
            auto from = static_cast<s>(a);
            auto to = static_cast<s>(b);
            EXPECT_EQ(allowed(from, to), expected.contains({from, to}))
                << to_string(from) << " → " << to_string(to);
        }
    }
    for (s t : {s::completed, s::cancelled, s::expired, s::failed}) {
        EXPECT_TRUE(terminal(t));
        for (int b = 0; b <= static_cast<int>(s::failed); ++b) {
            EXPECT_FALSE(allowed(t, static_cast<s>(b)));
        }
    }
    EXPECT_FALSE(allowed(s::in_service, s::cancelled));  // too late to cancel
}

TEST(lifecycle, names_round_trip) {
    for (int a = 0; a <= static_cast<int>(status::failed); ++a) {
        EXPECT_EQ(parse_status(to_string(static_cast<status>(a))), static_cast<status>(a));
    }
    EXPECT_FALSE(parse_status("done"));
}

TEST(cancellation, is_free_until_a_worker_is_assigned) {
    EXPECT_EQ(cancellation_fee(status::created, 12000), 0);
    EXPECT_EQ(cancellation_fee(status::offered, 12000), 0);
    EXPECT_EQ(cancellation_fee(status::assigned, 12000), 2400);
    EXPECT_EQ(cancellation_fee(status::en_route, 6000), 1200);
}

TEST(crew, two_workers_bathe_an_elder_of_the_configured_level_or_worse_and_none_when_off) {
    EXPECT_EQ(crew_for("bath", 2, 2), 2);
    EXPECT_EQ(crew_for("bath", 4, 2), 2);
    EXPECT_EQ(crew_for("bath", 1, 2), 1);
    EXPECT_EQ(crew_for("bath", 3, 3), 2);
    EXPECT_EQ(crew_for("bath", 4, 0), 1);      // crews off
    EXPECT_EQ(crew_for("cleaning", 4, 2), 1);  // one worker for everything else
    EXPECT_EQ(crew_for("medical_visit", 4, 1), 1);
}

TEST(quote, subsidy_by_priority_category) {
    subsidy_rules rules;
    struct row {
        std::vector<std::string> categories;
        int age;
        int percent;
        std::int64_t family;
        const char* rule;
    };
    const row table[] = {
        {{}, 70, 0, 12000, ""},
        {{"extreme_poverty"}, 70, 100, 0, "extreme_poverty"},
        {{"minimum_allowance"}, 70, 50, 6000, "minimum_allowance"},
        {{}, 80, 30, 8400, "age_80_plus"},
        {{"age_80_plus"}, 79, 30, 8400, "age_80_plus"},
        {{"minimum_allowance", "age_80_plus"}, 85, 50, 6000, "minimum_allowance"},
        {{"living_alone"}, 60, 0, 12000, ""},
        {{"special_family", "extreme_poverty"}, 60, 100, 0, "extreme_poverty"},
    };
    for (const auto& r : table) {
        auto q = make_quote(12000, r.categories, r.age, rules);
        EXPECT_EQ(q.subsidy_percent, r.percent);
        EXPECT_EQ(q.family_fen, r.family);
        EXPECT_EQ(q.subsidy_fen + q.family_fen, 12000);
        EXPECT_EQ(q.rule, r.rule);
    }
    EXPECT_EQ(make_quote(1999, {"minimum_allowance"}, 60, rules).subsidy_fen, 999);  // rounds down, in fen
}

TEST(orders_logic, the_80_plus_subsidy_starts_on_the_local_birthday_also_at_23_30_utc) {
    using namespace std::chrono;
    const core::calendar china;
    // 23:30 UTC on 1 March is 07:30 on 2 March in China: the elder born on 2 March 1946 is 80 today.
    const auto night = system_clock::time_point(sys_days(year{2026} / March / 1)) + hours(23) + minutes(30);
    EXPECT_EQ(age_on("1946-03-02", china.day(night)), 80);
    EXPECT_EQ(age_on("1946-03-02", core::calendar(minutes(0)).day(night)), 79);  // what a UTC "today" said
    const subsidy_rules rules;
    EXPECT_EQ(make_quote(12000, {}, age_on("1946-03-02", china.day(night)), rules).subsidy_percent, 30);
    EXPECT_EQ(age_on("1946-03-03", china.day(night)), 79);
    EXPECT_EQ(age_on("not a date", china.day(night)), 0);
}

}  // namespace
}  // namespace carematch::orders
