// What a family was served, kept from events.
#include <carematch/runtime/served.hpp>

#include <boost/json.hpp>

namespace carematch::runtime::served {
namespace {

std::optional<std::string> text_or_null(const boost::json::object& p, const char* key) {
    const auto* v = p.if_contains(key);
    return v && v->is_string() ? std::optional<std::string>(std::string(v->as_string())) : std::nullopt;
}

template <class T>
std::optional<T> opt(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<T>(f.as<T>());
}

}  // namespace

std::optional<service> from_order_completed(const std::string& payload_json, const std::string& occurred_at) {
    auto v = boost::json::parse(payload_json);
    const auto& p = v.as_object();
    const auto family = text_or_null(p, "family_id");
    if (!family) {
        return std::nullopt;
    }
    service s;
    s.order_id = std::string(p.at("order_id").as_string());
    s.family_id = *family;
    s.recipient_id = text_or_null(p, "recipient_id");
    s.worker_id = text_or_null(p, "worker_id");
    s.org_id = text_or_null(p, "org_id");
    s.kind = std::string(p.at("kind").as_string());
    s.community_id = p.at("community_id").to_number<std::int64_t>();
    s.completed_at = text_or_null(p, "at").value_or(occurred_at);
    s.second_worker_id = text_or_null(p, "second_worker_id");
    return s;
}

void add(pqxx::work& tx, const service& s) {
    tx.exec_params(
        "INSERT INTO served (order_id, source, family_id, recipient_id, worker_id, org_id, kind, "
        "community_id,"
        " completed_at, second_worker_id) VALUES ($1::uuid, $2, $3::uuid, $4::uuid, $5::uuid, $6::uuid, $7, "
        "$8, "
        "$9::timestamptz, $10::uuid)"
        " ON CONFLICT (order_id) DO NOTHING",
        s.order_id,
        s.source,
        s.family_id,
        s.recipient_id,
        s.worker_id,
        s.org_id,
        s.kind,
        s.community_id,
        s.completed_at,
        s.second_worker_id);
}

namespace {

const char* select_columns =
    "SELECT order_id::text, source, family_id::text, recipient_id::text, worker_id::text, org_id::text, kind,"
    " community_id, to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " second_worker_id::text FROM served ";

std::optional<service> first(const pqxx::result& r) {
    if (r.empty()) {
        return std::nullopt;
    }
    service s;
    s.order_id = r[0][0].as<std::string>();
    s.source = r[0][1].as<std::string>();
    s.family_id = r[0][2].as<std::string>();
    s.recipient_id = opt<std::string>(r[0][3]);
    s.worker_id = opt<std::string>(r[0][4]);
    s.org_id = opt<std::string>(r[0][5]);
    s.kind = r[0][6].as<std::string>();
    s.community_id = r[0][7].as<std::int64_t>();
    s.completed_at = r[0][8].as<std::string>();
    s.second_worker_id = opt<std::string>(r[0][9]);
    return s;
}

}  // namespace

std::optional<service> find(pqxx::work& tx, const std::string& order_id) {
    return first(tx.exec_params(std::string(select_columns) + "WHERE order_id = $1::uuid", order_id));
}

std::optional<service> latest_by(pqxx::work& tx,
                                 const std::string& family_id,
                                 const std::optional<std::string>& org_id,
                                 const std::optional<std::string>& worker_id) {
    return first(
        tx.exec_params(std::string(select_columns) +
                           "WHERE family_id = $1::uuid AND ($2::uuid IS NULL OR org_id = $2::uuid)"
                           " AND ($3::uuid IS NULL OR worker_id = $3::uuid OR second_worker_id = $3::uuid)"
                           " ORDER BY completed_at DESC LIMIT 1",
                       family_id,
                       org_id,
                       worker_id));
}

}  // namespace carematch::runtime::served
