// orders' pure decisions: the lifecycle state machine, cancellation fees and subsidies. No I/O.
#pragma once

#include <carematch/orders/app.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carematch::orders {

enum class status {
    created,
    matching,
    offered,
    assigned,
    en_route,
    in_service,
    completed,
    cancelled,
    expired,
    failed
};

std::string_view to_string(status s) noexcept;
std::optional<status> parse_status(std::string_view s) noexcept;

/// Whether the lifecycle allows `from` → `to` (the one place that says so).
bool allowed(status from, status to) noexcept;

/// The states from which `to` may be entered.
std::vector<status> sources_of(status to);

bool terminal(status s) noexcept;

/// The fee a family pays when cancelling in `s`: nothing before a worker is assigned, 20 % of the family's
/// share once one is on the way; cancelling is refused from in_service on (allowed() says so).
std::int64_t cancellation_fee(status s, std::int64_t family_fen) noexcept;

/// Workers a job takes: two for a bath of an elder of ability level `from_level` or worse (DESIGN: 2,
/// moderate disability), one otherwise or when `from_level` is 0 (crews off).
int crew_for(std::string_view kind, int ability_level, int from_level) noexcept;

/// Subsidy percentages by priority category (config); the highest that applies counts, never above 100.

/// Whole years of age on local day `today` of someone born on `birth_date` (YYYY-MM-DD); 0 when malformed.
int age_on(std::string_view birth_date, std::chrono::sys_days today);

struct quote {
    std::int64_t price_fen = 0;
    int subsidy_percent = 0;
    std::int64_t subsidy_fen = 0;
    std::int64_t family_fen = 0;
    std::string rule;  // which category gave the subsidy, or empty
};

/// Price split for an elder with `categories`, aged `age_years`.
quote make_quote(std::int64_t price_fen,
                 const std::vector<std::string>& categories,
                 int age_years,
                 const subsidy_rules& rules);

}  // namespace carematch::orders
