// complaints' SQL: served orders, tickets with their clocks and version, the timeline.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::complaints::store {

// What a family was served: runtime::served (the `served` table of this schema).

struct ticket {
    std::string id;
    std::string source;
    std::optional<std::string> order_id;
    std::optional<std::string> review_id;
    std::optional<std::string> family_id;
    std::optional<std::string> org_id;
    std::optional<std::string> worker_id;
    std::int64_t community_id = 0;
    std::string category;
    std::string severity;
    std::string text;
    std::string state;
    int version = 0;
    std::optional<std::string> assignee;
    int transfers = 0;
    bool escalated = false;
    std::string created_at;
    double sign_due = 0;  // epoch seconds
    double resolve_due = 0;
    double created_s = 0;
    std::optional<std::string> signed_at;
    bool sign_warned = false;
    bool sign_breached = false;
    bool resolve_warned = false;
    bool resolve_breached = false;
    std::optional<std::string> outcome;
    std::optional<std::string> measures;
    std::optional<std::int64_t> refund_fen;
    std::optional<double> resolved_s;
    bool family_confirmed = false;
    std::optional<int> satisfaction;
    int reopens = 0;
    std::optional<std::string> provider_asked_at;  // staff asked the organisation for its response
    std::optional<std::string> provider_question;
    std::optional<std::string> provider_due;
    std::optional<std::string> provider_answered_at;
    std::optional<std::string> provider_response;
    bool provider_breached = false;
    std::string rank;  // list(): its place in the queue, for the cursor
};

/// Inserts a ticket; false when a ticket for the same review exists already.
bool insert(pqxx::work& tx, const ticket& t);
std::optional<ticket> find(pqxx::work& tx, const std::string& id);

struct query {
    std::optional<std::vector<std::int64_t>> communities;
    std::optional<std::string> family_id;
    std::optional<std::string> org_id;
    std::optional<std::string> state;
    std::optional<std::string> severity;
    std::optional<double> due_before;
    std::optional<bool> escalated;  // the district's view: tickets escalated (by hand or by a breached clock)
    std::optional<std::pair<std::string, std::string>> after;  // cursor: "<rank>_<id>"
    int limit = 20;
};
/// The queue: severity (urgent first), then the resolve clock's end, then id.
std::vector<ticket> list(pqxx::work& tx, const query& q);

/// Tickets not closed whose clocks need a look at `now` (at least `warn_fraction` of a clock used).
std::vector<ticket> due_for_sla(pqxx::work& tx, double now, double warn_fraction, int limit);

void note(pqxx::work& tx,
          const std::string& ticket_id,
          double at,
          const std::string& actor,
          const std::string& role,
          const std::string& action,
          const std::string& text,
          bool internal);

struct timeline_row {
    std::string at;
    std::string actor_id;
    std::string actor_role;
    std::string action;
    std::string note;
    bool internal = false;
};
std::vector<timeline_row> timeline(pqxx::work& tx, const std::string& ticket_id, bool with_internal);

}  // namespace carematch::complaints::store
