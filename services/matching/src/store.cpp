// matching's SQL.
#include "store.hpp"

#include <carematch/db/pool.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>

namespace carematch::matching::store {
namespace {

#define CM_ORDER_COLUMNS(o)                                                                                \
    o "order_id::text, " o "street, " o "community_id, " o "recipient_id::text, " o "kind, " o             \
      "sub_type, " o "lat, " o "lon, extract(epoch FROM " o "window_start)::float8, extract(epoch FROM " o \
      "window_end)::float8, " o "asap, extract(epoch FROM " o "deadline)::float8, " o "ability_level, " o  \
      "priority_categories, " o "gender_preference, " o "attempt, " o "state, extract(epoch FROM " o       \
      "created_at)::float8, " o "crew"
constexpr const char* order_columns = CM_ORDER_COLUMNS("");
constexpr const char* order_columns_o = CM_ORDER_COLUMNS("o.");
#undef CM_ORDER_COLUMNS

template <class T>
std::optional<T> opt(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<T>(f.as<T>());
}

open_order read_order(const pqxx::row& r, int at = 0) {
    open_order o;
    o.id = r[at + 0].as<std::string>();
    o.street = r[at + 1].as<std::int64_t>();
    o.community_id = r[at + 2].as<std::int64_t>();
    o.recipient_id = r[at + 3].as<std::string>();
    o.kind = r[at + 4].as<std::string>();
    o.sub_type = r[at + 5].as<std::string>();
    o.lat = opt<double>(r[at + 6]);
    o.lon = opt<double>(r[at + 7]);
    o.window_start = r[at + 8].as<double>();
    o.window_end = r[at + 9].as<double>();
    o.asap = r[at + 10].as<bool>();
    o.deadline = r[at + 11].as<double>();
    o.ability_level = r[at + 12].as<int>();
    o.priority_categories = r[at + 13].as<int>();
    o.gender_preference = opt<std::string>(r[at + 14]);
    o.attempt = r[at + 15].as<int>();
    o.state = r[at + 16].as<std::string>();
    o.created_at = r[at + 17].as<double>();
    o.crew = r[at + 18].as<int>();
    return o;
}

// The other seat of a crew: its offer in flight, else its active assignment.
#define CM_PARTNER(column)                                                                \
    "coalesce((SELECT p." column                                                          \
    "::text FROM offers p WHERE p.order_id = f.order_id AND p.seat <> f.seat"             \
    " AND p.state IN ('pending', 'live', 'accepting', 'declining', 'expiring') LIMIT 1)," \
    " (SELECT a." column                                                                  \
    "::text FROM assignments a WHERE a.order_id = f.order_id AND a.seat <> f.seat"        \
    " AND a.active LIMIT 1))"
constexpr const char* offer_columns =
    "f.id::text, f.order_id::text, f.worker_id::text, f.org_id::text, f.street, f.attempt, f.state, f.reason,"
    " f.travel_min, extract(epoch FROM f.created_at)::float8, extract(epoch FROM f.expires_at)::float8,"
    " f.seat, " CM_PARTNER("worker_id") ", " CM_PARTNER("org_id") ","
    " (SELECT c.crew FROM open_orders c WHERE c.order_id = f.order_id)";
#undef CM_PARTNER
constexpr int offer_width = 15;

offer read_offer(const pqxx::row& r) {
    offer o;
    o.id = r[0].as<std::string>();
    o.order_id = r[1].as<std::string>();
    o.worker_id = r[2].as<std::string>();
    o.org_id = r[3].as<std::string>();
    o.street = r[4].as<std::int64_t>();
    o.attempt = opt<int>(r[5]);
    o.state = r[6].as<std::string>();
    o.reason = r[7].as<std::string>();
    o.travel_min = r[8].as<double>();
    o.created_at = r[9].as<double>();
    o.expires_at = r[10].as<double>();
    o.seat = r[11].as<int>();
    o.partner_worker = opt<std::string>(r[12]);
    o.partner_org = opt<std::string>(r[13]);
    o.crew = r[14].is_null() ? 1 : r[14].as<int>();
    return o;
}

const std::string in_flight = "('pending', 'live', 'accepting', 'declining', 'expiring')";

std::vector<std::string> ids_of_orders(const std::vector<open_order>& orders) {
    std::vector<std::string> out;
    out.reserve(orders.size());
    for (const auto& o : orders) {
        out.push_back(o.id);
    }
    return out;
}

}  // namespace

void upsert_created(pqxx::work& tx, const open_order& o) {
    upsert_created(tx, std::vector<open_order>{o});
}

void upsert_created(pqxx::work& tx, const std::vector<open_order>& orders) {
    if (orders.empty()) {
        return;
    }
    // One JSON array for the lot (nulls and all): one statement for a read's many.
    auto or_null = [](const auto& v) { return v ? boost::json::value(*v) : boost::json::value(nullptr); };
    boost::json::array rows;
    for (const auto& o : orders) {
        rows.push_back(boost::json::object{{"order_id", o.id},
                                           {"street", o.street},
                                           {"community_id", o.community_id},
                                           {"recipient_id", o.recipient_id},
                                           {"kind", o.kind},
                                           {"sub_type", o.sub_type},
                                           {"lat", or_null(o.lat)},
                                           {"lon", or_null(o.lon)},
                                           {"window_start", o.window_start},
                                           {"window_end", o.window_end},
                                           {"asap", o.asap},
                                           {"deadline", o.deadline},
                                           {"ability_level", std::clamp(o.ability_level, 0, 4)},
                                           {"priority_categories", std::max(0, o.priority_categories)},
                                           {"gender_preference", or_null(o.gender_preference)},
                                           {"attempt", o.attempt},
                                           {"state", o.state},
                                           {"created_at", o.created_at},
                                           {"family_id", o.family_id},
                                           {"crew", std::clamp(o.crew, 1, 2)}});
    }
    tx.exec_params(
        "INSERT INTO open_orders (order_id, street, community_id, recipient_id, kind, sub_type, lat, lon,"
        " window_start, window_end, asap, deadline, ability_level, priority_categories, gender_preference,"
        " attempt, state, created_at, family_id, crew)"
        " SELECT order_id, street, community_id, recipient_id, kind, sub_type, lat, lon,"
        " to_timestamp(window_start), to_timestamp(window_end), asap, to_timestamp(deadline), ability_level,"
        " priority_categories, gender_preference, attempt, state, to_timestamp(created_at),"
        " NULLIF(family_id, '')::uuid, crew"
        " FROM jsonb_to_recordset($1::jsonb) AS x(order_id uuid, street bigint, community_id bigint,"
        " recipient_id uuid, kind text, sub_type text, lat float8, lon float8, window_start float8,"
        " window_end float8, asap boolean, deadline float8, ability_level int, priority_categories int,"
        " gender_preference text, attempt int, state text, created_at float8, family_id text, crew int)"
        " ON CONFLICT (order_id) DO UPDATE SET ability_level = excluded.ability_level,"
        " priority_categories = excluded.priority_categories, gender_preference = excluded.gender_preference,"
        " family_id = coalesce(open_orders.family_id, excluded.family_id)",
        boost::json::serialize(rows));
}

std::optional<std::string> close_order(pqxx::work& tx,
                                       const std::string& order_id,
                                       bool completed,
                                       double completed_at) {
    tx.exec_params("UPDATE open_orders SET state = 'closed', updated_at = now() WHERE order_id = $1::uuid",
                   order_id);
    tx.exec_params(
        "UPDATE offers SET state = 'void', changed_at = now() WHERE order_id = $1::uuid AND state IN " +
            in_flight,
        order_id);
    // A job done sooner than planned frees its worker from then on: the ledger keeps the time it really took
    // (a job done before its window even began holds no time at all).
    auto r = tx.exec_params(
        "UPDATE assignments SET"
        " active = active AND $2 AND NOT ($3::float8 > 0 AND to_timestamp($3::float8) <= lower(during)),"
        " during = CASE WHEN $3::float8 > 0 AND to_timestamp($3::float8) > lower(during)"
        "               AND to_timestamp($3::float8) < upper(during)"
        "          THEN tstzrange(lower(during), to_timestamp($3::float8)) ELSE during END"
        " WHERE order_id = $1::uuid RETURNING worker_id::text",
        order_id,
        completed,
        completed ? completed_at : 0.0);
    return r.empty() ? std::nullopt : std::optional<std::string>(r[0][0].as<std::string>());
}

int meals_held(pqxx::work& tx, const std::string& org, const std::string& slot, double day_start) {
    return tx
        .exec_params1(
            "SELECT count(*) FROM open_orders o WHERE o.kind = 'meal' AND o.sub_type = $2"
            " AND o.window_start >= to_timestamp($3) AND o.window_start < to_timestamp($3) + interval '1 day'"
            " AND (EXISTS (SELECT 1 FROM offers f WHERE f.order_id = o.order_id AND f.org_id = $1::uuid"
            "              AND f.state IN " +
                in_flight +
                ")"
                "      OR EXISTS (SELECT 1 FROM assignments a WHERE a.order_id = o.order_id AND a.org_id = "
                "$1::uuid"
                "              AND a.active))",
            org,
            slot,
            day_start)[0]
        .as<int>();
}

bool hold_meal(
    pqxx::work& tx, const std::string& org, const std::string& slot, double day_start, int capacity) {
    tx.exec_params(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        "carematch.meals." + org + "." + slot + "." + std::to_string(static_cast<long long>(day_start)));
    return meals_held(tx, org, slot, day_start) < capacity;
}

std::optional<open_order> find_order(pqxx::work& tx, const std::string& order_id) {
    auto r = tx.exec_params(
        std::string("SELECT ") + order_columns + " FROM open_orders WHERE order_id = $1::uuid", order_id);
    return r.empty() ? std::nullopt : std::optional<open_order>(read_order(r[0]));
}

std::optional<open_order> lock_order(pqxx::work& tx, const std::string& order_id) {
    auto r = tx.exec_params(
        std::string("SELECT ") + order_columns + " FROM open_orders WHERE order_id = $1::uuid FOR UPDATE",
        order_id);
    return r.empty() ? std::nullopt : std::optional<open_order>(read_order(r[0]));
}

int other_seats_held(pqxx::work& tx, const std::string& order_id, int seat) {
    return tx
        .exec_params1("SELECT count(*) FROM assignments WHERE order_id = $1::uuid AND seat <> $2 AND active",
                      order_id,
                      seat)[0]
        .as<int>();
}

std::vector<open_order> waiting(pqxx::work& tx, std::int64_t street, int limit) {
    std::vector<open_order> out;
    for (const auto& r : tx.exec_params(std::string("SELECT ") + order_columns +
                                            " FROM open_orders WHERE street = $1 AND state = 'waiting'"
                                            " ORDER BY created_at LIMIT $2",
                                        street,
                                        limit)) {
        out.push_back(read_order(r));
    }
    return out;
}

std::vector<open_order> overdue(pqxx::work& tx,
                                const std::vector<std::int64_t>& streets,
                                double now,
                                int limit) {
    std::vector<open_order> out;
    for (const auto& r : tx.exec_params(std::string("SELECT ") + order_columns +
                                            " FROM open_orders WHERE street = ANY($1::bigint[])"
                                            " AND state = 'waiting' AND deadline <= to_timestamp($2)"
                                            " ORDER BY deadline LIMIT $3",
                                        db::int_array(streets),
                                        now,
                                        limit)) {
        out.push_back(read_order(r));
    }
    return out;
}

void set_state(pqxx::work& tx,
               const std::string& order_id,
               const std::string& state,
               std::optional<int> attempt) {
    tx.exec_params(
        "UPDATE open_orders SET state = $2, attempt = coalesce($3, attempt), updated_at = now()"
        " WHERE order_id = $1::uuid AND state <> 'closed'",
        order_id,
        state,
        attempt);
}

// ---- leases ----

std::vector<lease> sync_leases(pqxx::work& tx,
                               const std::string& owner,
                               const std::vector<std::int64_t>& streets,
                               std::int64_t lease_ms) {
    const std::string all = db::int_array(streets);
    tx.exec_params(
        "INSERT INTO members (owner, seen_at) VALUES ($1, now())"
        " ON CONFLICT (owner) DO UPDATE SET seen_at = now()",
        owner);
    tx.exec_params(
        "DELETE FROM members WHERE seen_at < now() - make_interval(secs => $1::float8 * 10 / 1000)",
        lease_ms);
    tx.exec_params(
        "INSERT INTO street_leases (street, owner, token, expires_at)"
        " SELECT s, '', 0, '-infinity' FROM unnest($1::bigint[]) AS s ON CONFLICT (street) DO NOTHING",
        all);
    // Live members: heard from within one lease period (a process renews every tick, well inside it).
    const auto members =
        tx.exec_params(
              "SELECT count(*) FROM members WHERE seen_at > now() - make_interval(secs => $1::float8 / 1000)",
              lease_ms)[0][0]
            .as<std::int64_t>();
    const auto share = static_cast<std::int64_t>(
        (static_cast<std::int64_t>(streets.size()) + std::max<std::int64_t>(1, members) - 1) /
        std::max<std::int64_t>(1, members));
    // Renew what is still ours.
    std::vector<lease> mine;
    for (const auto& r : tx.exec_params(
             "UPDATE street_leases SET expires_at = now() + make_interval(secs => $2::float8 / 1000)"
             " WHERE owner = $1 AND expires_at > now() AND street = ANY($3::bigint[])"
             " RETURNING street, token",
             owner,
             lease_ms,
             all)) {
        mine.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>()});
    }
    std::sort(mine.begin(), mine.end(), [](const lease& a, const lease& b) { return a.street < b.street; });
    // More than a fair share: hand the rest back for another member to take.
    while (static_cast<std::int64_t>(mine.size()) > share) {
        tx.exec_params(
            "UPDATE street_leases SET owner = '', expires_at = '-infinity' WHERE street = $1 AND owner = $2",
            mine.back().street,
            owner);
        mine.pop_back();
    }
    // Less: take free or lapsed streets (a new owner moves the token on).
    const auto want = share - static_cast<std::int64_t>(mine.size());
    if (want > 0) {
        for (const auto& r : tx.exec_params(
                 "UPDATE street_leases SET owner = $1, token = token + 1,"
                 " expires_at = now() + make_interval(secs => $2::float8 / 1000)"
                 " WHERE street IN (SELECT street FROM street_leases WHERE street = ANY($3::bigint[])"
                 "   AND expires_at <= now() ORDER BY street LIMIT $4 FOR UPDATE SKIP LOCKED)"
                 " RETURNING street, token",
                 owner,
                 lease_ms,
                 all,
                 want)) {
            mine.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>()});
        }
    }
    return mine;
}

