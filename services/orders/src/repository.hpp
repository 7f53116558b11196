// All SQL of orders, behind functions that take the caller's transaction.
#pragma once

#include "logic.hpp"

#include <carematch/auth/sealer.hpp>
#include <carematch/core/clock.hpp>

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::orders::repo {

struct order_row {
    std::string id;
    std::string family_id;
    std::string recipient_id;
    std::int64_t community_id = 0;
    std::string kind;
    std::string sub_type;
    std::string status;
    bool asap = true;
    std::string window_start;  // ISO 8601, UTC
    std::string window_end;
    std::optional<std::string> address_sealed;  // auth::sealer::seal_text of the address; none: unknown
    std::optional<double> lat;
    std::optional<double> lon;
    std::optional<std::string> notes_sealed;  // sealed notes; none: no notes
    std::int64_t price_fen = 0;
    std::int64_t subsidy_fen = 0;
    std::int64_t family_fen = 0;
    std::int64_t cancellation_fee_fen = 0;
    std::string service_code;
    std::optional<std::string> worker_id;
    std::optional<std::string> org_id;
    int attempt = 0;
    std::string created_at;
    std::string updated_at;
    int crew = 1;                                 // workers the job takes: 2 for a bath of a frail elder
    std::optional<std::string> second_worker_id;  // seat 1 of a crew
    std::optional<std::string> second_org_id;
};

/// A new order: its row, its window as parsed (none: as soon as possible, `asap_minutes` from `now`), and who
/// placed it (its "created" history entry).
struct new_order {
    order_row row;
    std::optional<core::clock::time_point> start;
    std::optional<core::clock::time_point> end;
    int lead_minutes = 60;
    int asap_minutes = 120;
    core::clock::time_point now;
    std::string actor_id;
    std::string actor_role;
    std::string reason;
};

/// Inserts the orders and their "created" history entries in one statement (one order alone, or a group
/// commit's). Returns, in order, each order as stored, or nullopt where its window was refused: it must
/// start at least `lead_minutes` after `now`, end after it starts and within 24 hours.
std::vector<std::optional<order_row>> insert_orders(pqxx::work& tx, const std::vector<new_order>& orders);
std::optional<order_row> find_order(pqxx::work& tx, const std::string& id);

struct page_cursor {
    std::string created_at;
    std::string id;
};
std::vector<order_row> list_for_family(pqxx::work& tx,
                                       const std::string& family_id,
                                       const std::optional<std::string>& status,
                                       const std::optional<page_cursor>& after,
                                       int limit);
std::vector<order_row> list_for_community(pqxx::work& tx,
                                          std::int64_t community_id,
                                          const std::optional<page_cursor>& after,
                                          int limit);

/// Orders of a street (community ids street × 1000 …) still waiting for a worker (created, matching,
/// offered), by id after `after`: matching's reconciler pages through them.
std::vector<order_row> list_waiting(pqxx::work& tx,
                                    std::int64_t street,
                                    const std::optional<std::string>& after,
                                    int limit);

struct history_row {
    std::string from_status;
    std::string to_status;
    std::string actor_id;
    std::string actor_role;
    std::string reason;
    std::string at;
};
std::vector<history_row> history(pqxx::work& tx, const std::string& order_id);
/// One row of the order's history; `from` nullopt: the state its last row left it in (none for a new order).
void add_history(pqxx::work& tx,
                 const std::string& order_id,
                 const std::optional<std::string>& from,
                 const std::string& to,
                 const std::string& actor_id,
                 const std::string& actor_role,
                 const std::string& reason);

/// Moves the order to `to` only from one of `from` (and, when given, only at fencing token `attempt`), in one
/// conditional UPDATE. Sets worker/org when given, the cancellation fee, and bumps `attempt` on offers and on
/// every transition out of `offered` (so one offer has one outcome).
/// Returns the updated row, or nullopt when the order was not in an allowed state (or the token moved).
struct transition_change {
    std::optional<std::string> worker_id;
    std::optional<std::string> org_id;
    std::optional<std::string> second_worker_id;
    std::optional<std::string> second_org_id;
    std::int64_t cancellation_fee_fen = -1;  // -1: unchanged
    bool bump_attempt = false;
    bool clear_worker = false;
};
std::optional<order_row> transition(pqxx::work& tx,
                                    const std::string& id,
                                    const std::vector<status>& from,
                                    status to,
                                    std::optional<int> attempt,
                                    const transition_change& change);

/// Seals the addresses and notes that rows written before migration 007 hold in plain text (orders and the
/// recipient facts seen), then validates the check that none is left. Returns how many rows it sealed.
int seal_plain_personal_data(pqxx::work& tx, const auth::sealer& s);

}  // namespace carematch::orders::repo
