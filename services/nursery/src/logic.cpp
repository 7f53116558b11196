// The nursery's rules.
#include "logic.hpp"

#include <carematch/core/checks.hpp>

#include <algorithm>
#include <array>
#include <cstdio>

namespace carematch::nursery {

namespace {
constexpr std::array<band, 3> bands{{{"6-12", 6, 12, 3}, {"12-24", 12, 24, 5}, {"24-36", 24, 36, 7}}};
}  // namespace

std::optional<band> find_band(std::string_view name) {
    for (const auto& b : bands) {
        if (b.name == name) {
            return b;
        }
    }
    return std::nullopt;
}

int class_places(int caregivers, const band& b, int licensed_places) {
    return std::min(caregivers * b.ratio, licensed_places);
}

int affordable_places(int places, int percent) {
    return places * percent / 100;
}

std::optional<day> parse_day(std::string_view text) {
    auto date = core::parse_date(text);
    if (!date) {
        return std::nullopt;
    }
    return day(*date);
}

std::string format_day(day d) {
    return core::format_date(d);
}

std::optional<int> minutes_of_day(std::string_view s) {
    if (s.size() != 5 || s[2] != ':') {
        return std::nullopt;
    }
    for (std::size_t i : {0u, 1u, 3u, 4u}) {
        if (s[i] < '0' || s[i] > '9') {
            return std::nullopt;
        }
    }
    const int h = (s[0] - '0') * 10 + (s[1] - '0');
    const int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59) {
        return std::nullopt;
    }
    return h * 60 + m;
}

int age_in_months(day birth, day on) {
    const std::chrono::year_month_day b(birth);
    const std::chrono::year_month_day o(on);
    int months = (static_cast<int>(o.year()) - static_cast<int>(b.year())) * 12 +
                 (static_cast<int>(static_cast<unsigned>(o.month())) -
                  static_cast<int>(static_cast<unsigned>(b.month())));
    if (static_cast<unsigned>(o.day()) < static_cast<unsigned>(b.day())) {
        --months;  // the month is not complete yet
    }
    return months;
}

day_request expand_days(const std::vector<std::string>& dates,
                        const std::optional<std::string>& from,
                        const std::optional<std::string>& to) {
    day_request r;
    if (!dates.empty() && (from || to)) {
        r.error = "give dates, or from and to, not both";
        return r;
    }
    if (dates.empty()) {
        if (!from || !to) {
            r.error = "give dates, or from and to";
            return r;
        }
        auto f = parse_day(*from);
        auto t = parse_day(*to);
        if (!f || !t || *t < *f) {
            r.error = "from and to must be dates YYYY-MM-DD, from not after to";
            return r;
        }
        if ((*t - *f).count() >= 62) {
            r.error = "at most 62 days";
            return r;
        }
        for (day d = *f; d <= *t; d += std::chrono::days(1)) {
            r.days.push_back(d);
        }
        return r;
    }
    if (dates.size() > 62) {
        r.error = "at most 62 days";
        return r;
    }
    for (const auto& s : dates) {
        auto d = parse_day(s);
        if (!d) {
            r.error = "every date must be YYYY-MM-DD";
            r.days.clear();
            return r;
        }
        r.days.push_back(*d);
    }
    std::sort(r.days.begin(), r.days.end());
    r.days.erase(std::unique(r.days.begin(), r.days.end()), r.days.end());
    return r;
}

std::int64_t day_price(const prices& p, std::string_view mode, int hours) {
    if (mode == "full_day") {
        return p.full_day_fen;
    }
    if (mode == "half_day") {
        return p.half_day_fen;
    }
    return p.hour_fen * hours;
}

std::int64_t booking_price(const prices& p, std::string_view mode, int hours, std::size_t days) {
    return day_price(p, mode, hours) * static_cast<std::int64_t>(days);
}

bool eligible_for_affordable(const std::vector<std::string>& categories) {
    return std::any_of(categories.begin(), categories.end(), [](const std::string& c) {
        return c == "extreme_poverty" || c == "minimum_allowance" || c == "special_family";
    });
}

std::optional<std::int64_t> cancellation_fee(const core::calendar& local,
                                             std::chrono::system_clock::time_point now,
                                             day first_day,
                                             int opens_minute,
                                             int notice_hours,
                                             std::int64_t one_day_fen) {
    const auto opening = local.at(first_day, std::chrono::minutes(opens_minute));
    if (now >= opening) {
        return std::nullopt;
    }
    return now + std::chrono::hours(notice_hours) <= opening ? 0 : one_day_fen;
}

}  // namespace carematch::nursery