// ---- what a tick weighs ----

worker_facts facts(pqxx::work& tx,
                   const std::vector<open_order>& orders,
                   const std::vector<std::string>& workers,
                   double day_start) {
    worker_facts f;
    const std::string order_ids = db::text_array(ids_of_orders(orders));
    std::vector<std::string> recipients;
    for (const auto& o : orders) {
        recipients.push_back(o.recipient_id);
    }
    const std::string worker_ids = db::text_array(workers);
    for (const auto& r : tx.exec_params(
             "SELECT order_id::text, worker_id::text FROM exclusions WHERE order_id = ANY($1::uuid[])",
             order_ids)) {
        f.excluded[r[0].as<std::string>()].push_back(r[1].as<std::string>());
    }
    for (const auto& r :
         tx.exec_params("SELECT recipient_id::text, worker_id::text FROM continuity"
                        " WHERE recipient_id = ANY($1::uuid[]) AND worker_id = ANY($2::uuid[])",
                        db::text_array(recipients),
                        worker_ids)) {
        f.preferred[r[0].as<std::string>()].push_back(r[1].as<std::string>());
    }
    for (const auto& r : tx.exec_params("SELECT worker_id::text, count(*) FROM offers"
                                        " WHERE worker_id = ANY($1::uuid[]) AND state IN " +
                                            in_flight + " GROUP BY worker_id",
                                        worker_ids)) {
        f.open_offers[r[0].as<std::string>()] = r[1].as<int>();
    }
    // The seats of crews already taken: offered (in flight) or held.
    for (const auto& r : tx.exec_params("SELECT order_id::text, seat, worker_id::text FROM offers"
                                        " WHERE order_id = ANY($1::uuid[]) AND state IN " +
                                            in_flight +
                                            " UNION ALL SELECT order_id::text, seat, worker_id::text"
                                            " FROM assignments WHERE order_id = ANY($1::uuid[]) AND active",
                                        order_ids)) {
        f.seats[r[0].as<std::string>()].emplace_back(r[1].as<int>(), r[2].as<std::string>());
    }
    for (const auto& r :
         tx.exec_params("SELECT worker_id::text, extract(epoch FROM lower(during))::float8,"
                        " extract(epoch FROM upper(during))::float8, lower(during) >= to_timestamp($2)"
                        " FROM assignments WHERE active AND worker_id = ANY($1::uuid[]) AND upper(during) > "
                        "to_timestamp($2)",
                        worker_ids,
                        day_start)) {
        f.busy[r[0].as<std::string>()].emplace_back(r[1].as<double>(), r[2].as<double>());
        if (r[3].as<bool>()) {
            ++f.jobs_today[r[0].as<std::string>()];
        }
    }
    for (const auto& r :
         tx.exec_params("SELECT worker_id::text, score FROM worker_scores WHERE worker_id = ANY($1::uuid[])",
                        worker_ids)) {
        f.score[r[0].as<std::string>()] = r[1].as<double>();
    }
    return f;
}

