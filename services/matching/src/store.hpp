// matching's SQL: open orders, street leases, offers and their outcomes, the assignment ledger, and what the
// cost weighs. Times cross this boundary as epoch seconds.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace carematch::matching::store {

struct open_order {
    std::string id;
    std::string family_id;  // who ordered it: told of its offers live (empty for orders placed before)
    std::int64_t street = 0;
    std::int64_t community_id = 0;
    std::string recipient_id;
    std::string kind;
    std::string sub_type;
    std::optional<double> lat;
    std::optional<double> lon;
    double window_start = 0;
    double window_end = 0;
    bool asap = true;
    double deadline = 0;
    int ability_level = 0;
    int priority_categories = 0;
    std::optional<std::string> gender_preference;
    int attempt = 0;
    std::string state;
    double created_at = 0;
    int crew = 1;  // workers the job takes: 2 for a bath of a frail elder, one offer and assignment per seat
};

/// From order.created: inserts the order as waiting (a repeat changes nothing but the priority facts).
void upsert_created(pqxx::work& tx, const open_order& o);
/// The same for many, in one statement (a read's worth of order.created).
void upsert_created(pqxx::work& tx, const std::vector<open_order>& orders);
/// The order left matching's hands (cancelled, expired, failed, completed): offers in flight are void and,
/// unless it was served (`completed`), its assignment stops holding the worker's time; a served one holds it
/// only until `completed_at` (epoch seconds; 0: unknown, as planned). Returns the worker of its assignment,
/// if any.
std::optional<std::string> close_order(pqxx::work& tx,
                                       const std::string& order_id,
                                       bool completed,
                                       double completed_at = 0);
std::optional<open_order> find_order(pqxx::work& tx, const std::string& order_id);
/// The same, locked until the transaction ends: the outcomes of a crew's seats are decided one at a time.
std::optional<open_order> lock_order(pqxx::work& tx, const std::string& order_id);
/// Seats of the order other than `seat` whose worker holds the job (an active assignment).
int other_seats_held(pqxx::work& tx, const std::string& order_id, int seat);
/// Waiting orders of a street, longest waiting first.
std::vector<open_order> waiting(pqxx::work& tx, std::int64_t street, int limit);
/// Waiting orders of the streets past their deadline at `now`.
std::vector<open_order> overdue(pqxx::work& tx,
                                const std::vector<std::int64_t>& streets,
                                double now,
                                int limit);
void set_state(pqxx::work& tx,
               const std::string& order_id,
               const std::string& state,
               std::optional<int> attempt);

// ---- leases ----

struct lease {
    std::int64_t street = 0;
    std::int64_t token = 0;
};
/// Heartbeats `owner`, renews its leases, releases what exceeds its fair share of `streets` among the live
/// members, and takes free or lapsed streets up to that share. Returns the streets it owns now. Lease times
/// are the database's, one clock for every process.
std::vector<lease> sync_leases(pqxx::work& tx,
                               const std::string& owner,
                               const std::vector<std::int64_t>& streets,
                               std::int64_t lease_ms);

// ---- what a tick weighs ----

struct worker_facts {
    std::map<std::string, std::vector<std::string>> excluded;            // order → workers
    std::map<std::string, std::vector<std::string>> preferred;           // recipient → workers
    std::map<std::string, int> open_offers;                              // worker → offers in flight
    std::map<std::string, std::vector<std::pair<double, double>>> busy;  // worker → held job times
    std::map<std::string, double> score;                                 // worker → rating score
    std::map<std::string, int> jobs_today;
    std::map<std::string, std::vector<std::pair<int, std::string>>> seats;  // order → (seat, worker) taken
};
/// Meals canteen `org` holds for `slot` (lunch, dinner, …) of the local day starting at `day_start` (epoch
/// s): meal orders of that slot and day with an offer of its workers in flight or an active assignment.
int meals_held(pqxx::work& tx, const std::string& org, const std::string& slot, double day_start);
/// Takes one meal of that slot and day for a new offer when fewer than `capacity` are held: serialised per
/// canteen, slot and day by a transaction lock, so that concurrent streets cannot both take the last meal.
/// Call it in the transaction that then writes the offer.
bool hold_meal(
    pqxx::work& tx, const std::string& org, const std::string& slot, double day_start, int capacity);

