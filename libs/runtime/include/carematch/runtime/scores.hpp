// Organisations' public rating scores, as a service that shows them keeps them: from ratings'
// rating.score_changed events into its own `org_scores` table (org_id uuid primary key, score, count,
// updated_at; the service's migration makes it), read when it answers a search.
#pragma once

#include <pqxx/pqxx>

#include <map>
#include <string>
#include <vector>

namespace carematch::runtime::scores {

struct score {
    double value = 0;  // the Bayesian score, 1–5
    int count = 0;     // reviews it rests on
};

/// Applies one rating.score_changed payload; a worker's score is not kept here.
void apply(pqxx::work& tx, const std::string& payload_json);

/// The scores of these organisations that have one.
std::map<std::string, score> of(pqxx::work& tx, const std::vector<std::string>& org_ids);

}  // namespace carematch::runtime::scores
