// complaints' SQL.
#include "store.hpp"

#include <carematch/db/pool.hpp>

namespace carematch::complaints::store {
namespace {

#define CM_ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const std::string columns =
    "id::text, source, order_id::text, review_id::text, family_id::text, org_id::text, worker_id::text,"
    " community_id, category, severity, text, state, version, assignee::text, transfers, escalated, " CM_ISO(
        "created_at") ", extract(epoch FROM sign_due)::float8, extract(epoch FROM resolve_due)::float8,"
                      " extract(epoch FROM created_at)::float8, " CM_ISO(
                          "signed_at") ", sign_warned, sign_breached, resolve_warned, resolve_breached, outcome,"
                                       " measures, refund_fen, extract(epoch FROM resolved_at)::float8,"
                                       " family_confirmed, satisfaction, reopens, " CM_ISO(
                                           "provider_asked_at") ", provider_question, " CM_ISO("provider_due") ", " CM_ISO(
                                           "provider_answered_at") ", provider_response, provider_breached";

template <class T>
std::optional<T> opt(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<T>(f.as<T>());
}

ticket read(const pqxx::row& r) {
    ticket t;
    t.id = r[0].as<std::string>();
    t.source = r[1].as<std::string>();
    t.order_id = opt<std::string>(r[2]);
    t.review_id = opt<std::string>(r[3]);
    t.family_id = opt<std::string>(r[4]);
    t.org_id = opt<std::string>(r[5]);
    t.worker_id = opt<std::string>(r[6]);
    t.community_id = r[7].as<std::int64_t>();
    t.category = r[8].as<std::string>();
    t.severity = r[9].as<std::string>();
    t.text = r[10].as<std::string>();
    t.state = r[11].as<std::string>();
    t.version = r[12].as<int>();
    t.assignee = opt<std::string>(r[13]);
    t.transfers = r[14].as<int>();
    t.escalated = r[15].as<bool>();
    t.created_at = r[16].as<std::string>();
    t.sign_due = r[17].as<double>();
    t.resolve_due = r[18].as<double>();
    t.created_s = r[19].as<double>();
    t.signed_at = opt<std::string>(r[20]);
    t.sign_warned = r[21].as<bool>();
    t.sign_breached = r[22].as<bool>();
    t.resolve_warned = r[23].as<bool>();
    t.resolve_breached = r[24].as<bool>();
    t.outcome = opt<std::string>(r[25]);
    t.measures = opt<std::string>(r[26]);
    t.refund_fen = opt<std::int64_t>(r[27]);
    t.resolved_s = opt<double>(r[28]);
    t.family_confirmed = r[29].as<bool>();
    t.satisfaction = opt<int>(r[30]);
    t.reopens = r[31].as<int>();
    t.provider_asked_at = opt<std::string>(r[32]);
    t.provider_question = opt<std::string>(r[33]);
    t.provider_due = opt<std::string>(r[34]);
    t.provider_answered_at = opt<std::string>(r[35]);
    t.provider_response = opt<std::string>(r[36]);
    t.provider_breached = r[37].as<bool>();
    return t;
}

}  // namespace

bool insert(pqxx::work& tx, const ticket& t) {
    return !tx.exec_params(
                  "INSERT INTO tickets (id, source, order_id, review_id, family_id, org_id, worker_id, "
                  "community_id,"
                  " category, severity, text, state, created_at, sign_due, resolve_due)"
                  " VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5::uuid, $6::uuid, $7::uuid, $8, $9, $10, "
                  "$11, 'open',"
                  " to_timestamp($12::float8), to_timestamp($13::float8), to_timestamp($14::float8))"
                  " ON CONFLICT (review_id) DO NOTHING RETURNING id",
                  t.id,
                  t.source,
                  t.order_id,
                  t.review_id,
                  t.family_id,
                  t.org_id,
                  t.worker_id,
                  t.community_id,
                  t.category,
                  t.severity,
                  t.text,
                  t.created_s,
                  t.sign_due,
                  t.resolve_due)
                .empty();
}

std::optional<ticket> find(pqxx::work& tx, const std::string& id) {
    auto r = tx.exec_params("SELECT " + columns + " FROM tickets WHERE id = $1::uuid", id);
    return r.empty() ? std::nullopt : std::optional<ticket>(read(r[0]));
}

std::vector<ticket> list(pqxx::work& tx, const query& q) {
    std::optional<std::string> communities;
    if (q.communities) {
        communities = db::int_array(*q.communities);
    }
    std::optional<std::string> after_rank;
    std::optional<std::string> after_id;
    if (q.after) {
        after_rank = q.after->first;
        after_id = q.after->second;
    }
    // rank: severity (0 urgent, 1 high, 2 normal) and the resolve clock's end in ms, as one sortable text.
    const std::string rank =
        "(CASE severity WHEN 'urgent' THEN '0' WHEN 'high' THEN '1' ELSE '2' END ||"
        " lpad((extract(epoch FROM resolve_due) * 1000)::bigint::text, 16, '0'))";
    std::vector<ticket> out;
    for (const auto& r : tx.exec_params(
             "SELECT " + columns + ", " + rank +
                 " FROM tickets WHERE ($1::bigint[] IS NULL OR community_id = ANY($1::bigint[]))"
                 " AND ($2::uuid IS NULL OR family_id = $2::uuid) AND ($3::uuid IS NULL OR org_id = $3::uuid)"
                 " AND ($4::text IS NULL OR state = $4) AND ($5::text IS NULL OR severity = $5)"
                 " AND ($6::float8 IS NULL OR resolve_due < to_timestamp($6::float8))"
                 " AND ($10::boolean IS NULL OR escalated = $10::boolean)"
                 " AND ($7::text IS NULL OR (" +
                 rank +
                 ", id) > ($7::text, $8::uuid))"
                 " ORDER BY " +
                 rank + ", id LIMIT $9",
             communities,
             q.family_id,
             q.org_id,
             q.state,
             q.severity,
             q.due_before,
             after_rank,
             after_id,
             q.limit,
             q.escalated)) {
        out.push_back(read(r));
        out.back().rank = r[38].as<std::string>();
    }
    return out;
}

std::vector<ticket> due_for_sla(pqxx::work& tx, double now, double warn_fraction, int limit) {
    std::vector<ticket> out;
    for (const auto& r : tx.exec_params(
             "SELECT " + columns +
                 " FROM tickets WHERE state <> 'closed' AND ("
                 "  (state = 'open' AND signed_at IS NULL AND NOT sign_breached AND"
                 "   to_timestamp($1::float8) >= created_at + (sign_due - created_at) * $2::float8)"
                 "  OR (state IN ('open', 'claimed') AND NOT resolve_breached AND"
                 "   to_timestamp($1::float8) >= created_at + (resolve_due - created_at) * $2::float8))"
                 " ORDER BY resolve_due LIMIT $3",
             now,
             warn_fraction,
             limit)) {
        out.push_back(read(r));
    }
    return out;
}

void note(pqxx::work& tx,
          const std::string& ticket_id,
          double at,
          const std::string& actor,
          const std::string& role,
          const std::string& action,
          const std::string& text,
          bool internal) {
    tx.exec_params(
        "INSERT INTO timeline (ticket_id, at, actor_id, actor_role, action, note, internal)"
        " VALUES ($1::uuid, to_timestamp($2::float8), $3, $4, $5, $6, $7)",
        ticket_id,
        at,
        actor,
        role,
        action,
        text,
        internal);
}

std::vector<timeline_row> timeline(pqxx::work& tx, const std::string& ticket_id, bool with_internal) {
    std::vector<timeline_row> out;
    for (const auto& r : tx.exec_params(
             "SELECT " CM_ISO("at") ", actor_id, actor_role, action, note, internal"
                                    " FROM timeline WHERE ticket_id = $1::uuid AND ($2 OR NOT internal)"
                                    " ORDER BY id",
             ticket_id,
             with_internal)) {
        out.push_back({r[0].as<std::string>(),
                       r[1].as<std::string>(),
                       r[2].as<std::string>(),
                       r[3].as<std::string>(),
                       r[4].as<std::string>(),
                       r[5].as<bool>()});
    }
    return out;
}

#undef CM_ISO

}  // namespace carematch::complaints::store
