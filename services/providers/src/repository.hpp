// All SQL of providers, behind functions that take the caller's transaction.
#pragma once

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace carematch::providers::repo {

struct credential_row {
    std::string type;
    std::string number;
    std::string expires_on;  // YYYY-MM-DD
};

struct worker_row {
    std::string id;
    std::string org_id;
    std::string name;
    std::string gender;
    std::vector<std::string> languages;
    std::vector<std::string> kinds;
    double home_lat = 0;
    double home_lon = 0;
    double radius_km = 5;
    std::optional<std::string> suspended_until;  // ISO 8601, set while a suspension lasts
    std::string suspend_reason;
    std::vector<credential_row> credentials;
    bool suspended_now = false;
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

}  // namespace carematch::providers::repo
