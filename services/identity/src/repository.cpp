// identity's SQL, as named constants with bound parameters.
#include "repository.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/db/pool.hpp>

#include <boost/json.hpp>

namespace carematch::identity::repo {
namespace {

constexpr const char* user_columns =
    "id::text, phone_sealed, role, password_hash, display_name_sealed, coalesce(org_id::text, ''), status,"
    " array_to_json(ARRAY(SELECT unnest(communities) UNION SELECT c.id FROM regions c JOIN regions st ON"
    " st.id = c.parent_id WHERE c.level = 'community' AND st.parent_id = ANY(districts) ORDER BY 1))::text,"
    " array_to_json(districts)::text";

constexpr const char* sql_user_by_phone = "SELECT {cols} FROM users WHERE phone_index = $1";
constexpr const char* sql_user_by_id = "SELECT {cols} FROM users WHERE id = $1::uuid";
constexpr const char* sql_insert_user =
    "INSERT INTO users (id, phone_index, phone_sealed, role, password_hash, display_name_sealed, org_id, "
    "status,"
    " communities, districts)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, nullif($7, '')::uuid, $8, $9::bigint[], $10::bigint[])";
constexpr const char* sql_set_password =
    "UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1::uuid";

constexpr const char* sql_insert_refresh =
    "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at)"
    " VALUES ($1::uuid, $2::uuid, $3::uuid, decode($4, 'hex'), now() + make_interval(days => $5))";
constexpr const char* sql_use_refresh =
    "UPDATE refresh_tokens SET used_at = now()"
    " WHERE token_hash = decode($1, 'hex') AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()"
    " RETURNING user_id::text, family_id::text";
constexpr const char* sql_family_by_hash =
    "SELECT family_id::text, user_id::text FROM refresh_tokens WHERE token_hash = decode($1, 'hex')";
constexpr const char* sql_revoke_family =
    "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1::uuid AND revoked_at IS NULL";
constexpr const char* sql_revoke_user =
    "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1::uuid AND revoked_at IS NULL";

constexpr const char* sql_list_regions =
    "SELECT id, parent_id, level, name, residents FROM regions ORDER BY id";
constexpr const char* sql_insert_region_if_absent =
    "INSERT INTO regions (id, parent_id, level, name, residents) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (id) DO NOTHING";
constexpr const char* sql_insert_region =
    "INSERT INTO regions (id, parent_id, level, name, residents)"
    " SELECT $1, $2, $3, $4, $5 WHERE"
    " ($3 = 'district' AND $2::bigint IS NULL) OR EXISTS (SELECT 1 FROM regions p WHERE p.id = $2 AND"
    " p.level = CASE $3 WHEN 'street' THEN 'district' WHEN 'community' THEN 'street' END)";
constexpr const char* sql_update_region =
    "UPDATE regions SET name = coalesce($2, name), residents = coalesce($3, residents) WHERE id = $1";
constexpr const char* sql_is_community = "SELECT 1 FROM regions WHERE id = $1 AND level = 'community'";

constexpr const char* recipient_columns =
    "id::text, family_id::text, kind, community_id, name_sealed, birth_date::text, gender, ability_level,"
    " array_to_json(priority_categories)::text, array_to_json(diet)::text, array_to_json(languages)::text,"
    " gender_preference, address_sealed, lat, lon, contacts_sealed, encode(sealed, 'hex'),"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
constexpr const char* sql_insert_recipient =
    "INSERT INTO recipients (id, family_id, kind, community_id, name_sealed, birth_date, gender, "
    "ability_level,"
    " priority_categories, diet, languages, gender_preference, address_sealed, lat, lon, contacts_sealed,"
    " sealed)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::date, $7, $8, $9::text[], $10::text[], $11::text[], $12,"
    " $13, $14, $15, $16, decode($17, 'hex'))";
constexpr const char* sql_update_recipient =
    "UPDATE recipients SET community_id = $2, name_sealed = $3, birth_date = $4::date, gender = $5,"
    " ability_level = $6, priority_categories = $7::text[], diet = $8::text[], languages = $9::text[],"
    " gender_preference = $10, address_sealed = $11, lat = $12, lon = $13, contacts_sealed = $14,"
    " sealed = decode($15, 'hex'),"
    " updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL";
constexpr const char* sql_find_recipient =
    "SELECT {cols} FROM recipients WHERE id = $1::uuid AND deleted_at IS NULL";
constexpr const char* sql_list_by_family =
    "SELECT {cols} FROM recipients WHERE family_id = $1::uuid AND deleted_at IS NULL ORDER BY created_at, id";
constexpr const char* sql_list_by_community =
    "SELECT {cols} FROM recipients WHERE community_id = $1 AND deleted_at IS NULL ORDER BY created_at, id";
constexpr const char* sql_soft_delete =
    "UPDATE recipients SET deleted_at = now(), updated_at = now() WHERE id = $1::uuid AND deleted_at IS NULL";
constexpr const char* sql_clear_sealed =
    "UPDATE recipients SET sealed = NULL, updated_at = now() WHERE id = $1::uuid";

constexpr const char* sql_active_consents =
    "SELECT purpose, text_version, to_char(granted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    " FROM consents WHERE recipient_id = $1::uuid AND withdrawn_at IS NULL ORDER BY purpose";
constexpr const char* sql_withdraw_consent =
    "UPDATE consents SET withdrawn_at = now() WHERE recipient_id = $1::uuid AND purpose = $2 AND "
    "withdrawn_at IS NULL";
constexpr const char* sql_grant_consent =
    "INSERT INTO consents (id, recipient_id, purpose, text_version, granted_by) VALUES ($1::uuid, $2::uuid, "
    "$3, $4,"
    " $5::uuid)";
constexpr const char* sql_audit =
    "INSERT INTO audit_log (actor_id, actor_role, action, object_type, object_id, purpose, request_id)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)";

std::string with_columns(const char* sql, const char* cols) {
    std::string s(sql);
    s.replace(s.find("{cols}"), 6, cols);
    return s;
}

std::vector<std::int64_t> json_ints(const std::string& text) {
    std::vector<std::int64_t> out;
    auto v = boost::json::parse(text);
    if (v.is_array()) {
        for (const auto& x : v.as_array()) {
            out.push_back(x.as_int64());
        }
    }
    return out;
}

template <class T>
std::optional<T> opt(const pqxx::field& f) {
    if (f.is_null()) {
        return std::nullopt;
    }
    return f.as<T>();
}

user_row read_user(const auth::sealer& s, const pqxx::row& r) {
    return user_row{r[0].as<std::string>(),
                    s.open_nullable(opt<std::string>(r[1])).value_or(""),
                    r[2].as<std::string>(),
                    r[3].as<std::string>(),
                    s.open_nullable(opt<std::string>(r[4])).value_or(""),
                    r[5].as<std::string>(),
                    r[6].as<std::string>(),
                    json_ints(r[7].as<std::string>()),
                    json_ints(r[8].as<std::string>())};
}

recipient_row read_recipient(const auth::sealer& s, const pqxx::row& r) {
    recipient_row x;
    x.id = r[0].as<std::string>();
    x.family_id = r[1].as<std::string>();
    x.kind = r[2].as<std::string>();
    x.community_id = r[3].as<std::int64_t>();
    x.name = s.open_nullable(opt<std::string>(r[4]));
    x.birth_date = opt<std::string>(r[5]);
    x.gender = opt<std::string>(r[6]);
    x.ability_level = opt<int>(r[7]);
    x.priority_categories = db::json_strings(r[8].as<std::string>());
    x.diet = db::json_strings(r[9].as<std::string>());
    x.languages = db::json_strings(r[10].as<std::string>());
    x.gender_preference = opt<std::string>(r[11]);
    x.address = s.open_nullable(opt<std::string>(r[12]));
    x.lat = opt<double>(r[13]);
    x.lon = opt<double>(r[14]);
    x.emergency_contacts_json = s.open_nullable(opt<std::string>(r[15])).value_or("[]");
    x.sealed_hex = opt<std::string>(r[16]);
    x.created_at = r[17].as<std::string>();
    x.updated_at = r[18].as<std::string>();
    return x;
}

}  // namespace

void use_schema(pqxx::work& tx, const std::string& schema) {
    tx.exec("SET LOCAL search_path TO " + tx.quote_name(schema) + ", public");
}

std::optional<user_row> find_user_by_phone(pqxx::work& tx, const auth::sealer& s, const std::string& phone) {
    auto r = tx.exec_params(with_columns(sql_user_by_phone, user_columns), s.index(phone));
    if (r.empty()) {
        return std::nullopt;
    }
    return read_user(s, r[0]);
}

std::optional<user_row> find_user(pqxx::work& tx, const auth::sealer& s, const std::string& id) {
    auto r = tx.exec_params(with_columns(sql_user_by_id, user_columns), id);
    if (r.empty()) {
        return std::nullopt;
    }
    return read_user(s, r[0]);
}

core::result<void> insert_user(pqxx::work& tx, const auth::sealer& s, const user_row& u) {
    try {
        db::savepoint sub(tx, "insert_user");
        sub.exec_params(sql_insert_user,
                        u.id,
                        u.phone.empty() ? std::nullopt : std::optional<std::string>(s.index(u.phone)),
                        s.seal_nonempty(u.phone),
                        u.role,
                        u.password_hash,
                        s.seal_nonempty(u.display_name),
                        u.org_id,
                        u.status,
                        db::int_array(u.communities),
                        db::int_array(u.districts));
        sub.commit();
    } catch (const pqxx::sql_error& e) {
        if (db::is_conflict(e)) {
            return core::errc::conflict;
        }
        throw;
    }
    return {};
}

void set_password(pqxx::work& tx, const std::string& user_id, const std::string& hash) {
    tx.exec_params(sql_set_password, user_id, hash);
}

void insert_refresh(pqxx::work& tx,
                    const std::string& family_id,
                    const std::string& user_id,
                    const std::string& token_hash_hex,
                    int ttl_days) {
    tx.exec_params(sql_insert_refresh, core::new_uuid(), family_id, user_id, token_hash_hex, ttl_days);
}

refresh_use use_refresh(pqxx::work& tx, const std::string& token_hash_hex) {
    auto r = tx.exec_params(sql_use_refresh, token_hash_hex);
    if (!r.empty()) {
        return {refresh_outcome::rotated, r[0][0].as<std::string>(), r[0][1].as<std::string>()};
    }
    auto known = tx.exec_params(sql_family_by_hash, token_hash_hex);
    if (!known.empty()) {
        return {refresh_outcome::reused, known[0][1].as<std::string>(), known[0][0].as<std::string>()};
    }
    return {};
}

void revoke_family(pqxx::work& tx, const std::string& family_id) {
    tx.exec_params(sql_revoke_family, family_id);
}

void revoke_user_tokens(pqxx::work& tx, const std::string& user_id) {
    tx.exec_params(sql_revoke_user, user_id);
}

std::optional<std::string> family_of(pqxx::work& tx,
                                     const std::string& token_hash_hex,
                                     const std::string& user_id) {
    auto r = tx.exec_params(sql_family_by_hash, token_hash_hex);
    if (r.empty() || r[0][1].as<std::string>() != user_id) {
        return std::nullopt;
    }
    return r[0][0].as<std::string>();
}

std::vector<region_row> list_regions(pqxx::work& tx) {
    std::vector<region_row> out;
    for (const auto& r : tx.exec(sql_list_regions)) {
        out.push_back(region_row{r[0].as<std::int64_t>(),
                                 opt<std::int64_t>(r[1]),
                                 r[2].as<std::string>(),
                                 r[3].as<std::string>(),
                                 r[4].as<std::int64_t>()});
    }
    return out;
}

int seed_regions(pqxx::work& tx, const std::vector<region_row>& rows) {
    int n = 0;
    for (const auto& r : rows) {
        n += static_cast<int>(
            tx.exec_params(sql_insert_region_if_absent, r.id, r.parent_id, r.level, r.name, r.residents)
                .affected_rows());
    }
    return n;
}

core::result<void> insert_region(pqxx::work& tx, const region_row& r) {
    try {
        db::savepoint sub(tx, "insert_region");
        auto res = sub.exec_params(sql_insert_region, r.id, r.parent_id, r.level, r.name, r.residents);
        sub.commit();
        if (res.affected_rows() != 1) {
            return core::errc::conflict;
        }
    } catch (const pqxx::sql_error& e) {
        if (db::is_conflict(e)) {
            return core::errc::conflict;
        }
        throw;
    }
    return {};
}

core::result<void> update_region(pqxx::work& tx,
                                 std::int64_t id,
                                 const std::optional<std::string>& name,
                                 std::optional<std::int64_t> residents) {
    if (tx.exec_params(sql_update_region, id, name, residents).affected_rows() != 1) {
        return core::errc::not_found;
    }
    return {};
}

bool is_community(pqxx::work& tx, std::int64_t id) {
    return !tx.exec_params(sql_is_community, id).empty();
}

bool is_district(pqxx::work& tx, std::int64_t id) {
    return !tx.exec_params("SELECT 1 FROM regions WHERE id = $1 AND level = 'district'", id).empty();
}

long long communities_under(pqxx::work& tx, const std::vector<std::int64_t>& districts) {
    return tx
        .exec_params1(
            "SELECT count(*) FROM regions c JOIN regions st ON st.id = c.parent_id"
            " WHERE c.level = 'community' AND st.parent_id = ANY($1::bigint[])",
            db::int_array(districts))[0]
        .as<long long>();
}

void insert_recipient(pqxx::work& tx, const auth::sealer& s, const recipient_row& r) {
    tx.exec_params(
        sql_insert_recipient,
        r.id,
        r.family_id,
        r.kind,
        r.community_id,
        s.seal_nullable(r.name),
        r.birth_date,
        r.gender,
        r.ability_level,
        db::text_array(r.priority_categories),
        db::text_array(r.diet),
        db::text_array(r.languages),
        r.gender_preference,
        s.seal_nullable(r.address),
        r.lat,
        r.lon,
        r.emergency_contacts_json == "[]" ? std::nullopt : s.seal_nonempty(r.emergency_contacts_json),
        r.sealed_hex);
}

std::optional<recipient_row> find_recipient(pqxx::work& tx, const auth::sealer& s, const std::string& id) {
    auto r = tx.exec_params(with_columns(sql_find_recipient, recipient_columns), id);
    if (r.empty()) {
        return std::nullopt;
    }
    return read_recipient(s, r[0]);
}

std::vector<recipient_row> list_by_family(pqxx::work& tx,
                                          const auth::sealer& s,
                                          const std::string& family_id) {
    std::vector<recipient_row> out;
    for (const auto& r : tx.exec_params(with_columns(sql_list_by_family, recipient_columns), family_id)) {
        out.push_back(read_recipient(s, r));
    }
    return out;
}

std::vector<recipient_row> list_by_community(pqxx::work& tx,
                                             const auth::sealer& s,
                                             std::int64_t community_id) {
    std::vector<recipient_row> out;
    for (const auto& r :
         tx.exec_params(with_columns(sql_list_by_community, recipient_columns), community_id)) {
        out.push_back(read_recipient(s, r));
    }
    return out;
}

int seal_plain_personal_data(pqxx::work& tx, const auth::sealer& s) {
    int n = 0;
    for (const auto& r : tx.exec("SELECT id::text, phone, display_name FROM users WHERE phone IS NOT NULL OR"
                                 " display_name <> '' FOR UPDATE")) {
        auto phone = opt<std::string>(r[1]);
        tx.exec_params(
            "UPDATE users SET phone = NULL, display_name = '', phone_index = $2, phone_sealed = $3,"
            " display_name_sealed = $4 WHERE id = $1::uuid",
            r[0].as<std::string>(),
            phone ? std::optional<std::string>(s.index(*phone)) : std::nullopt,
            s.seal_nullable(phone),
            s.seal_nonempty(r[2].as<std::string>()));
        ++n;
    }
    for (const auto& r :
         tx.exec("SELECT id::text, name, address, emergency_contacts::text FROM recipients"
                 " WHERE name IS NOT NULL OR address IS NOT NULL OR emergency_contacts <> '[]'"
                 " FOR UPDATE")) {
        const auto contacts = r[3].as<std::string>();
        tx.exec_params(
            "UPDATE recipients SET name = NULL, address = NULL, emergency_contacts = '[]',"
            " name_sealed = $2, address_sealed = $3, contacts_sealed = $4 WHERE id = $1::uuid",
            r[0].as<std::string>(),
            s.seal_nullable(opt<std::string>(r[1])),
            s.seal_nullable(opt<std::string>(r[2])),
            contacts == "[]" ? std::nullopt : s.seal_nonempty(contacts));
        ++n;
    }
    tx.exec("ALTER TABLE users VALIDATE CONSTRAINT users_no_plain_personal_data");
    tx.exec("ALTER TABLE recipients VALIDATE CONSTRAINT recipients_no_plain_personal_data");
    return n;
}

void update_recipient(pqxx::work& tx, const auth::sealer& s, const recipient_row& r) {
    tx.exec_params(
        sql_update_recipient,
        r.id,
        r.community_id,
        s.seal_nullable(r.name),
        r.birth_date,
        r.gender,
        r.ability_level,
        db::text_array(r.priority_categories),
        db::text_array(r.diet),
        db::text_array(r.languages),
        r.gender_preference,
        s.seal_nullable(r.address),
        r.lat,
        r.lon,
        r.emergency_contacts_json == "[]" ? std::nullopt : s.seal_nonempty(r.emergency_contacts_json),
        r.sealed_hex);
}

void soft_delete_recipient(pqxx::work& tx, const std::string& id) {
    tx.exec_params(sql_soft_delete, id);
}

void clear_sealed(pqxx::work& tx, const std::string& id) {
    tx.exec_params(sql_clear_sealed, id);
}

std::vector<consent_row> active_consents(pqxx::work& tx, const std::string& recipient_id) {
    std::vector<consent_row> out;
    for (const auto& r : tx.exec_params(sql_active_consents, recipient_id)) {
        out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()});
    }
    return out;
}

void grant_consent(pqxx::work& tx,
                   const std::string& recipient_id,
                   const std::string& purpose,
                   const std::string& text_version,
                   const std::string& by) {
    tx.exec_params(sql_withdraw_consent, recipient_id, purpose);
    tx.exec_params(sql_grant_consent, core::new_uuid(), recipient_id, purpose, text_version, by);
}

bool withdraw_consent(pqxx::work& tx, const std::string& recipient_id, const std::string& purpose) {
    return tx.exec_params(sql_withdraw_consent, recipient_id, purpose).affected_rows() > 0;
}

void audit(pqxx::work& tx, const audit_entry& e) {
    tx.exec_params(
        sql_audit, e.actor_id, e.actor_role, e.action, e.object_type, e.object_id, e.purpose, e.request_id);
}

}  // namespace carematch::identity::repo
