// All SQL of identity, behind functions that take the caller's transaction. No pqxx type leaves here except
// the transaction parameter itself.
#pragma once

#include <carematch/auth/sealer.hpp>
#include <carematch/core/error.hpp>

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::identity::repo {

struct user_row {
    std::string id;
    std::string phone;
    std::string role;
    std::string password_hash;
    std::string display_name;
    std::string org_id;  // empty when none
    std::string status;
    std::vector<std::int64_t> communities;  // read back: the whole scope, the districts' communities included
    std::vector<std::int64_t> districts;    // staff assigned whole districts
};

/// Sets search_path to the service's schema for this transaction.
void use_schema(pqxx::work& tx, const std::string& schema);

// Phones, display names, and an elder's name, address and emergency contacts are sealed with `s` on the way
// in and opened on the way out; a phone is found by its keyed index (auth::sealer::index).
std::optional<user_row> find_user_by_phone(pqxx::work& tx, const auth::sealer& s, const std::string& phone);
std::optional<user_row> find_user(pqxx::work& tx, const auth::sealer& s, const std::string& id);
/// errc::conflict when the phone number is taken.
core::result<void> insert_user(pqxx::work& tx, const auth::sealer& s, const user_row& u);
/// Seals what rows written before migration 005 hold in plain text, then validates the checks that no plain
/// personal data is left. Returns how many rows it sealed.
int seal_plain_personal_data(pqxx::work& tx, const auth::sealer& s);
/// Activates a pending provider account; errc::not_found or errc::conflict (not pending).
void set_password(pqxx::work& tx, const std::string& user_id, const std::string& hash);

// ---- refresh tokens ----
void insert_refresh(pqxx::work& tx,
                    const std::string& family_id,
                    const std::string& user_id,
                    const std::string& token_hash_hex,
                    int ttl_days);
enum class refresh_outcome { rotated, reused, unknown };
struct refresh_use {
    refresh_outcome outcome = refresh_outcome::unknown;
    std::string user_id;
    std::string family_id;
};
/// Marks a live token used (once: a conditional UPDATE). A token already used, revoked or expired is
/// "reused".
refresh_use use_refresh(pqxx::work& tx, const std::string& token_hash_hex);
void revoke_family(pqxx::work& tx, const std::string& family_id);
void revoke_user_tokens(pqxx::work& tx, const std::string& user_id);
/// The family of `token_hash_hex` when it belongs to `user_id`.
std::optional<std::string> family_of(pqxx::work& tx,
                                     const std::string& token_hash_hex,
                                     const std::string& user_id);

// ---- regions ----
struct region_row {
    std::int64_t id = 0;
    std::optional<std::int64_t> parent_id;
    std::string level;
    std::string name;
    std::int64_t residents = 0;
};
std::vector<region_row> list_regions(pqxx::work& tx);
/// Inserts regions that are not there yet (a seed never overwrites an admin's edits); returns how many.
int seed_regions(pqxx::work& tx, const std::vector<region_row>& rows);
/// errc::conflict for a duplicate id or a parent of the wrong level.
core::result<void> insert_region(pqxx::work& tx, const region_row& r);
/// errc::not_found when absent.
core::result<void> update_region(pqxx::work& tx,
                                 std::int64_t id,
                                 const std::optional<std::string>& name,
                                 std::optional<std::int64_t> residents);
bool is_community(pqxx::work& tx, std::int64_t id);
bool is_district(pqxx::work& tx, std::int64_t id);
/// How many communities lie under these districts.
long long communities_under(pqxx::work& tx, const std::vector<std::int64_t>& districts);

// ---- recipients ----
struct recipient_row {
    std::string id;
    std::string family_id;
    std::string kind;
    std::int64_t community_id = 0;
    std::optional<std::string> name;
    std::optional<std::string> birth_date;
    std::optional<std::string> gender;
    std::optional<int> ability_level;
    std::vector<std::string> priority_categories;
    std::vector<std::string> diet;
    std::vector<std::string> languages;
    std::optional<std::string> gender_preference;
    std::optional<std::string> address;
    std::optional<double> lat;
    std::optional<double> lon;
    std::string emergency_contacts_json = "[]";
    std::optional<std::string> sealed_hex;  // nonce || ciphertext, hex
    std::string created_at;
    std::string updated_at;
};
void insert_recipient(pqxx::work& tx, const auth::sealer& s, const recipient_row& r);
/// A live (not deleted) recipient.
std::optional<recipient_row> find_recipient(pqxx::work& tx, const auth::sealer& s, const std::string& id);
std::vector<recipient_row> list_by_family(pqxx::work& tx,
                                          const auth::sealer& s,
                                          const std::string& family_id);
std::vector<recipient_row> list_by_community(pqxx::work& tx,
                                             const auth::sealer& s,
                                             std::int64_t community_id);
void update_recipient(pqxx::work& tx, const auth::sealer& s, const recipient_row& r);
void soft_delete_recipient(pqxx::work& tx, const std::string& id);
void clear_sealed(pqxx::work& tx, const std::string& id);

// ---- consents ----
struct consent_row {
    std::string purpose;
    std::string text_version;
    std::string granted_at;
};
std::vector<consent_row> active_consents(pqxx::work& tx, const std::string& recipient_id);
/// Replaces any active consent for the purpose.
void grant_consent(pqxx::work& tx,
                   const std::string& recipient_id,
                   const std::string& purpose,
                   const std::string& text_version,
                   const std::string& by);
/// True when an active consent was withdrawn.
bool withdraw_consent(pqxx::work& tx, const std::string& recipient_id, const std::string& purpose);

// ---- audit ----
struct audit_entry {
    std::string actor_id;
    std::string actor_role;
    std::string action;
    std::string object_type;
    std::string object_id;
    std::string purpose;
    std::string request_id;
};
void audit(pqxx::work& tx, const audit_entry& e);

}  // namespace carematch::identity::repo
