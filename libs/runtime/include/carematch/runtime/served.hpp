// What a family was served, as the services that let it rate or complain keep it: a read model fed by
// order.completed (and nursery.attended), in a `served` table of the service's own schema (order_id, source,
// family_id, recipient_id, worker_id, org_id, kind, community_id, completed_at, second_worker_id; the
// service's migrations make it).
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>

namespace carematch::runtime::served {

struct service {
    std::string order_id;          // or a nursery booking's id
    std::string source = "order";  // order or booking
    std::string family_id;
    std::optional<std::string> recipient_id;
    std::optional<std::string> worker_id;
    std::optional<std::string> org_id;
    std::string kind;
    std::int64_t community_id = 0;
    std::string completed_at;                     // ISO 8601
    std::optional<std::string> second_worker_id;  // a crew's second worker (a bath taken by two)
};

/// The service an order.completed payload describes; nullopt when it names no family (nothing to rate).
std::optional<service> from_order_completed(const std::string& payload_json, const std::string& occurred_at);

/// Records it; a repeat changes nothing.
void add(pqxx::work& tx, const service& s);

std::optional<service> find(pqxx::work& tx, const std::string& order_id);

/// The latest service `family_id` was served by that organisation and/or worker (either worker of a crew);
/// nullopt when none.
std::optional<service> latest_by(pqxx::work& tx,
                                 const std::string& family_id,
                                 const std::optional<std::string>& org_id,
                                 const std::optional<std::string>& worker_id);

}  // namespace carematch::runtime::served
