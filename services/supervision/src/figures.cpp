// The figures staff read, computed from the read models over a span of local days.
#include "figures.hpp"

#include <boost/json.hpp>

#include <sstream>

namespace carematch::supervision {

namespace json = boost::json;

namespace {

// The local calendar day of a timestamptz column, at the offset in parameter $4 (minutes).
std::string day_of(const std::string& column) {
    return "((" + column + " AT TIME ZONE 'UTC') + make_interval(mins => $4::int))::date";
}

json::value maybe(const pqxx::field& f) {
    return f.is_null() ? json::value(nullptr) : json::value(f.as<double>());
}

json::value ratio(long long part, long long whole) {
    return whole == 0 ? json::value(nullptr)
                      : json::value(static_cast<double>(part) / static_cast<double>(whole));
}

std::string communities_array(const std::vector<std::int64_t>& ids) {
    std::string out = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += std::to_string(ids[i]);
    }
    return out + "}";
}

// Rows keyed by day ("" for the whole span).
using rows = std::map<std::string, json::object>;

void orders(pqxx::work& tx, const span& s, rows& out) {
    const std::string sql =
        "SELECT coalesce(d::text, ''), count(*), count(*) FILTER (WHERE state = 'completed'),"
        " count(*) FILTER (WHERE state = 'cancelled'), count(*) FILTER (WHERE state = 'expired'),"
        " count(*) FILTER (WHERE state = 'failed'), count(*) FILTER (WHERE state = 'expired' AND priority),"
        " count(*) FILTER (WHERE priority),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM assigned_at - created_at))"
        "   FILTER (WHERE assigned_at IS NOT NULL),"
        " percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM assigned_at - created_at))"
        "   FILTER (WHERE assigned_at IS NOT NULL)"
        " FROM (SELECT *, " +
        day_of("created_at") +
        " AS d FROM orders_seen WHERE community_id = ANY($1::bigint[]) AND created_at IS NOT NULL) o"
        " WHERE d BETWEEN $2::date AND $3::date GROUP BY GROUPING SETS ((d), ())";
    for (const auto& r :
         tx.exec_params(sql, communities_array(s.communities), s.from, s.to, s.utc_offset_minutes)) {
        const auto completed = r[2].as<long long>(), expired = r[4].as<long long>(),
                   failed = r[5].as<long long>();
        out[r[0].as<std::string>()]["orders"] =
            json::object{{"created", r[1].as<long long>()},
                         {"completed", completed},
                         {"cancelled", r[3].as<long long>()},
                         {"expired", expired},
                         {"failed", failed},
                         {"priority", r[7].as<long long>()},
                         {"expired_priority", r[6].as<long long>()},
                         {"fulfilment_rate", ratio(completed, completed + expired + failed)},
                         {"assigned_after_s", json::object{{"p50", maybe(r[8])}, {"p95", maybe(r[9])}}}};
    }
}

void ratings(pqxx::work& tx, const span& s, rows& out) {
    const std::string sql =
        "SELECT coalesce(d::text, ''), count(*), count(*) FILTER (WHERE level = 1), count(*) FILTER (WHERE "
        "level = 2),"
        " count(*) FILTER (WHERE level = 3), count(*) FILTER (WHERE level = 4), count(*) FILTER (WHERE level "
        "= 5),"
        " avg(level)::float8, count(*) FILTER (WHERE level <= 2 AND followed_up)"
        " FROM (SELECT *, " +
        day_of("created_at") +
        " AS d FROM reviews_seen WHERE community_id = ANY($1::bigint[])) r"
        " WHERE d BETWEEN $2::date AND $3::date GROUP BY GROUPING SETS ((d), ())";
    for (const auto& r :
         tx.exec_params(sql, communities_array(s.communities), s.from, s.to, s.utc_offset_minutes)) {
        const auto bad = r[2].as<long long>() + r[3].as<long long>();
        out[r[0].as<std::string>()]["ratings"] =
            json::object{{"count", r[1].as<long long>()},
                         {"by_level",
                          json::array{r[2].as<long long>(),
                                      r[3].as<long long>(),
                                      r[4].as<long long>(),
                                      r[5].as<long long>(),
                                      r[6].as<long long>()}},
                         {"mean_level", maybe(r[7])},
                         {"bad", bad},
                         {"bad_followed_up", r[8].as<long long>()},
                         {"followup_rate", ratio(r[8].as<long long>(), bad)}};
    }
}

void set_backlog(json::object& row, long long n) {
    auto& c = row["complaints"];
    if (!c.is_object()) {
        c.emplace_object();
    }
    c.as_object()["backlog"] = n;
}

void complaints(pqxx::work& tx, const span& s, rows& out) {
    const std::string sql =
        "SELECT coalesce(d::text, ''), count(*), count(*) FILTER (WHERE breached),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - filed_at) / 3600)"
        "   FILTER (WHERE resolved_at IS NOT NULL),"
        " count(*) FILTER (WHERE reopened > 0), count(*) FILTER (WHERE resolved_at IS NOT NULL)"
        " FROM (SELECT *, " +
        day_of("filed_at") +
        " AS d FROM tickets_seen WHERE community_id = ANY($1::bigint[])) t"
        " WHERE d BETWEEN $2::date AND $3::date GROUP BY GROUPING SETS ((d), ())";
    for (const auto& r :
         tx.exec_params(sql, communities_array(s.communities), s.from, s.to, s.utc_offset_minutes)) {
        out[r[0].as<std::string>()]["complaints"] = json::object{
            {"filed", r[1].as<long long>()},
            {"sla_breaches", r[2].as<long long>()},
            {"median_resolve_h", maybe(r[3])},
            {"reopen_rate", ratio(r[4].as<long long>(), r[5].as<long long>() + r[4].as<long long>())}};
    }
    // The backlog at the end of each day: filed by then and not closed by then.
    const std::string backlog =
        "SELECT d::date::text, (SELECT count(*) FROM tickets_seen WHERE community_id = ANY($1::bigint[]) "
        "AND " +
        day_of("filed_at") + " <= d::date AND (closed_at IS NULL OR " + day_of("closed_at") +
        " > d::date)) FROM generate_series($2::date, $3::date, interval '1 day') d";
    long long last = 0;
    for (const auto& r :
         tx.exec_params(backlog, communities_array(s.communities), s.from, s.to, s.utc_offset_minutes)) {
        last = r[1].as<long long>();
        set_backlog(out[r[0].as<std::string>()], last);
    }
    set_backlog(out[""], last);
}

json::object empty_day() {
    return json::object{
        {"orders",
         json::object{{"created", 0},
                      {"completed", 0},
                      {"cancelled", 0},
                      {"expired", 0},
                      {"failed", 0},
                      {"priority", 0},
                      {"expired_priority", 0},
                      {"fulfilment_rate", nullptr},
                      {"assigned_after_s", json::object{{"p50", nullptr}, {"p95", nullptr}}}}},
        {"ratings",
         json::object{{"count", 0},
                      {"by_level", json::array{0, 0, 0, 0, 0}},
                      {"mean_level", nullptr},
                      {"bad", 0},
                      {"bad_followed_up", 0},
                      {"followup_rate", nullptr}}},
        {"complaints",
         json::object{{"filed", 0},
                      {"sla_breaches", 0},
                      {"median_resolve_h", nullptr},
                      {"reopen_rate", nullptr},
                      {"backlog", 0}}}};
}

// Fills `into` with what `from` has, member by member (blocks absent from `from` keep their zeros).
void merge(json::object& into, const json::object& from) {
    for (const auto& [k, v] : from) {
        if (v.is_object() && into.contains(k) && into.at(k).is_object()) {
            for (const auto& [kk, vv] : v.as_object()) {
                into.at(k).as_object()[kk] = vv;
            }
        } else {
            into[k] = v;
        }
    }
}

}  // namespace

