// providers' SQL, as named constants with bound parameters.
#include "repository.hpp"

#include <carematch/db/pool.hpp>

#include <boost/json.hpp>

namespace carematch::providers::repo {
namespace {

constexpr const char* sql_find =
    "SELECT w.id::text, w.org_id::text, w.name_sealed, gender, array_to_json(languages)::text,"
    " array_to_json(kinds)::text, home_lat, home_lon, radius_km,"
    " to_char(w.suspended_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), w.suspend_reason,"
    " to_char(o.suspended_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " coalesce(o.community_id, 0), coalesce(o.status, '')"
    " FROM workers w LEFT JOIN organisations o ON o.id = w.org_id WHERE w.id = $1::uuid";
constexpr const char* sql_credentials =
    "SELECT type, number_sealed, expires_on::text FROM credentials WHERE worker_id = $1::uuid ORDER BY type";
constexpr const char* sql_upsert =
    "INSERT INTO workers (id, org_id, name_sealed, gender, languages, kinds, home_lat, home_lon, radius_km)"
    " VALUES ($1::uuid, $2::uuid, $3, $4, $5::text[], $6::text[], $7, $8, $9)"
    " ON CONFLICT (id) DO UPDATE SET name_sealed = excluded.name_sealed, gender = excluded.gender,"
    " languages = excluded.languages, kinds = excluded.kinds, home_lat = excluded.home_lat,"
    " home_lon = excluded.home_lon, radius_km = excluded.radius_km, updated_at = now()";
constexpr const char* sql_clear_credentials = "DELETE FROM credentials WHERE worker_id = $1::uuid";
constexpr const char* sql_add_credential =
    "INSERT INTO credentials (worker_id, type, number_sealed, expires_on) VALUES ($1::uuid, $2, $3, "
    "$4::date)";
constexpr const char* sql_suspend =
    "UPDATE workers SET suspended_until = $2::timestamptz, suspend_reason = $3, updated_at = now()"
    " WHERE id = $1::uuid";
constexpr const char* sql_history =
    "INSERT INTO worker_history (worker_id, action, actor_id, actor_role, reason) VALUES ($1::uuid, $2, $3, "
    "$4, $5)";

// Sets suspended_until and the reason on one row; false when there is no such row or `until` is not a
// timestamp PostgreSQL reads (the savepoint keeps the transaction usable).
bool set_suspension(pqxx::work& tx,
                    const char* sql,
                    const std::string& id,
                    const std::string& until,
                    const std::string& reason) {
    try {
        db::savepoint sub(tx, "suspend");
        auto r = sub.exec_params(sql, id, until, reason);
        sub.commit();
        return r.affected_rows() == 1;
    } catch (const pqxx::data_exception&) {
        return false;
    }
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
    w.name_sealed = r[0][2].as<std::string>();
    w.gender = r[0][3].as<std::string>();
    w.languages = db::json_strings(r[0][4].as<std::string>());
    w.kinds = db::json_strings(r[0][5].as<std::string>());
    w.home_lat = r[0][6].as<double>();
    w.home_lon = r[0][7].as<double>();
    w.radius_km = r[0][8].as<double>();
    if (!r[0][9].is_null()) {
        w.suspended_until = r[0][9].as<std::string>();
    }
    w.suspend_reason = r[0][10].as<std::string>();
    if (!r[0][11].is_null()) {
        w.org_suspended_until = r[0][11].as<std::string>();
    }
    w.community_id = r[0][12].as<std::int64_t>();
    w.org_status = r[0][13].as<std::string>();
    for (const auto& c : tx.exec_params(sql_credentials, id)) {
        w.credentials.push_back({c[0].as<std::string>(), c[1].as<std::string>(), c[2].as<std::string>()});
    }
    return w;
}

void upsert_worker(pqxx::transaction_base& tx, const worker_row& w) {
    tx.exec_params(sql_upsert,
                   w.id,
                   w.org_id,
                   w.name_sealed,
                   w.gender,
                   db::text_array(w.languages),
                   db::text_array(w.kinds),
                   w.home_lat,
                   w.home_lon,
                   w.radius_km);
    tx.exec_params(sql_clear_credentials, w.id);
    for (const auto& c : w.credentials) {
        tx.exec_params(sql_add_credential, w.id, c.type, c.number_sealed, c.expires_on);
    }
}

bool suspend(pqxx::work& tx, const std::string& id, const std::string& until, const std::string& reason) {
    return set_suspension(tx, sql_suspend, id, until, reason);
}

void add_history(pqxx::work& tx,
                 const std::string& worker_id,
                 const std::string& action,
                 const std::string& actor_id,
                 const std::string& actor_role,
                 const std::string& reason) {
    tx.exec_params(sql_history, worker_id, action, actor_id, actor_role, reason);
}

// ---- organisations ----

namespace {

constexpr const char* sql_org_columns =
    "SELECT id::text, kind, name, registration_number, community_id, address, lat, lon, status, "
    "status_reason,"
    " to_char(suspended_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), suspend_reason"
    " FROM organisations";
constexpr const char* sql_submit_org =
    "INSERT INTO organisations (id, kind, name, registration_number, community_id, address, lat, lon)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,"
    " registration_number = excluded.registration_number, community_id = excluded.community_id,"
    " address = excluded.address, lat = excluded.lat, lon = excluded.lon, status = 'pending',"
    " status_reason = '', updated_at = now() WHERE organisations.status <> 'approved'";
constexpr const char* sql_decide_org =
    "UPDATE organisations SET status = $2, status_reason = $3, updated_at = now()"
    " WHERE id = $1::uuid AND status = 'pending'";
constexpr const char* sql_suspend_org =
    "UPDATE organisations SET suspended_until = $2::timestamptz, suspend_reason = $3, updated_at = now()"
    " WHERE id = $1::uuid";
constexpr const char* sql_org_history =
    "INSERT INTO organisation_history (org_id, action, actor_id, actor_role, reason)"
    " VALUES ($1::uuid, $2, $3, $4, $5)";
constexpr const char* sql_org_workers = "SELECT id::text FROM workers WHERE org_id = $1::uuid";
constexpr const char* sql_shards =
    "SELECT DISTINCT community_id / 1000 FROM organisations WHERE status = 'approved' ORDER BY 1";

org_row read_org(const pqxx::row& r) {
    org_row o;
    o.id = r[0].as<std::string>();
    o.kind = r[1].as<std::string>();
    o.name = r[2].as<std::string>();
    if (!r[3].is_null()) {
        o.registration_number = r[3].as<std::string>();
    }
    o.community_id = r[4].as<std::int64_t>();
    o.address = r[5].as<std::string>();
    o.lat = r[6].as<double>();
    o.lon = r[7].as<double>();
    o.status = r[8].as<std::string>();
    o.status_reason = r[9].as<std::string>();
    if (!r[10].is_null()) {
        o.suspended_until = r[10].as<std::string>();
    }
    o.suspend_reason = r[11].as<std::string>();
    return o;
}

}  // namespace

std::optional<org_row> find_org(pqxx::transaction_base& tx, const std::string& id) {
    auto r = tx.exec_params(std::string(sql_org_columns) + " WHERE id = $1::uuid", id);
    if (r.empty()) {
        return std::nullopt;
    }
    return read_org(r[0]);
}

bool submit_org(pqxx::transaction_base& tx, const org_row& o) {
    return tx.exec_params(sql_submit_org,
                          o.id,
                          o.kind,
                          o.name,
                          o.registration_number,
                          o.community_id,
                          o.address,
                          o.lat,
                          o.lon)
               .affected_rows() == 1;
}

bool decide_org(pqxx::work& tx, const std::string& id, const std::string& status, const std::string& reason) {
    return tx.exec_params(sql_decide_org, id, status, reason).affected_rows() == 1;
}

bool suspend_org(pqxx::work& tx, const std::string& id, const std::string& until, const std::string& reason) {
    return set_suspension(tx, sql_suspend_org, id, until, reason);
}

std::vector<org_row> list_orgs(pqxx::work& tx,
                               const std::string& status,
                               const std::optional<std::vector<std::int64_t>>& communities,
                               const std::string& after,
                               int limit) {
    const std::string sql = std::string(sql_org_columns) +
                            " WHERE ($1 = '' OR status = $1)"
                            " AND ($2::bigint[] IS NULL OR community_id = ANY($2::bigint[]))"
                            " AND ($3 = '' OR id > $3::uuid) ORDER BY id LIMIT $4";
    std::optional<std::string> scope;
    if (communities) {
        scope = db::int_array(*communities);
    }
    std::vector<org_row> out;
    for (const auto& r : tx.exec_params(sql, status, scope, after, limit)) {
        out.push_back(read_org(r));
    }
    return out;
}

void add_org_history(pqxx::work& tx,
                     const std::string& org_id,
                     const std::string& action,
                     const std::string& actor_id,
                     const std::string& actor_role,
                     const std::string& reason) {
    tx.exec_params(sql_org_history, org_id, action, actor_id, actor_role, reason);
}

std::vector<std::string> org_worker_ids(pqxx::work& tx, const std::string& org_id) {
    std::vector<std::string> out;
    for (const auto& r : tx.exec_params(sql_org_workers, org_id)) {
        out.push_back(r[0].as<std::string>());
    }
    return out;
}

std::vector<std::int64_t> presence_shards(pqxx::work& tx) {
    std::vector<std::int64_t> out;
    for (const auto& r : tx.exec(sql_shards)) {
        out.push_back(r[0].as<std::int64_t>());
    }
    return out;
}

// ---- availability ----

namespace {

constexpr const char* sql_clear_weekly = "DELETE FROM availability WHERE worker_id = $1::uuid";
constexpr const char* sql_clear_exceptions = "DELETE FROM availability_exceptions WHERE worker_id = $1::uuid";
constexpr const char* sql_add_weekly =
    "INSERT INTO availability (worker_id, weekday, minutes) VALUES ($1::uuid, $2, $3::int4multirange)";
constexpr const char* sql_add_exception =
    "INSERT INTO availability_exceptions (worker_id, on_date, minutes) VALUES ($1::uuid, $2::date, "
    "$3::int4multirange)";
constexpr const char* sql_weekly =
    "SELECT a.weekday, lower(r), upper(r) FROM availability a LEFT JOIN LATERAL unnest(a.minutes) r ON true"
    " WHERE a.worker_id = $1::uuid ORDER BY 1, 2";
constexpr const char* sql_exceptions =
    "SELECT e.on_date::text, lower(r), upper(r) FROM availability_exceptions e"
    " LEFT JOIN LATERAL unnest(e.minutes) r ON true WHERE e.worker_id = $1::uuid ORDER BY 1, 2";
// Each local day the window touches must be covered by that day's hours: the exception of the date, else the
// weekday's pattern, else — for a worker without any weekly pattern — the whole day.
constexpr const char* sql_offerable =
    "WITH win AS (SELECT ($2::timestamptz + make_interval(mins => $5)) AT TIME ZONE 'UTC' AS f,"
    "                    ($3::timestamptz + make_interval(mins => $5)) AT TIME ZONE 'UTC' AS t)"
    " SELECT w.id::text FROM workers w JOIN organisations o ON o.id = w.org_id"
    " WHERE w.id = ANY($1::uuid[]) AND NOT coalesce(w.suspended_until > to_timestamp($4::float8), false)"
    " AND o.status = 'approved' AND NOT coalesce(o.suspended_until > to_timestamp($4::float8), false)"
    " AND ($2::timestamptz IS NULL OR NOT EXISTS ("
    "   SELECT 1 FROM win, generate_series(date_trunc('day', win.f), win.t - interval '1 microsecond',"
    "                                      interval '1 day') AS d(day)"
    "   WHERE NOT coalesce("
    "     (SELECT minutes FROM availability_exceptions e WHERE e.worker_id = w.id AND e.on_date = "
    "d.day::date),"
    "     (SELECT minutes FROM availability a WHERE a.worker_id = w.id"
    "        AND a.weekday = extract(isodow FROM d.day)),"
    "     CASE WHEN EXISTS (SELECT 1 FROM availability a WHERE a.worker_id = w.id) THEN '{}'::int4multirange"
    "          ELSE '{[0,1440)}'::int4multirange END)"
    "   @> int4range(greatest(0, floor(extract(epoch FROM win.f - d.day) / 60))::int,"
    "                least(1440, ceil(extract(epoch FROM win.t - d.day) / 60))::int)))"
    " ORDER BY array_position($1::uuid[], w.id)";

std::string multirange(const minute_ranges& ranges) {
    std::string out = "{";
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += '[';
        out += std::to_string(ranges[i].first);
        out += ',';
        out += std::to_string(ranges[i].second);
        out += ')';
    }
    return out + "}";
}

}  // namespace

void set_availability(pqxx::transaction_base& tx, const std::string& worker_id, const availability_row& a) {
    tx.exec_params(sql_clear_weekly, worker_id);
    tx.exec_params(sql_clear_exceptions, worker_id);
    for (const auto& [day, ranges] : a.weekly) {
        tx.exec_params(sql_add_weekly, worker_id, day, multirange(ranges));
    }
    for (const auto& [date, ranges] : a.exceptions) {
        tx.exec_params(sql_add_exception, worker_id, date, multirange(ranges));
    }
}

availability_row get_availability(pqxx::work& tx, const std::string& worker_id) {
    availability_row a;
    for (const auto& r : tx.exec_params(sql_weekly, worker_id)) {
        auto& day = a.weekly[r[0].as<int>()];
        if (!r[1].is_null()) {
            day.emplace_back(r[1].as<int>(), r[2].as<int>());
        }
    }
    for (const auto& r : tx.exec_params(sql_exceptions, worker_id)) {
        auto& day = a.exceptions[r[0].as<std::string>()];
        if (!r[1].is_null()) {
            day.emplace_back(r[1].as<int>(), r[2].as<int>());
        }
    }
    return a;
}

std::vector<std::string> offerable(pqxx::work& tx,
                                   const std::vector<std::string>& ids,
                                   const std::optional<std::pair<std::string, std::string>>& window,
                                   core::clock::time_point now,
                                   const core::calendar& local) {
    std::optional<std::string> from;
    std::optional<std::string> to;
    if (window) {
        from = window->first;
        to = window->second;
    }
    std::vector<std::string> out;
    for (const auto& r : tx.exec_params(sql_offerable,
                                        db::text_array(ids),
                                        from,
                                        to,
                                        std::chrono::duration<double>(now.time_since_epoch()).count(),
                                        local.utc_offset().count())) {
        out.push_back(r[0].as<std::string>());
    }
    return out;
}

// ---- matching's read of a street ----

namespace {

constexpr const char* sql_offerable_workers =
    "SELECT w.id::text, w.org_id::text, w.gender, array_to_string(w.languages, ','),"
    " coalesce((SELECT string_agg(c.type || ':' ||"
    "   extract(epoch FROM (c.expires_on + 1)::timestamp - make_interval(mins => $3))::bigint, ',')"
    "   FROM credentials c WHERE c.worker_id = w.id), '')"
    " FROM workers w JOIN organisations o ON o.id = w.org_id"
    " WHERE w.id = ANY($1::uuid[]) AND NOT coalesce(w.suspended_until > to_timestamp($2::float8), false)"
    " AND o.status = 'approved' AND NOT coalesce(o.suspended_until > to_timestamp($2::float8), false)"
    " ORDER BY w.id";

// Each local day the span touches: the day's exception, else its weekday, else all day when the worker never
// declared a pattern; each range as UTC epoch seconds.
constexpr const char* sql_working_hours =
    "WITH win AS (SELECT to_timestamp($2::float8) AT TIME ZONE 'UTC' + make_interval(mins => $4) AS f,"
    "                    to_timestamp($3::float8) AT TIME ZONE 'UTC' + make_interval(mins => $4) AS t)"
    " SELECT w.id::text,"
    "   extract(epoch FROM d.day + make_interval(mins => lower(r.hours) - $4))::bigint,"
    "   extract(epoch FROM d.day + make_interval(mins => upper(r.hours) - $4))::bigint"
    " FROM unnest($1::uuid[]) AS w(id), win,"
    "   generate_series(date_trunc('day', win.f), win.t, interval '1 day') AS d(day),"
    "   LATERAL unnest(coalesce("
    "     (SELECT minutes FROM availability_exceptions e WHERE e.worker_id = w.id AND e.on_date = "
    "d.day::date),"
    "     (SELECT minutes FROM availability a WHERE a.worker_id = w.id AND a.weekday = extract(isodow FROM "
    "d.day)),"
    "     CASE WHEN EXISTS (SELECT 1 FROM availability a WHERE a.worker_id = w.id) THEN '{}'::int4multirange"
    "          ELSE '{[0,1440)}'::int4multirange END)) AS r(hours)"
    " ORDER BY 1, 2";

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < s.size()) {
        auto end = s.find(',', start);
        if (end == std::string::npos) {
            end = s.size();
        }
        if (end > start) {
            out.push_back(s.substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

}  // namespace

std::vector<offerable_worker> offerable_workers(
    pqxx::work& tx,
    const std::vector<std::string>& ids,
    const std::optional<std::pair<std::int64_t, std::int64_t>>& span,
    core::clock::time_point now,
    const core::calendar& local) {
    std::vector<offerable_worker> out;
    const auto offset = static_cast<int>(local.utc_offset().count());
    const std::string id_list = db::text_array(ids);
    for (const auto& r : tx.exec_params(sql_offerable_workers,
                                        id_list,
                                        std::chrono::duration<double>(now.time_since_epoch()).count(),
                                        offset)) {
        offerable_worker w;
        w.id = r[0].as<std::string>();
        w.org_id = r[1].as<std::string>();
        w.gender = r[2].as<std::string>();
        w.languages = split_list(r[3].as<std::string>());
        for (const auto& c : split_list(r[4].as<std::string>())) {
            const auto colon = c.find(':');
            w.credentials.emplace_back(c.substr(0, colon), std::stoll(c.substr(colon + 1)));
        }
        out.push_back(std::move(w));
    }
    if (!span || out.empty()) {
        return out;
    }
    std::vector<std::string> kept;
    for (const auto& w : out) {
        kept.push_back(w.id);
    }
    std::size_t at = 0;  // both results are ordered by worker id
    for (const auto& r : tx.exec_params(sql_working_hours,
                                        db::text_array(kept),
                                        static_cast<double>(span->first),
                                        static_cast<double>(span->second),
                                        offset)) {
        const auto id = r[0].as<std::string>();
        while (at < out.size() && out[at].id != id) {
            ++at;
        }
        if (at == out.size()) {
            break;
        }
        auto& hours = out[at].available;
        const auto from = r[1].as<std::int64_t>();
        const auto to = r[2].as<std::int64_t>();
        if (!hours.empty() && hours.back().second >= from) {
            hours.back().second = std::max(hours.back().second, to);  // across midnight
        } else {
            hours.emplace_back(from, to);
        }
    }
    return out;
}

// ---- canteens ----

namespace {

constexpr const char* sql_put_canteen =
    "INSERT INTO canteens (org_id, delivery_radius_km, diet_tags) VALUES ($1::uuid, $2, $3::text[])"
    " ON CONFLICT (org_id) DO UPDATE SET delivery_radius_km = excluded.delivery_radius_km,"
    " diet_tags = excluded.diet_tags";
constexpr const char* sql_clear_slots = "DELETE FROM canteen_slots WHERE org_id = $1::uuid";
constexpr const char* sql_add_slot =
    "INSERT INTO canteen_slots (org_id, slot, meals) VALUES ($1::uuid, $2, $3)";
constexpr const char* sql_find_canteen =
    "SELECT delivery_radius_km, array_to_json(diet_tags)::text FROM canteens WHERE org_id = $1::uuid";
constexpr const char* sql_slots = "SELECT slot, meals FROM canteen_slots WHERE org_id = $1::uuid";
// Great-circle distance in metres (haversine), filtered to each canteen's own delivery radius.
constexpr const char* sql_canteens_near =
    "SELECT * FROM (SELECT o.id::text, o.name, 2 * 6371000 * asin(sqrt("
    "   power(sin(radians(o.lat - $1) / 2), 2) +"
    "   cos(radians($1)) * cos(radians(o.lat)) * power(sin(radians(o.lon - $2) / 2), 2))) AS d,"
    "   s.meals, array_to_json(c.diet_tags)::text, c.delivery_radius_km"
    "  FROM canteens c JOIN organisations o ON o.id = c.org_id"
    "  JOIN canteen_slots s ON s.org_id = c.org_id AND s.slot = $3"
    "  WHERE o.status = 'approved' AND NOT coalesce(o.suspended_until > to_timestamp($5::float8), false)"
    "    AND c.diet_tags @> $4::text[]) x"
    " WHERE d <= delivery_radius_km * 1000 ORDER BY d LIMIT 50";

}  // namespace

void put_canteen(pqxx::work& tx, const canteen_row& c) {
    tx.exec_params(sql_put_canteen, c.org_id, c.delivery_radius_km, db::text_array(c.diet_tags));
    tx.exec_params(sql_clear_slots, c.org_id);
    for (const auto& [slot, meals] : c.slots) {
        tx.exec_params(sql_add_slot, c.org_id, slot, meals);
    }
}

std::optional<canteen_row> find_canteen(pqxx::work& tx, const std::string& org_id) {
    auto r = tx.exec_params(sql_find_canteen, org_id);
    if (r.empty()) {
        return std::nullopt;
    }
    canteen_row c;
    c.org_id = org_id;
    c.delivery_radius_km = r[0][0].as<double>();
    c.diet_tags = db::json_strings(r[0][1].as<std::string>());
    for (const auto& s : tx.exec_params(sql_slots, org_id)) {
        c.slots[s[0].as<std::string>()] = s[1].as<int>();
    }
    return c;
}

std::vector<canteen_hit> canteens_near(pqxx::work& tx,
                                       double lat,
                                       double lon,
                                       const std::string& slot,
                                       const std::vector<std::string>& tags,
                                       core::clock::time_point now) {
    std::vector<canteen_hit> out;
    const double at = std::chrono::duration<double>(now.time_since_epoch()).count();
    for (const auto& r : tx.exec_params(sql_canteens_near, lat, lon, slot, db::text_array(tags), at)) {
        out.push_back({r[0].as<std::string>(),
                       r[1].as<std::string>(),
                       r[2].as<double>(),
                       r[3].as<int>(),
                       db::json_strings(r[4].as<std::string>())});
    }
    return out;
}

int seal_plain_personal_data(pqxx::work& tx, const auth::sealer& s) {
    int n = 0;
    for (const auto& r : tx.exec("SELECT id::text, name FROM workers WHERE name IS NOT NULL FOR UPDATE")) {
        tx.exec_params("UPDATE workers SET name = NULL, name_sealed = $2 WHERE id = $1::uuid",
                       r[0].as<std::string>(),
                       s.seal_text(r[1].as<std::string>()));
        ++n;
    }
    for (const auto& r : tx.exec(
             "SELECT worker_id::text, type, number FROM credentials WHERE number IS NOT NULL FOR UPDATE")) {
        tx.exec_params(
            "UPDATE credentials SET number = NULL, number_sealed = $3 WHERE worker_id = $1::uuid"
            " AND type = $2",
            r[0].as<std::string>(),
            r[1].as<std::string>(),
            s.seal_text(r[2].as<std::string>()));
        ++n;
    }
    tx.exec("ALTER TABLE workers VALIDATE CONSTRAINT workers_no_plain_personal_data");
    tx.exec("ALTER TABLE credentials VALIDATE CONSTRAINT credentials_no_plain_personal_data");
    return n;
}

}  // namespace carematch::providers::repo