worker_facts facts(pqxx::work& tx,
                   const std::vector<open_order>& orders,
                   const std::vector<std::string>& workers,
                   double day_start);

// ---- offers ----

struct offer {
    std::string id;
    std::string order_id;
    std::string worker_id;
    std::string org_id;
    std::int64_t street = 0;
    std::optional<int>
        attempt;  // pending: the order's attempt it presents; after: the one the outcome presents
    std::string state;
    std::string reason;
    double travel_min = 0;
    double created_at = 0;
    double expires_at = 0;
    int seat = 0;                               // of the order's crew (0 for one worker)
    std::optional<std::string> partner_worker;  // the other seat's worker, offered or holding it
    std::optional<std::string> partner_org;
    int crew = 1;  // of its order
};

struct new_offer {
    std::string id;
    std::string order_id;
    std::string worker_id;
    std::string org_id;
    std::int64_t street = 0;
    double travel_min = 0;
    double now = 0;
    double expires_at = 0;
    int seat = 0;
};
/// Writes a pending offer and marks the order offered, in one statement that holds only while `owner` holds
/// the street's lease with `token`, the order still waits, and the worker has fewer than `max_open` offers in
/// flight. False when refused.
bool insert_offer(pqxx::transaction_base& tx,
                  const new_offer& o,
                  const std::string& owner,
                  std::int64_t token,
                  int max_open);

std::optional<offer> find_offer(pqxx::work& tx, const std::string& id);

/// Moves an offer from one of `from` to `to` (with `reason`), when it is `worker`'s if one is given and, for
/// a live offer, not yet past `now`'s expiry when `unexpired`. The offer as it now is, or nullopt.
std::optional<offer> move_offer(pqxx::work& tx,
                                const std::string& id,
                                const std::vector<std::string>& from,
                                const std::string& to,
                                const std::optional<std::string>& worker,
                                const std::optional<std::string>& reason,
                                std::optional<double> unexpired_at,
                                std::optional<int> attempt = std::nullopt);

/// Live offers of the streets past expiry at `now`, claimed as expiring.
std::vector<offer> claim_expired(pqxx::work& tx,
                                 const std::vector<std::int64_t>& streets,
                                 double now,
                                 int limit);
/// Offers in a transitional state longer than `older_than` seconds.
std::vector<offer> stuck(pqxx::work& tx, double now, double older_than, int limit);

/// Live (and in-flight) offers of a worker, or of an organisation's workers.
std::vector<std::pair<offer, open_order>> live_offers(pqxx::work& tx,
                                                      const std::optional<std::string>& worker,
                                                      const std::optional<std::string>& org);

void exclude(pqxx::work& tx,
             const std::string& order_id,
             const std::string& worker_id,
             const std::string& reason);

// ---- the assignment ledger ----

/// Holds the worker's time for the job; throws a pqxx::sql_error (exclusion violation) when it overlaps a
/// job the worker already holds. A repeat for the same order changes nothing.
void hold(pqxx::work& tx, const offer& o, double from, double to);
void release(pqxx::work& tx, const std::string& order_id);

struct job {
    std::string order_id;
    std::string worker_id;
    double from = 0;
    double to = 0;
};
std::vector<job> active_jobs(pqxx::work& tx, const std::string& org);

void add_continuity(pqxx::work& tx, const std::string& recipient, const std::string& worker);
void set_score(pqxx::work& tx, const std::string& worker, double score);

}  // namespace carematch::matching::store
