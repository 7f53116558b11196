// All SQL of providers, behind functions that take the caller's transaction.
#pragma once

#include <carematch/auth/sealer.hpp>
#include <carematch/core/clock.hpp>

#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace carematch::providers::repo {

struct credential_row {
    std::string type;
    std::string number_sealed;  // auth::sealer::seal_text of the number
    std::string expires_on;     // YYYY-MM-DD
};

struct worker_row {
    std::string id;
    std::string org_id;
    std::string name_sealed;  // auth::sealer::seal_text of the name
    std::string gender;
    std::vector<std::string> languages;
    std::vector<std::string> kinds;
    double home_lat = 0;
    double home_lon = 0;
    double radius_km = 5;
    std::optional<std::string> suspended_until;  // ISO 8601, set while a suspension lasts
    std::string suspend_reason;
    std::vector<credential_row> credentials;
    // From the organisation: its community (0 when it has not registered), status, suspension.
    std::int64_t community_id = 0;
    std::string org_status;
    std::optional<std::string> org_suspended_until;
};

std::optional<worker_row> find_worker(pqxx::work& tx, const std::string& id);
/// Inserts or replaces the profile and its credentials (the org never changes).
void upsert_worker(pqxx::transaction_base& tx, const worker_row& w);
/// Suspends until `until` (ISO 8601); false when the worker does not exist or `until` is not a timestamp.
bool suspend(pqxx::work& tx, const std::string& id, const std::string& until, const std::string& reason);
void add_history(pqxx::work& tx,
                 const std::string& worker_id,
                 const std::string& action,
                 const std::string& actor_id,
                 const std::string& actor_role,
                 const std::string& reason);

// ---- organisations ----

struct org_row {
    std::string id;
    std::string kind;
    std::string name;
    std::optional<std::string> registration_number;
    std::int64_t community_id = 0;
    std::string address;
    double lat = 0;
    double lon = 0;
    std::string status = "pending";
    std::string status_reason;
    std::optional<std::string> suspended_until;
    std::string suspend_reason;
};

std::optional<org_row> find_org(pqxx::transaction_base& tx, const std::string& id);
/// Files or re-files the organisation's details; it (re)enters review as pending. false when it is approved
/// (an approved organisation's details change through the admin) — the row is then unchanged.
bool submit_org(pqxx::transaction_base& tx, const org_row& o);
/// pending → approved | rejected; false when it is not pending.
bool decide_org(pqxx::work& tx, const std::string& id, const std::string& status, const std::string& reason);
bool suspend_org(pqxx::work& tx, const std::string& id, const std::string& until, const std::string& reason);
/// Organisations by status (empty: all), oldest first after the cursor id; staff pass their communities.
std::vector<org_row> list_orgs(pqxx::work& tx,
                               const std::string& status,
                               const std::optional<std::vector<std::int64_t>>& communities,
                               const std::string& after,
                               int limit);
void add_org_history(pqxx::work& tx,
                     const std::string& org_id,
                     const std::string& action,
                     const std::string& actor_id,
                     const std::string& actor_role,
                     const std::string& reason);
std::vector<std::string> org_worker_ids(pqxx::work& tx, const std::string& org_id);
/// Streets (community / 1000) of approved organisations: the presence shards the sweeper walks.
std::vector<std::int64_t> presence_shards(pqxx::work& tx);

// ---- availability: minutes of the local day, [from, to) pairs ----

using minute_ranges = std::vector<std::pair<int, int>>;
struct availability_row {
    std::map<int, minute_ranges> weekly;              // 1 = Monday … 7 = Sunday
    std::map<std::string, minute_ranges> exceptions;  // YYYY-MM-DD → that day's hours (empty: day off)
};
void set_availability(pqxx::transaction_base& tx, const std::string& worker_id, const availability_row& a);
availability_row get_availability(pqxx::work& tx, const std::string& worker_id);
/// Of `ids`, the workers matching may offer a job now: not suspended, their organisation approved and not
/// suspended at `now`, and — when a window is given (ISO 8601 timestamps) — available over the whole window
/// in local time. A worker who never declared a weekly pattern is available all day.
std::vector<std::string> offerable(pqxx::work& tx,
                                   const std::vector<std::string>& ids,
                                   const std::optional<std::pair<std::string, std::string>>& window,
                                   core::clock::time_point now,
                                   const core::calendar& local);

/// A worker as matching weighs it: who, which organisation, gender, languages, credentials with the instant
/// each stops being valid (local midnight after its expiry date), and — when a span is asked for — the
/// intervals of that span the worker works (epoch seconds, merged across midnight).
struct offerable_worker {
    std::string id;
    std::string org_id;
    std::string gender;
    std::vector<std::string> languages;
    std::vector<std::pair<std::string, std::int64_t>> credentials;  // type, valid until (epoch s)
    std::vector<std::pair<std::int64_t, std::int64_t>> available;   // epoch s, [from, to)
};

/// Of `ids`, the workers matching may offer a job at `now` (as `offerable`), with what it weighs them by;
/// `span` (epoch seconds) asks for their working hours within it.
std::vector<offerable_worker> offerable_workers(
    pqxx::work& tx,
    const std::vector<std::string>& ids,
    const std::optional<std::pair<std::int64_t, std::int64_t>>& span,
    core::clock::time_point now,
    const core::calendar& local);

// ---- canteens ----

struct canteen_row {
    std::string org_id;
    double delivery_radius_km = 3;
    std::vector<std::string> diet_tags;
    std::map<std::string, int> slots;  // slot → meals per slot
};
void put_canteen(pqxx::work& tx, const canteen_row& c);
std::optional<canteen_row> find_canteen(pqxx::work& tx, const std::string& org_id);
struct canteen_hit {
    std::string org_id;
    std::string name;
    double distance_m = 0;
    int meals = 0;
    std::vector<std::string> diet_tags;
};
/// Approved, unsuspended canteens whose delivery radius covers the point, serving `slot` with every tag.
std::vector<canteen_hit> canteens_near(pqxx::work& tx,
                                       double lat,
                                       double lon,
                                       const std::string& slot,
                                       const std::vector<std::string>& tags,
                                       core::clock::time_point now);

/// Seals the worker names and credential numbers written before migration 004 in plain text, then validates
/// the checks that none is left. Returns how many rows it sealed.
int seal_plain_personal_data(pqxx::work& tx, const auth::sealer& s);

}  // namespace carematch::providers::repo