// ---- offers ----

bool insert_offer(pqxx::transaction_base& tx,
                  const new_offer& o,
                  const std::string& owner,
                  std::int64_t token,
                  int max_open) {
    auto r = tx.exec_params(
        "WITH fence AS (SELECT 1 FROM street_leases WHERE street = $5 AND owner = $9 AND token = $10"
        "               AND expires_at > now() FOR SHARE),"
        " held AS (SELECT count(*) AS n FROM offers WHERE worker_id = $3::uuid AND state IN " +
            in_flight +
            "),"
            // A crew's second seat may be offered in the tick that offered its first.
            " ord AS (UPDATE open_orders SET state = 'offered', updated_at = now()"
            "   WHERE order_id = $2::uuid AND (state = 'waiting' OR (state = 'offered' AND crew = 2))"
            "   AND $12 < crew AND street = $5 AND EXISTS (SELECT 1 FROM fence)"
            "   AND NOT EXISTS (SELECT 1 FROM assignments WHERE order_id = $2::uuid AND seat = $12 AND "
            "active)"
            "   AND (SELECT n FROM held) < $11 RETURNING order_id, attempt)"
            " INSERT INTO offers (id, order_id, worker_id, org_id, street, lease_token, attempt, state,"
            "                     travel_min, created_at, expires_at, changed_at, seat)"
            " SELECT $1::uuid, order_id, $3::uuid, $4::uuid, $5, $10, attempt, 'pending', $6, "
            "to_timestamp($7),"
            "        to_timestamp($8), now(), $12 FROM ord"
            " ON CONFLICT (order_id, seat) WHERE state IN " +
            in_flight + " DO NOTHING RETURNING id",
        o.id,
        o.order_id,
        o.worker_id,
        o.org_id,
        o.street,
        o.travel_min,
        o.now,
        o.expires_at,
        owner,
        token,
        max_open,
        o.seat);
    return !r.empty();
}