json::object figures(pqxx::work& tx, const span& s) {
    rows found;
    orders(tx, s, found);
    ratings(tx, s, found);
    complaints(tx, s, found);
    json::array days;
    for (const auto& r :
         tx.exec_params("SELECT d::date::text FROM generate_series($1::date, $2::date, interval '1 day') d",
                        s.from,
                        s.to)) {
        const auto day = r[0].as<std::string>();
        json::object o{{"day", day}};
        merge(o, empty_day());
        if (auto it = found.find(day); it != found.end()) {
            merge(o, it->second);
        }
        days.push_back(std::move(o));
    }
    json::object total = empty_day();
    if (auto it = found.find(""); it != found.end()) {
        merge(total, it->second);
    }
    const auto places = tx.exec_params1(
                              "SELECT coalesce(sum(places), 0)::bigint FROM nurseries_seen"
                              " WHERE community_id = ANY($1::bigint[])",
                              communities_array(s.communities))[0]
                            .as<std::int64_t>();
    return json::object{{"from", s.from},
                        {"to", s.to},
                        {"total", std::move(total)},
                        {"days", std::move(days)},
                        {"nursery", json::object{{"places", places}}}};
}

std::string figures_csv(const json::object& f) {
    std::ostringstream out;
    out << "day,orders_created,orders_completed,orders_cancelled,orders_expired,orders_failed,expired_"
           "priority,"
           "fulfilment_rate,assigned_after_p50_s,assigned_after_p95_s,ratings,mean_level,bad_reviews,"
           "bad_followed_up,complaints_filed,sla_breaches,median_resolve_h,reopen_rate,backlog\n";
    auto cell = [](const json::value& v) -> std::string {
        if (v.is_null()) {
            return "";
        }
        if (v.is_double()) {
            std::ostringstream s;
            s << v.as_double();
            return s.str();
        }
        return json::serialize(v);
    };
    for (const auto& d : f.at("days").as_array()) {
        const auto& o = d.at("orders");
        const auto& r = d.at("ratings");
        const auto& c = d.at("complaints");
        out << d.at("day").as_string().c_str() << ',' << cell(o.at("created")) << ','
            << cell(o.at("completed")) << ',' << cell(o.at("cancelled")) << ',' << cell(o.at("expired"))
            << ',' << cell(o.at("failed")) << ',' << cell(o.at("expired_priority")) << ','
            << cell(o.at("fulfilment_rate")) << ',' << cell(o.at("assigned_after_s").at("p50")) << ','
            << cell(o.at("assigned_after_s").at("p95")) << ',' << cell(r.at("count")) << ','
            << cell(r.at("mean_level")) << ',' << cell(r.at("bad")) << ',' << cell(r.at("bad_followed_up"))
            << ',' << cell(c.at("filed")) << ',' << cell(c.at("sla_breaches")) << ','
            << cell(c.at("median_resolve_h")) << ',' << cell(c.at("reopen_rate")) << ','
            << cell(c.at("backlog")) << '\n';
    }
    return out.str();
}

