// An offer's life as matching drives it: each outcome (offered, accepted, declined, expired) is first claimed
// in matching's database (one claim wins), then applied in orders with the order's attempt, then recorded.
#pragma once

#include "context.hpp"
#include "store.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace carematch::matching {

double now_s(const context& c);
std::string iso(double epoch_s);

/// What orders said to a transition.
enum class told { applied, refused, unavailable };
struct orders_reply {
    told outcome = told::unavailable;
    int attempt = 0;  // the order's attempt after it
};
boost::asio::awaitable<orders_reply> tell_orders(
    context& c,
    const std::string& order_id,
    const std::string& to,
    int attempt,
    const std::string& reason,
    const std::optional<std::string>& worker = std::nullopt,
    const std::optional<std::string>& org = std::nullopt,
    const std::optional<std::string>& second_worker = std::nullopt,
    const std::optional<std::string>& second_org = std::nullopt);

/// Runs every job at once and returns when all have finished; a job that throws is logged, the others go on.
boost::asio::awaitable<void> run_all(std::vector<std::function<boost::asio::awaitable<void>()>> jobs);

/// In the transaction that claimed `o` (accepting, declining or expiring) for an outcome: settles it at once
/// when orders has nothing to learn from it, and returns its final state ("accepted", "declined", "expired").
/// That is a crew's seat accepted while another seat is not yet held (orders learns of the crew when it is
/// whole), or a seat declined or let expire while its order already went back to matching (another seat's
/// outcome moved it). Otherwise the offer is set to present the order's attempt to orders, and nullopt.
std::optional<std::string> settle_claim(pqxx::work& tx, context& c, store::offer& o, double now);

/// Counts an outcome (offers, accepts, declines, expiries).
void count_outcome(context& c, const std::string& final_state);

/// Applies the outcome a transitional offer (pending, accepting, declining, expiring) stands for in orders,
/// and records it. The offer's final state ("live", "accepted", "declined", "expired" or "void"), or nullopt
/// when orders could not be reached (the offer stays as it was; repair tries again).
boost::asio::awaitable<std::optional<std::string>> apply(context& c, const store::offer& o);

/// apply() for many offers with one call to orders and one transaction here (a street's offers of one tick).
/// Each offer's final state, or nullopt for one orders could not be told about or that someone else recorded
/// meanwhile (repair looks at it again).
boost::asio::awaitable<std::vector<std::optional<std::string>>> apply_all(
    context& c, const std::vector<store::offer>& offers);

}  // namespace carematch::matching