std::optional<offer> find_offer(pqxx::work& tx, const std::string& id) {
    auto r =
        tx.exec_params(std::string("SELECT ") + offer_columns + " FROM offers f WHERE f.id = $1::uuid", id);
    return r.empty() ? std::nullopt : std::optional<offer>(read_offer(r[0]));
}

std::optional<offer> move_offer(pqxx::work& tx,
                                const std::string& id,
                                const std::vector<std::string>& from,
                                const std::string& to,
                                const std::optional<std::string>& worker,
                                const std::optional<std::string>& reason,
                                std::optional<double> unexpired_at,
                                std::optional<int> attempt) {
    auto r = tx.exec_params(
        std::string("UPDATE offers f SET state = $3, reason = coalesce($5, f.reason),"
                    " attempt = coalesce($7, f.attempt), changed_at = now()"
                    " WHERE f.id = $1::uuid AND f.state = ANY($2::text[])"
                    " AND ($4::uuid IS NULL OR f.worker_id = $4::uuid)"
                    " AND ($6::float8 IS NULL OR f.state <> 'live' OR f.expires_at > to_timestamp($6))"
                    " RETURNING ") +
            offer_columns,
        id,
        db::text_array(from),
        to,
        worker,
        reason,
        unexpired_at,
        attempt);
    return r.empty() ? std::nullopt : std::optional<offer>(read_offer(r[0]));
}

