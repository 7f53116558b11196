// The dependencies complaints' handlers share: the runtime's, its config, the streets and the working-day
// calendar.
#pragma once

#include <carematch/complaints/app.hpp>
#include <carematch/runtime/deps.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace carematch::complaints {

/// Which local days are working days: Monday to Friday, except public holidays, plus the weekend days that
/// are made working days (调休).
struct workdays {
    std::set<std::chrono::sys_days> holidays;
    std::set<std::chrono::sys_days> extra;
    bool working(std::chrono::sys_days d) const;
};

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    std::vector<std::int64_t> streets;
    workdays calendar;

    /// `from` plus `days` working days, at the same local time of day.
    core::clock::time_point add_working_days(core::clock::time_point from, int days) const;
    /// When a severity's sign-for and resolve clocks end, for a ticket filed at `at`.
    std::pair<core::clock::time_point, core::clock::time_point> dues(const std::string& severity,
                                                                     core::clock::time_point at) const;
};

}  // namespace carematch::complaints
