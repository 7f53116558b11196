// ratings' SQL.
#include "store.hpp"

#include <carematch/db/pool.hpp>

#include <algorithm>

namespace carematch::ratings::store {
namespace {

#define CM_ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

const std::string review_columns =
    "id::text, order_id::text, family_id::text, org_id::text, worker_id::text, kind, community_id, level,"
    " dimensions::text, array_to_json(tags)::text, comment, anonymous, " CM_ISO("created_at") ", " CM_ISO(
        "updated_at") ", " CM_ISO("editable_until") ", editable_until > to_timestamp($1::float8), bad_reported,"
                       " reply, " CM_ISO("replied_at") ", appeal_state, appeal_reason, decision_note, followup_state,"
                       " second_worker_id::text";

template <class T>
std::optional<T> opt(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<T>(f.as<T>());
}

review read_review(const pqxx::row& r) {
    review v;
    v.id = r[0].as<std::string>();
    v.order_id = r[1].as<std::string>();
    v.family_id = r[2].as<std::string>();
    v.org_id = opt<std::string>(r[3]);
    v.worker_id = opt<std::string>(r[4]);
    v.kind = r[5].as<std::string>();
    v.community_id = r[6].as<std::int64_t>();
    v.level = r[7].as<int>();
    v.dimensions = r[8].as<std::string>();
    v.tags = db::json_strings(r[9].as<std::string>());
    v.comment = r[10].as<std::string>();
    v.anonymous = r[11].as<bool>();
    v.created_at = r[12].as<std::string>();
    v.updated_at = r[13].as<std::string>();
    v.editable_until = r[14].as<std::string>();
    v.editable = r[15].as<bool>();
    v.bad_reported = r[16].as<bool>();
    v.reply = opt<std::string>(r[17]);
    v.replied_at = opt<std::string>(r[18]);
    v.appeal_state = r[19].as<std::string>();
    v.appeal_reason = opt<std::string>(r[20]);
    v.decision_note = opt<std::string>(r[21]);
    v.followup_state = r[22].as<std::string>();
    v.second_worker_id = opt<std::string>(r[23]);
    return v;
}

void add_history(pqxx::work& tx, const std::string& id, double now) {
    tx.exec_params(
        "INSERT INTO review_history (review_id, level, dimensions, tags, comment, at)"
        " SELECT id, level, dimensions, tags, comment, to_timestamp($2) FROM reviews WHERE id = $1::uuid",
        id,
        now);
}

}  // namespace

double age_s(pqxx::work& tx, const std::string& order_id, double now) {
    return tx
        .exec_params(
            "SELECT $2::float8 - extract(epoch FROM completed_at)::float8 FROM served WHERE order_id = "
            "$1::uuid",
            order_id,
            now)[0][0]
        .as<double>();
}

std::optional<review> insert_review(pqxx::work& tx, const new_review& r) {
    auto res = tx.exec_params(
        "INSERT INTO reviews (id, order_id, family_id, org_id, worker_id, kind, community_id, level, "
        "dimensions, tags,"
        " comment, anonymous, created_at, updated_at, editable_until, second_worker_id)"
        " SELECT $2::uuid, s.order_id, s.family_id, s.org_id, s.worker_id, s.kind, s.community_id, $3, "
        "$4::jsonb,"
        " $5::text[], $6, $7, to_timestamp($1::float8), to_timestamp($1::float8),"
        " to_timestamp($1::float8 + $8::float8), s.second_worker_id FROM served s WHERE s.order_id = $9::uuid"
        " ON CONFLICT (order_id) DO NOTHING RETURNING id",
        r.now,
        r.id,
        r.level,
        r.dimensions,
        db::text_array(r.tags),
        r.comment,
        r.anonymous,
        r.editable_s,
        r.order_id);
    if (res.empty()) {
        return std::nullopt;
    }
    add_history(tx, r.id, r.now);
    return find_review(tx, r.id, r.now);
}

std::optional<review> edit_review(pqxx::work& tx, const std::string& id, const new_review& r) {
    auto res = tx.exec_params(
        "UPDATE reviews SET level = $3, dimensions = $4::jsonb, tags = $5::text[], comment = $6, anonymous = "
        "$7,"
        " updated_at = to_timestamp($1::float8) WHERE id = $2::uuid AND editable_until > "
        "to_timestamp($1::float8)"
        " RETURNING id",
        r.now,
        id,
        r.level,
        r.dimensions,
        db::text_array(r.tags),
        r.comment,
        r.anonymous);
    if (res.empty()) {
        return std::nullopt;
    }
    add_history(tx, id, r.now);
    return find_review(tx, id, r.now);
}

std::optional<review> find_review(pqxx::work& tx, const std::string& id, double now) {
    auto r = tx.exec_params("SELECT " + review_columns + " FROM reviews WHERE id = $2::uuid", now, id);
    return r.empty() ? std::nullopt : std::optional<review>(read_review(r[0]));
}

void mark_bad_reported(pqxx::work& tx, const std::string& id) {
    tx.exec_params("UPDATE reviews SET bad_reported = true, followup_state = 'open' WHERE id = $1::uuid", id);
}

bool set_reply(pqxx::work& tx, const std::string& id, const std::string& text, double now) {
    return tx.exec_params(
                 "UPDATE reviews SET reply = $2, replied_at = to_timestamp($3::float8)"
                 " WHERE id = $1::uuid AND reply IS NULL",
                 id,
                 text,
                 now)
               .affected_rows() == 1;
}

bool set_appeal(pqxx::work& tx, const std::string& id, const std::string& reason, double now) {
    return tx.exec_params(
                 "UPDATE reviews SET appeal_state = 'pending', appeal_reason = $2,"
                 " appealed_at = to_timestamp($3::float8) WHERE id = $1::uuid AND appeal_state = 'none'",
                 id,
                 reason,
                 now)
               .affected_rows() == 1;
}

bool decide_appeal(pqxx::work& tx,
                   const std::string& id,
                   bool overturn,
                   const std::string& note,
                   const std::string& staff,
                   double now) {
    return tx.exec_params(
                 "UPDATE reviews SET appeal_state = $2, decision_note = $3, decided_by = $4::uuid,"
                 " decided_at = to_timestamp($5::float8) WHERE id = $1::uuid AND appeal_state = 'pending'",
                 id,
                 std::string(overturn ? "overturned" : "upheld"),
                 note,
                 staff,
                 now)
               .affected_rows() == 1;
}

std::vector<review> list_reviews(pqxx::work& tx, const filter& f, double now) {
    std::optional<std::string> communities;
    if (f.communities) {
        communities = db::int_array(*f.communities);
    }
    std::optional<std::string> after_at;
    std::optional<std::string> after_id;
    if (f.after) {
        after_at = f.after->first;
        after_id = f.after->second;
    }
    std::vector<review> out;
    for (const auto& r : tx.exec_params(
             "SELECT " + review_columns +
                 " FROM reviews WHERE ($2::uuid IS NULL OR family_id = $2::uuid)"
                 " AND ($3::uuid IS NULL OR org_id = $3::uuid)"
                 " AND ($4::bigint[] IS NULL OR community_id = ANY($4::bigint[]))"
                 " AND ($5::int IS NULL OR level = $5) AND ($6::text IS NULL OR kind = $6)"
                 " AND ($7::timestamptz IS NULL OR created_at >= $7::timestamptz)"
                 " AND ($8::timestamptz IS NULL OR created_at < $8::timestamptz)"
                 " AND ($9::timestamptz IS NULL OR (created_at, id) < ($9::timestamptz, $10::uuid))"
                 " ORDER BY created_at DESC, id DESC LIMIT $11",
             now,
             f.family_id,
             f.org_id,
             communities,
             f.level,
             f.kind,
             f.from,
             f.to,
             after_at,
             after_id,
             f.limit)) {
        out.push_back(read_review(r));
    }
    return out;
}

std::pair<score, bool> refresh_score(pqxx::work& tx,
                                     const std::string& subject_type,
                                     const std::string& subject_id,
                                     double prior_mean,
                                     double prior_weight,
                                     int window_days,
                                     double now) {
    // One refresh of a subject at a time, and its reviews read after the lock: two reviews committing side by
    // side would each count without the other, and the later write would keep a count missing one.
    tx.exec_params(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))", subject_type, subject_id);
    // A worker is scored by the reviews of the jobs it served, as either worker of a crew.
    const std::string subject = subject_type == "worker"
                                    ? "(worker_id = $1::uuid OR second_worker_id = $1::uuid)"
                                    : "org_id = $1::uuid";
    auto r = tx.exec_params("SELECT level, count(*) FROM reviews WHERE " + subject +
                                " AND appeal_state <> 'overturned'"
                                " AND created_at > to_timestamp($2::float8) - make_interval(days => $3)"
                                " GROUP BY level",
                            subject_id,
                            now,
                            window_days);
    score s;
    double sum = 0;
    for (const auto& row : r) {
        const int level = row[0].as<int>();
        const int n = row[1].as<int>();
        s.counts[static_cast<std::size_t>(level - 1)] = n;
        s.count += n;
        sum += level * n;
    }
    s.value = (prior_mean * prior_weight + sum) / (prior_weight + s.count);
    s.value = std::clamp(s.value, 1.0, 5.0);
    // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on "…" + std::string chains.
    std::string counts = "{";
    for (std::size_t i = 0; i < s.counts.size(); ++i) {
        if (i > 0) {
            counts += ',';
        }
        counts += std::to_string(s.counts[i]);
    }
    counts += '}';
    auto before = find_score(tx, subject_type, subject_id);
    tx.exec_params(
        "INSERT INTO scores (subject_type, subject_id, score, count, counts, updated_at)"
        " VALUES ($1, $2::uuid, $3, $4, $5::int[], to_timestamp($6::float8))"
        " ON CONFLICT (subject_type, subject_id) DO UPDATE SET score = excluded.score, count = "
        "excluded.count,"
        " counts = excluded.counts, updated_at = excluded.updated_at",
        subject_type,
        subject_id,
        s.value,
        s.count,
        counts,
        now);
    const bool changed = !before || before->count != s.count || std::abs(before->value - s.value) > 1e-9;
    return {s, changed};
}