std::vector<offer> claim_expired(pqxx::work& tx,
                                 const std::vector<std::int64_t>& streets,
                                 double now,
                                 int limit) {
    std::vector<offer> out;
    for (const auto& r :
         tx.exec_params(std::string("UPDATE offers f SET state = 'expiring', changed_at = now()"
                                    " WHERE f.id IN (SELECT id FROM offers WHERE state = 'live'"
                                    "   AND street = ANY($1::bigint[]) AND expires_at <= to_timestamp($2)"
                                    "   ORDER BY expires_at LIMIT $3 FOR UPDATE SKIP LOCKED)"
                                    " AND f.state = 'live' RETURNING ") +
                            offer_columns,
                        db::int_array(streets),
                        now,
                        limit)) {
        out.push_back(read_offer(r));
    }
    return out;
}

std::vector<offer> stuck(pqxx::work& tx, double now, double older_than, int limit) {
    std::vector<offer> out;
    for (const auto& r :
         tx.exec_params(std::string("SELECT ") + offer_columns +
                            " FROM offers f WHERE f.state IN ('pending', 'accepting', 'declining',"
                            " 'expiring') AND f.changed_at < to_timestamp($1::float8 - $2::float8)"
                            " ORDER BY f.changed_at LIMIT $3",
                        now,
                        older_than,
                        limit)) {
        out.push_back(read_offer(r));
    }
    return out;
}

