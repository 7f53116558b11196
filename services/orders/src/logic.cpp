// The order lifecycle and money rules.
#include "logic.hpp"

#include <carematch/core/checks.hpp>

#include <algorithm>
#include <array>

namespace carematch::orders {
namespace {

constexpr std::array<std::string_view, 10> names = {"created",
                                                    "matching",
                                                    "offered",
                                                    "assigned",
                                                    "en_route",
                                                    "in_service",
                                                    "completed",
                                                    "cancelled",
                                                    "expired",
                                                    "failed"};

struct edge {
    status from;
    status to;
};

// The lifecycle. Matching moves created (→ matching) → offered → assigned (or back to matching on a decline
// or timeout); the worker moves assigned → en_route → in_service → completed; the family cancels before
// in_service; nobody found by the deadline → expired; a no-show → failed.
constexpr edge lifecycle[] = {
    {status::created, status::matching},     {status::created, status::cancelled},
    {status::created, status::expired},      {status::created, status::offered},
    {status::matching, status::offered},     {status::matching, status::cancelled},
    {status::matching, status::expired},     {status::offered, status::assigned},
    {status::offered, status::matching},     {status::offered, status::cancelled},
    {status::offered, status::expired},      {status::assigned, status::en_route},
    {status::assigned, status::cancelled},   {status::assigned, status::failed},
    {status::assigned, status::matching},    {status::en_route, status::in_service},
    {status::en_route, status::cancelled},   {status::en_route, status::failed},
    {status::in_service, status::completed}, {status::in_service, status::failed},
};

}  // namespace

std::string_view to_string(status s) noexcept {
    return names[static_cast<std::size_t>(s)];
}

std::optional<status> parse_status(std::string_view s) noexcept {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == s) {
            return static_cast<status>(i);
        }
    }
    return std::nullopt;
}

bool allowed(status from, status to) noexcept {
    return std::any_of(std::begin(lifecycle), std::end(lifecycle), [&](const edge& e) {
        return e.from == from && e.to == to;
    });
}

std::vector<status> sources_of(status to) {
    std::vector<status> out;
    for (const edge& e : lifecycle) {
        if (e.to == to) {
            out.push_back(e.from);
        }
    }
    return out;
}

bool terminal(status s) noexcept {
    return s == status::completed || s == status::cancelled || s == status::expired || s == status::failed;
}

std::int64_t cancellation_fee(status s, std::int64_t family_fen) noexcept {
    if (s == status::assigned || s == status::en_route) {
        return family_fen / 5;
    }
    return 0;
}

int crew_for(std::string_view kind, int ability_level, int from_level) noexcept {
    return from_level > 0 && kind == "bath" && ability_level >= from_level ? 2 : 1;
}

quote make_quote(std::int64_t price_fen,
                 const std::vector<std::string>& categories,
                 int age_years,
                 const subsidy_rules& rules) {
    quote q;
    q.price_fen = price_fen;
    auto consider = [&](bool applies, int percent, const char* rule) {
        if (applies && percent > q.subsidy_percent) {
            q.subsidy_percent = std::min(percent, 100);
            q.rule = rule;
        }
    };
    auto has = [&](std::string_view c) {
        return std::find(categories.begin(), categories.end(), c) != categories.end();
    };
    consider(has("extreme_poverty"), rules.extreme_poverty, "extreme_poverty");
    consider(has("minimum_allowance"), rules.minimum_allowance, "minimum_allowance");
    consider(has("special_family"), rules.special_family, "special_family");
    consider(has("age_80_plus") || age_years >= 80, rules.age_80_plus, "age_80_plus");
    consider(has("living_alone"), rules.living_alone, "living_alone");
    q.subsidy_fen = price_fen * q.subsidy_percent / 100;
    q.family_fen = price_fen - q.subsidy_fen;
    return q;
}

int age_on(std::string_view birth_date, std::chrono::sys_days today) {
    const auto born = core::parse_date(birth_date);
    if (!born) {
        return 0;
    }
    const std::chrono::year_month_day on(today);
    int age = static_cast<int>(on.year()) - static_cast<int>(born->year());
    if (std::pair{on.month(), on.day()} < std::pair{born->month(), born->day()}) {
        --age;
    }
    return age;
}

}  // namespace carematch::orders