std::optional<score> find_score(pqxx::work& tx,
                                const std::string& subject_type,
                                const std::string& subject_id) {
    auto r = tx.exec_params(
        "SELECT score, count, counts[1], counts[2], counts[3], counts[4], counts[5] FROM scores"
        " WHERE subject_type = $1 AND subject_id = $2::uuid",
        subject_type,
        subject_id);
    if (r.empty()) {
        return std::nullopt;
    }
    score s;
    s.value = r[0][0].as<double>();
    s.count = r[0][1].as<int>();
    for (std::size_t i = 0; i < 5; ++i) {
        s.counts[i] = r[0][static_cast<int>(i) + 2].as<int>();
    }
    return s;
}

std::vector<ranking_row> ranking(pqxx::work& tx,
                                 std::int64_t community,
                                 double from_s,
                                 double to_s,
                                 double prior_mean,
                                 double prior_weight) {
    std::vector<ranking_row> out;
    for (const auto& r : tx.exec_params(
             "SELECT org_id::text, count(*), avg(level)::float8,"
             " ($3::float8 * $4::float8 + sum(level)) / ($4::float8 + count(*)),"
             " avg((level <= 2)::int)::float8,"
             " coalesce(avg((followup_state = 'done')::int) FILTER (WHERE level <= 2), 1)::float8"
             " FROM reviews WHERE community_id = $1 AND org_id IS NOT NULL AND appeal_state <> 'overturned'"
             " AND created_at >= to_timestamp($2::float8) AND created_at < to_timestamp($5::float8)"
             " GROUP BY org_id ORDER BY 4 DESC, 2 DESC, 1",
             community,
             from_s,
             prior_mean,
             prior_weight,
             to_s)) {
        out.push_back({r[0].as<std::string>(),
                       r[1].as<int>(),
                       r[2].as<double>(),
                       r[3].as<double>(),
                       r[4].as<double>(),
                       r[5].as<double>()});
    }
    return out;
}

#undef CM_ISO

}  // namespace carematch::ratings::store
