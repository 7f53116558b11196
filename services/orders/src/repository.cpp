// orders' SQL, as named constants with bound parameters.
#include "repository.hpp"

#include <carematch/db/pool.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <map>

namespace carematch::orders::repo {
namespace {

constexpr const char* iso = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

std::string columns() {
    return std::string(
               "id::text, family_id::text, recipient_id::text, community_id, kind, sub_type, status, asap,"
               " to_char(window_start AT TIME ZONE 'UTC', ") +
           iso + "), to_char(window_end AT TIME ZONE 'UTC', " + iso +
           "), address_sealed, lat, lon, notes_sealed, price_fen, subsidy_fen, family_fen, "
           "cancellation_fee_fen, "
           "service_code,"
           " worker_id::text, org_id::text, attempt, to_char(created_at AT TIME ZONE 'UTC', " +
           iso + "), to_char(updated_at AT TIME ZONE 'UTC', " + iso +
           "), crew, second_worker_id::text, second_org_id::text";
}

// The orders come as one JSON array (nulls and all): one statement for a group commit's many.
const std::string sql_insert =
    "WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, family_id uuid, recipient_id uuid,"
    "  community_id bigint, kind text, sub_type text, asap boolean, start float8, \"end\" float8,"
    "  address_sealed text, lat float8, lon float8, notes_sealed text, price_fen bigint, subsidy_fen bigint,"
    "  family_fen bigint, service_code text, lead int, asap_min int, now float8, actor_id text, actor_role "
    "text,"
    "  reason text, crew int)),"
    " o AS (INSERT INTO orders (id, family_id, recipient_id, community_id, kind, sub_type, status, asap,"
    "  window_start, window_end, address_sealed, lat, lon, notes_sealed, price_fen, subsidy_fen, family_fen,"
    "  service_code, crew)"
    "  SELECT x.id, x.family_id, x.recipient_id, x.community_id, x.kind, x.sub_type, 'created', x.asap, s, e,"
    "   x.address_sealed, x.lat, x.lon, x.notes_sealed, x.price_fen, x.subsidy_fen, x.family_fen, "
    "x.service_code, x.crew"
    "  FROM x, LATERAL (SELECT to_timestamp(x.now) AS now) n,"
    "   LATERAL (SELECT coalesce(to_timestamp(x.start), n.now) AS s,"
    "    coalesce(to_timestamp(x.\"end\"), n.now + make_interval(mins => x.asap_min)) AS e) w"
    "  WHERE x.asap OR (s >= n.now + make_interval(mins => x.lead) AND e > s AND e <= s + interval '24 "
    "hours')"
    "  RETURNING " +
    columns() +
    "),"
    " h AS (INSERT INTO order_history (order_id, from_status, to_status, actor_id, actor_role, reason)"
    "  SELECT x.id, NULL, 'created', x.actor_id, x.actor_role, x.reason FROM o JOIN x ON x.id = o.id::uuid)"
    " SELECT * FROM o";
const std::string sql_find = "SELECT " + columns() + " FROM orders WHERE id = $1::uuid";
const std::string sql_list_family =
    "SELECT " + columns() +
    " FROM orders WHERE family_id = $1::uuid AND ($2::text IS NULL OR status = $2)"
    " AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))"
    " ORDER BY created_at DESC, id DESC LIMIT $5";
const std::string sql_list_community =
    "SELECT " + columns() +
    " FROM orders WHERE community_id = $1"
    " AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))"
    " ORDER BY created_at DESC, id DESC LIMIT $4";
const std::string sql_waiting =
    "SELECT " + columns() +
    " FROM orders WHERE community_id BETWEEN $1 * 1000 AND $1 * 1000 + 999"
    " AND status IN ('created', 'matching', 'offered') AND ($2::uuid IS NULL OR id > $2::uuid)"
    " ORDER BY id LIMIT $3";
const std::string sql_history =
    std::string(
        "SELECT coalesce(from_status, ''), to_status, actor_id, actor_role, reason,"
        " to_char(at AT TIME ZONE 'UTC', ") +
    iso + ") FROM order_history WHERE order_id = $1::uuid ORDER BY id";
// Without a `from` (a transition that may start from several states), the state the order was in is its last
// history row's: every change writes one under the order's row lock.
constexpr const char* sql_add_history =
    "INSERT INTO order_history (order_id, from_status, to_status, actor_id, actor_role, reason)"
    " VALUES ($1::uuid, coalesce($2, (SELECT h.to_status FROM order_history h WHERE h.order_id = $1::uuid"
    " ORDER BY h.id DESC LIMIT 1)), $3, $4, $5, $6)";
const std::string sql_transition =
    "UPDATE orders SET status = $2,"
    " worker_id = CASE WHEN $7 THEN NULL ELSE coalesce($5::uuid, worker_id) END,"
    " org_id = CASE WHEN $7 THEN NULL ELSE coalesce($6::uuid, org_id) END,"
    " second_worker_id = CASE WHEN $7 THEN NULL ELSE coalesce($10::uuid, second_worker_id) END,"
    " second_org_id = CASE WHEN $7 THEN NULL ELSE coalesce($11::uuid, second_org_id) END,"
    " cancellation_fee_fen = CASE WHEN $8 >= 0 THEN $8 ELSE cancellation_fee_fen END,"
    " attempt = attempt + CASE WHEN $9 OR status = 'offered' THEN 1 ELSE 0 END, updated_at = now()"
    " WHERE id = $1::uuid AND status = ANY($3::text[]) AND ($4::int IS NULL OR attempt = $4)"
    // An offer names as many workers as the order's crew.
    " AND ($2 <> 'offered' OR ($10::uuid IS NOT NULL) = (crew = 2))"
    " RETURNING " +
    columns();
template <class T>
std::optional<T> opt(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<T>(f.as<T>());
}

order_row read(const pqxx::row& r) {
    order_row o;
    o.id = r[0].as<std::string>();
    o.family_id = r[1].as<std::string>();
    o.recipient_id = r[2].as<std::string>();
    o.community_id = r[3].as<std::int64_t>();
    o.kind = r[4].as<std::string>();
    o.sub_type = r[5].as<std::string>();
    o.status = r[6].as<std::string>();
    o.asap = r[7].as<bool>();
    o.window_start = r[8].as<std::string>();
    o.window_end = r[9].as<std::string>();
    o.address_sealed = opt<std::string>(r[10]);
    o.lat = opt<double>(r[11]);
    o.lon = opt<double>(r[12]);
    o.notes_sealed = opt<std::string>(r[13]);
    o.price_fen = r[14].as<std::int64_t>();
    o.subsidy_fen = r[15].as<std::int64_t>();
    o.family_fen = r[16].as<std::int64_t>();
    o.cancellation_fee_fen = r[17].as<std::int64_t>();
    o.service_code = r[18].as<std::string>();
    o.worker_id = opt<std::string>(r[19]);
    o.org_id = opt<std::string>(r[20]);
    o.attempt = r[21].as<int>();
    o.created_at = r[22].as<std::string>();
    o.updated_at = r[23].as<std::string>();
    o.crew = r[24].as<int>();
    o.second_worker_id = opt<std::string>(r[25]);
    o.second_org_id = opt<std::string>(r[26]);
    return o;
}

std::vector<order_row> read_all(const pqxx::result& res) {
    std::vector<order_row> out;
    for (const auto& r : res) {
        out.push_back(read(r));
    }
    return out;
}

}  // namespace

std::vector<std::optional<order_row>> insert_orders(pqxx::work& tx, const std::vector<new_order>& orders) {
    std::vector<std::optional<order_row>> out(orders.size());
    if (orders.empty()) {
        return out;
    }
    auto seconds = [](core::clock::time_point t) {
        return std::chrono::duration<double>(t.time_since_epoch()).count();
    };
    auto or_null = [](const auto& v) { return v ? boost::json::value(*v) : boost::json::value(nullptr); };
    boost::json::array rows;
    for (const auto& o : orders) {
        const auto& r = o.row;
        rows.push_back(boost::json::object{
            {"id", r.id},
            {"family_id", r.family_id},
            {"recipient_id", r.recipient_id},
            {"community_id", r.community_id},
            {"kind", r.kind},
            {"sub_type", r.sub_type},
            {"asap", r.asap},
            {"start", o.start ? boost::json::value(seconds(*o.start)) : boost::json::value(nullptr)},
            {"end", o.end ? boost::json::value(seconds(*o.end)) : boost::json::value(nullptr)},
            {"address_sealed", or_null(r.address_sealed)},
            {"lat", or_null(r.lat)},
            {"lon", or_null(r.lon)},
            {"notes_sealed", or_null(r.notes_sealed)},
            {"price_fen", r.price_fen},
            {"subsidy_fen", r.subsidy_fen},
            {"family_fen", r.family_fen},
            {"service_code", r.service_code},
            {"lead", o.lead_minutes},
            {"asap_min", o.asap_minutes},
            {"now", seconds(o.now)},
            {"actor_id", o.actor_id},
            {"actor_role", o.actor_role},
            {"reason", o.reason},
            {"crew", r.crew}});
    }
    std::map<std::string, std::size_t> at;
    for (std::size_t i = 0; i < orders.size(); ++i) {
        at.emplace(orders[i].row.id, i);
    }
    for (const auto& r : tx.exec_params(sql_insert, boost::json::serialize(rows))) {
        auto stored = read(r);
        if (auto it = at.find(stored.id); it != at.end()) {
            out[it->second] = std::move(stored);
        }
    }
    return out;
}

std::optional<order_row> find_order(pqxx::work& tx, const std::string& id) {
    auto res = tx.exec_params(sql_find, id);
    if (res.empty()) {
        return std::nullopt;
    }
    return read(res[0]);
}

std::vector<order_row> list_for_family(pqxx::work& tx,
                                       const std::string& family_id,
                                       const std::optional<std::string>& status,
                                       const std::optional<page_cursor>& after,
                                       int limit) {
    std::optional<std::string> ts;
    std::optional<std::string> id;
    if (after) {
        ts = after->created_at;
        id = after->id;
    }
    return read_all(tx.exec_params(sql_list_family, family_id, status, ts, id, limit));
}

std::vector<order_row> list_for_community(pqxx::work& tx,
                                          std::int64_t community_id,
                                          const std::optional<page_cursor>& after,
                                          int limit) {
    std::optional<std::string> ts;
    std::optional<std::string> id;
    if (after) {
        ts = after->created_at;
        id = after->id;
    }
    return read_all(tx.exec_params(sql_list_community, community_id, ts, id, limit));
}

std::vector<order_row> list_waiting(pqxx::work& tx,
                                    std::int64_t street,
                                    const std::optional<std::string>& after,
                                    int limit) {
    return read_all(tx.exec_params(sql_waiting, street, after, limit));
}

std::vector<history_row> history(pqxx::work& tx, const std::string& order_id) {
    std::vector<history_row> out;
    for (const auto& r : tx.exec_params(sql_history, order_id)) {
        out.push_back({r[0].as<std::string>(),
                       r[1].as<std::string>(),
                       r[2].as<std::string>(),
                       r[3].as<std::string>(),
                       r[4].as<std::string>(),
                       r[5].as<std::string>()});
    }
    return out;
}

void add_history(pqxx::work& tx,
                 const std::string& order_id,
                 const std::optional<std::string>& from,
                 const std::string& to,
                 const std::string& actor_id,
                 const std::string& actor_role,
                 const std::string& reason) {
    tx.exec_params(sql_add_history, order_id, from, to, actor_id, actor_role, reason);
}

std::optional<order_row> transition(pqxx::work& tx,
                                    const std::string& id,
                                    const std::vector<status>& from,
                                    status to,
                                    std::optional<int> attempt,
                                    const transition_change& change) {
    std::string states = "{";
    for (std::size_t i = 0; i < from.size(); ++i) {
        if (i > 0) {
            states += ',';
        }
        states += to_string(from[i]);
    }
    states += '}';
    auto res = tx.exec_params(sql_transition,
                              id,
                              std::string(to_string(to)),
                              states,
                              attempt,
                              change.worker_id,
                              change.org_id,
                              change.clear_worker,
                              change.cancellation_fee_fen,
                              change.bump_attempt,
                              change.second_worker_id,
                              change.second_org_id);
    if (res.empty()) {
        return std::nullopt;
    }
    return read(res[0]);
}

int seal_plain_personal_data(pqxx::work& tx, const auth::sealer& s) {
    int n = 0;
    for (const auto& r : tx.exec(
             "SELECT id::text, address, notes FROM orders WHERE address <> '' OR notes <> '' FOR UPDATE")) {
        tx.exec_params(
            "UPDATE orders SET address = '', notes = '', address_sealed = $2, notes_sealed = $3"
            " WHERE id = $1::uuid",
            r[0].as<std::string>(),
            s.seal_nonempty(r[1].as<std::string>()),
            s.seal_nonempty(r[2].as<std::string>()));
        ++n;
    }
    // Facts seen before identity sealed addresses in recipient.saved: the address is sealed in place.
    for (const auto& r : tx.exec("SELECT recipient_id::text, facts->>'address' FROM recipients_seen"
                                 " WHERE facts ? 'address' FOR UPDATE")) {
        tx.exec_params(
            "UPDATE recipients_seen SET facts = (facts - 'address') ||"
            " jsonb_build_object('address_sealed', $2::text) WHERE recipient_id = $1::uuid",
            r[0].as<std::string>(),
            s.seal_nullable(opt<std::string>(r[1])));
        ++n;
    }
    tx.exec("ALTER TABLE orders VALIDATE CONSTRAINT orders_no_plain_personal_data");
    return n;
}

}  // namespace carematch::orders::repo
