// Organisations' public rating scores kept from events.
#include <carematch/db/pool.hpp>
#include <carematch/runtime/scores.hpp>

#include <boost/json.hpp>

namespace carematch::runtime::scores {

void apply(pqxx::work& tx, const std::string& payload_json) {
    auto v = boost::json::parse(payload_json);
    const auto& p = v.as_object();
    if (p.at("subject_type").as_string() != "org") {
        return;
    }
    tx.exec_params(
        "INSERT INTO org_scores (org_id, score, count, updated_at) VALUES ($1::uuid, $2, $3, now())"
        " ON CONFLICT (org_id) DO UPDATE SET score = excluded.score, count = excluded.count, updated_at = "
        "now()",
        std::string(p.at("subject_id").as_string()),
        p.at("score").to_number<double>(),
        static_cast<int>(p.at("count").to_number<std::int64_t>()));
}

std::map<std::string, score> of(pqxx::work& tx, const std::vector<std::string>& org_ids) {
    std::map<std::string, score> out;
    if (org_ids.empty()) {
        return out;
    }
    for (const auto& r :
         tx.exec_params("SELECT org_id::text, score, count FROM org_scores WHERE org_id = ANY($1::uuid[])",
                        db::text_array(org_ids))) {
        out[r[0].as<std::string>()] = {r[1].as<double>(), r[2].as<int>()};
    }
    return out;
}

}  // namespace carematch::runtime::scores
