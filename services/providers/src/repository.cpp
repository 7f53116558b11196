// providers' SQL, as named constants with bound parameters.
#include "repository.hpp"

#include <carematch/db/pool.hpp>

#include <boost/json.hpp>

namespace carematch::providers::repo {
namespace {

constexpr const char* sql_find =
    "SELECT id::text, org_id::text, name, gender, array_to_json(languages)::text, array_to_json(kinds)::text,"
    " home_lat, home_lon, radius_km,"
    " to_char(suspended_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), suspend_reason,"
    " coalesce(suspended_until > now(), false)"
    " FROM workers WHERE id = $1::uuid";
constexpr const char* sql_credentials =
    "SELECT type, number, expires_on::text FROM credentials WHERE worker_id = $1::uuid ORDER BY type";
constexpr const char* sql_upsert =
    "INSERT INTO workers (id, org_id, name, gender, languages, kinds, home_lat, home_lon, radius_km)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, $5::text[], $6::text[], $7, $8, $9)"
    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, gender = excluded.gender,"
    " languages = excluded.languages, kinds = excluded.kinds, home_lat = excluded.home_lat,"
    " home_lon = excluded.home_lon, radius_km = excluded.radius_km, updated_at = now()";
constexpr const char* sql_clear_credentials = "DELETE FROM credentials WHERE worker_id = $1::uuid";
constexpr const char* sql_add_credential =
    "INSERT INTO credentials (worker_id, type, number, expires_on) VALUES ($1::uuid, $2, $3, $4::date)";
constexpr const char* sql_suspend =
    "UPDATE workers SET suspended_until = $2::timestamptz, suspend_reason = $3, updated_at = now()"
    " WHERE id = $1::uuid";
constexpr const char* sql_history =
    "INSERT INTO worker_history (worker_id, action, actor_id, actor_role, reason) VALUES ($1::uuid, $2, $3, "
    "$4, $5)";

std::vector<std::string> strings(const std::string& json_text) {
    std::vector<std::string> out;
    const auto v = boost::json::parse(json_text);
    for (const auto& x : v.as_array()) {
        out.emplace_back(x.as_string());
    }
    return out;
}

}  // namespace

std::optional<worker_row> find_worker(pqxx::work& tx, const std::string& id) {
    auto r = tx.exec_params(sql_find, id);
    if (r.empty()) {
        return std::nullopt;
    }
    worker_row w;
    w.id = r[0][0].as<std::string>();
    w.org_id = r[0][1].as<std::string>();
    w.name = r[0][2].as<std::string>();
    w.gender = r[0][3].as<std::string>();
    w.languages = strings(r[0][4].as<std::string>());
    w.kinds = strings(r[0][5].as<std::string>());
    w.home_lat = r[0][6].as<double>();
    w.home_lon = r[0][7].as<double>();
    w.radius_km = r[0][8].as<double>();
    if (!r[0][9].is_null()) {
        w.suspended_until = r[0][9].as<std::string>();
    }
    w.suspend_reason = r[0][10].as<std::string>();
    w.suspended_now = r[0][11].as<bool>();
    for (const auto& c : tx.exec_params(sql_credentials, id)) {
        w.credentials.push_back({c[0].as<std::string>(), c[1].as<std::string>(), c[2].as<std::string>()});
    }
    return w;
}

void upsert_worker(pqxx::transaction_base& tx, const worker_row& w) {
    tx.exec_params(sql_upsert,
                   w.id,
                   w.org_id,
                   w.name,
                   w.gender,
                   db::text_array(w.languages),
                   db::text_array(w.kinds),
                   w.home_lat,
                   w.home_lon,
                   w.radius_km);
    tx.exec_params(sql_clear_credentials, w.id);
    for (const auto& c : w.credentials) {
        tx.exec_params(sql_add_credential, w.id, c.type, c.number, c.expires_on);
    }
}

bool suspend(pqxx::work& tx, const std::string& id, const std::string& until, const std::string& reason) {
    try {
        pqxx::subtransaction sub(tx, "suspend");
        auto r = sub.exec_params(sql_suspend, id, until, reason);
        sub.commit();
        return r.affected_rows() == 1;
    } catch (const pqxx::data_exception&) {
        return false;
    }
}

void add_history(pqxx::work& tx,
                 const std::string& worker_id,
                 const std::string& action,
                 const std::string& actor_id,
                 const std::string& actor_role,
                 const std::string& reason) {
    tx.exec_params(sql_history, worker_id, action, actor_id, actor_role, reason);
}

}  // namespace carematch::providers::repo