std::vector<std::pair<offer, open_order>> live_offers(pqxx::work& tx,
                                                      const std::optional<std::string>& worker,
                                                      const std::optional<std::string>& org) {
    std::vector<std::pair<offer, open_order>> out;
    for (const auto& r : tx.exec_params(std::string("SELECT ") + offer_columns + ", " + order_columns_o +
                                            " FROM offers f JOIN open_orders o ON o.order_id = f.order_id"
                                            " WHERE f.state IN ('live', 'accepting', 'declining')"
                                            " AND ($1::uuid IS NULL OR f.worker_id = $1::uuid)"
                                            " AND ($2::uuid IS NULL OR f.org_id = $2::uuid)"
                                            " ORDER BY f.expires_at LIMIT 200",
                                        worker,
                                        org)) {
        out.emplace_back(read_offer(r), read_order(r, offer_width));
    }
    return out;
}

void exclude(pqxx::work& tx,
             const std::string& order_id,
             const std::string& worker_id,
             const std::string& reason) {
    tx.exec_params(
        "INSERT INTO exclusions (order_id, worker_id, reason) VALUES ($1::uuid, $2::uuid, $3)"
        " ON CONFLICT DO NOTHING",
        order_id,
        worker_id,
        reason);
}

// ---- the assignment ledger ----

void hold(pqxx::work& tx, const offer& o, double from, double to) {
    tx.exec_params(
        "INSERT INTO assignments (order_id, worker_id, org_id, offer_id, during, seat)"
        " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, tstzrange(to_timestamp($5), to_timestamp($6)), $7)"
        " ON CONFLICT (order_id, seat) DO NOTHING",
        o.order_id,
        o.worker_id,
        o.org_id,
        o.id,
        from,
        to,
        o.seat);
}

void release(pqxx::work& tx, const std::string& order_id) {
    tx.exec_params("DELETE FROM assignments WHERE order_id = $1::uuid", order_id);
}

std::vector<job> active_jobs(pqxx::work& tx, const std::string& org) {
    std::vector<job> out;
    for (const auto& r : tx.exec_params("SELECT a.order_id::text, a.worker_id::text,"
                                        " extract(epoch FROM lower(a.during))::float8,"
                                        " extract(epoch FROM upper(a.during))::float8"
                                        " FROM assignments a JOIN open_orders o USING (order_id)"
                                        " WHERE a.org_id = $1::uuid AND a.active AND o.state = 'assigned'"
                                        " ORDER BY lower(a.during) LIMIT 200",
                                        org)) {
        out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<double>(), r[3].as<double>()});
    }
    return out;
}

void add_continuity(pqxx::work& tx, const std::string& recipient, const std::string& worker) {
    tx.exec_params(
        "INSERT INTO continuity (recipient_id, worker_id, jobs, last_at) VALUES ($1::uuid, $2::uuid, 1, "
        "now())"
        " ON CONFLICT (recipient_id, worker_id) DO UPDATE SET jobs = continuity.jobs + 1, last_at = now()",
        recipient,
        worker);
}

void set_score(pqxx::work& tx, const std::string& worker, double score) {
    tx.exec_params(
        "INSERT INTO worker_scores (worker_id, score, updated_at) VALUES ($1::uuid, $2, now())"
        " ON CONFLICT (worker_id) DO UPDATE SET score = excluded.score, updated_at = now()",
        worker,
        std::clamp(score, 1.0, 5.0));
}

}  // namespace carematch::matching::store