json::array watchlist(pqxx::work& tx,
                      const std::vector<std::int64_t>& communities,
                      double below,
                      int utc_offset_minutes) {
    const std::string sql =
        "WITH orgs AS (SELECT org_id FROM reviews_seen WHERE community_id = ANY($1::bigint[]) AND org_id IS "
        "NOT NULL"
        " UNION SELECT org_id FROM tickets_seen WHERE community_id = ANY($1::bigint[]) AND org_id IS NOT NULL"
        " UNION SELECT org_id FROM workers_seen WHERE community_id = ANY($1::bigint[])),"
        " today AS (SELECT ((now() AT TIME ZONE 'UTC') + make_interval(mins => $2::int))::date AS d)"
        " SELECT o.org_id::text, s.score, s.count,"
        " (SELECT count(*) FROM tickets_seen t WHERE t.org_id = o.org_id AND t.filed_at > now() - interval "
        "'30 days'),"
        " (SELECT count(*) FROM reviews_seen r WHERE r.org_id = o.org_id AND r.level <= 2"
        "   AND r.created_at > now() - interval '30 days'),"
        " to_char(x.until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " (SELECT count(*) FROM workers_seen w WHERE w.org_id = o.org_id AND w.suspended_until > now()),"
        " cr.expired, cr.expiring, to_char(cr.next, 'YYYY-MM-DD')"
        " FROM orgs o LEFT JOIN org_scores_seen s ON s.org_id = o.org_id"
        " LEFT JOIN org_suspensions_seen x ON x.org_id = o.org_id AND x.until > now()"
        // The organisation's workers' credentials, read once: expired, expiring within 30 days, the next
        // expiry.
        " CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE c.expires_on < today.d) AS expired,"
        "   count(*) FILTER (WHERE c.expires_on >= today.d AND c.expires_on < today.d + 30) AS expiring,"
        "   min(c.expires_on) FILTER (WHERE c.expires_on >= today.d) AS next"
        "   FROM credentials_seen c JOIN workers_seen w USING (worker_id), today WHERE w.org_id = o.org_id) "
        "cr"
        " ORDER BY o.org_id";
    json::array out;
    for (const auto& r : tx.exec_params(sql, communities_array(communities), utc_offset_minutes)) {
        const bool low = !r[1].is_null() && r[1].as<double>() < below;
        const auto complaints = r[3].as<long long>();
        const bool suspended = !r[5].is_null();
        const auto workers_suspended = r[6].as<long long>();
        const auto expired = r[7].as<long long>();
        const auto expiring = r[8].as<long long>();
        json::array why;
        if (low) {
            why.push_back("score_below_threshold");
        }
        if (complaints > 0) {
            why.push_back("complaints_last_30_days");
        }
        if (suspended) {
            why.push_back("suspended");
        }
        if (workers_suspended > 0) {
            why.push_back("workers_suspended");
        }
        if (expired > 0) {
            why.push_back("credentials_expired");
        }
        if (expiring > 0) {
            why.push_back("credentials_expiring_30_days");
        }
        if (why.empty()) {
            continue;
        }
        out.push_back(json::object{
            {"org_id", r[0].as<std::string>()},
            {"score", maybe(r[1])},
            {"reviews", r[2].is_null() ? 0 : r[2].as<long long>()},
            {"complaints_30d", complaints},
            {"bad_reviews_30d", r[4].as<long long>()},
            {"suspended_until", r[5].is_null() ? json::value(nullptr) : json::value(r[5].as<std::string>())},
            {"workers_suspended", workers_suspended},
            {"credentials_expired", expired},
            {"credentials_expiring_30d", expiring},
            {"next_credential_expiry",
             r[9].is_null() ? json::value(nullptr) : json::value(r[9].as<std::string>())},
            {"reasons", std::move(why)}});
    }
    return out;
}

}  // namespace carematch::supervision
