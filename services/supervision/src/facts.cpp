// Events → read models. Each statement is an upsert keyed by the fact's id, so that events of one order from
// different streams may arrive in any order; every time is the time the event occurred, not when it was read.
#include "context.hpp"

#include <carematch/core/ids.hpp>

#include <boost/json.hpp>

namespace carematch::supervision::facts {

namespace json = boost::json;

namespace {

std::optional<std::string> text(const json::object& p, const char* key) {
    const auto* v = p.if_contains(key);
    return v != nullptr && v->is_string() ? std::optional<std::string>(std::string(v->as_string()))
                                          : std::nullopt;
}

std::optional<std::int64_t> number(const json::object& p, const char* key) {
    const auto* v = p.if_contains(key);
    return v != nullptr && v->is_int64() ? std::optional<std::int64_t>(v->as_int64()) : std::nullopt;
}

// An id that is a UUID, or nullopt (a malformed fact is not kept).
std::optional<std::string> uuid(const json::object& p, const char* key) {
    auto v = text(p, key);
    return v && core::is_uuid(*v) ? v : std::nullopt;
}

// orders_seen's row for an order.created (nullopt: malformed, not kept).
std::optional<json::object> created_row(const json::object& p, const std::string& at) {
    const auto order = uuid(p, "order_id");
    const auto community = number(p, "community_id");
    if (!order || !community) {
        return std::nullopt;
    }
    const auto* pc = p.if_contains("priority_categories");
    const bool priority = pc != nullptr && pc->is_array() && !pc->as_array().empty();
    const auto kind = text(p, "kind");
    return json::object{{"order_id", *order},
                        {"community_id", *community},
                        {"kind", kind ? json::value(*kind) : json::value(nullptr)},
                        {"priority", priority},
                        {"created_at", at}};
}

// When the event occurred ("now" when its publisher did not say).
std::string occurred(const events::event& e) {
    return e.occurred_at.empty() ? "now" : e.occurred_at;
}

// Those rows in one statement (one order.created, or a read's run of them).
void insert_created(pqxx::work& tx, const json::array& rows) {
    if (rows.empty()) {
        return;
    }
    tx.exec_params(
        "INSERT INTO orders_seen (order_id, community_id, kind, priority, created_at)"
        " SELECT order_id, community_id, kind, priority, created_at::timestamptz"
        " FROM jsonb_to_recordset($1::jsonb)"
        "  AS x(order_id uuid, community_id bigint, kind text, priority boolean, created_at text)"
        " ON CONFLICT (order_id) DO UPDATE SET community_id = excluded.community_id, kind = excluded.kind,"
        " priority = excluded.priority, created_at = excluded.created_at",
        json::serialize(rows));
}

void order_event(pqxx::work& tx, const std::string& type, const json::object& p, const std::string& at) {
    const auto order = uuid(p, "order_id");
    if (!order) {
        return;
    }
    const auto community = number(p, "community_id");
    if (type == "order.created") {
        if (auto row = created_row(p, at)) {
            insert_created(tx, {std::move(*row)});
        }
        return;
    }
    std::string state;
    if (type == "order.assigned") {
        state = "assigned";
    } else if (type == "order.started") {
        state = "started";
    } else if (type == "order.completed" || type == "order.cancelled" || type == "order.expired" ||
               type == "order.failed") {
        state = type.substr(6);
    } else {
        return;  // offered, declined, expired offers: not a state supervision counts
    }
    // A later state never goes back to an earlier one, whatever order the streams are read in.
    const std::string rank =
        "CASE s WHEN 'created' THEN 0 WHEN 'assigned' THEN 1 WHEN 'started' THEN 2 ELSE 3 END";
    auto rank_of = [&](const std::string& col) {
        std::string r = rank;
        return r.replace(r.find(" s "), 3, " " + col + " ");
    };
    const bool final_state = state != "assigned" && state != "started";
    const std::string set = "state = CASE WHEN " + rank_of("excluded.state") + " > " +
                            rank_of("orders_seen.state") +
                            " THEN excluded.state ELSE orders_seen.state END,"
                            " assigned_at = coalesce(orders_seen.assigned_at, excluded.assigned_at),"
                            " closed_at = coalesce(orders_seen.closed_at, excluded.closed_at)";
    if (community) {
        tx.exec_params(
            "INSERT INTO orders_seen (order_id, community_id, state, assigned_at, closed_at)"
            " VALUES ($1::uuid, $2, $3, CASE WHEN $3 = 'assigned' THEN $4::timestamptz END,"
            " CASE WHEN $5 THEN $4::timestamptz END)"
            " ON CONFLICT (order_id) DO UPDATE SET " +
                set,
            *order,
            *community,
            state,
            at,
            final_state);
    } else {
        tx.exec_params(
            "UPDATE orders_seen SET state = CASE WHEN " + rank_of("$2") + " > " + rank_of("state") +
                " THEN $2 ELSE state END,"
                " assigned_at = coalesce(assigned_at, CASE WHEN $2 = 'assigned' THEN $3::timestamptz END),"
                " closed_at = coalesce(closed_at, CASE WHEN $4 THEN $3::timestamptz END)"
                " WHERE order_id = $1::uuid",
            *order,
            state,
            at,
            final_state);
    }
}

void rating_event(pqxx::work& tx, const std::string& type, const json::object& p) {
    if (type == "rating.created") {
        const auto review = uuid(p, "review_id");
        const auto community = number(p, "community_id");
        const auto level = number(p, "level");
        if (!review || !community || !level || *level < 1 || *level > 5) {
            return;
        }
        tx.exec_params(
            "INSERT INTO reviews_seen (review_id, community_id, org_id, level, created_at, followed_up)"
            " VALUES ($1::uuid, $2, $3::uuid, $4, $5::timestamptz,"
            " EXISTS (SELECT 1 FROM followups_seen WHERE review_id = $1::uuid))"
            " ON CONFLICT (review_id) DO NOTHING",
            *review,
            *community,
            uuid(p, "org_id"),
            *level,
            text(p, "created_at").value_or(""));
    } else if (type == "rating.score_changed") {
        const auto org = uuid(p, "subject_id");
        const auto* score = p.if_contains("score");
        const auto count = number(p, "count");
        if (text(p, "subject_type") != "org" || !org || score == nullptr || !score->is_number() || !count) {
            return;
        }
        tx.exec_params(
            "INSERT INTO org_scores_seen (org_id, score, count) VALUES ($1::uuid, $2, $3)"
            " ON CONFLICT (org_id) DO UPDATE SET score = excluded.score, count = excluded.count",
            *org,
            score->to_number<double>(),
            *count);
    }
}

void complaint_event(pqxx::work& tx, const std::string& type, const json::object& p, const std::string& at) {
    const auto ticket = uuid(p, "ticket_id");
    const auto community = number(p, "community_id");
    if (!ticket || !community) {
        return;
    }
    // Every complaint event names the ticket's community and severity: a ticket seen first in a later event
    // still counts.
    tx.exec_params(
        "INSERT INTO tickets_seen (ticket_id, community_id, severity, org_id, filed_at)"
        " VALUES ($1::uuid, $2, $3, $4::uuid, $5::timestamptz) ON CONFLICT (ticket_id) DO UPDATE SET"
        " community_id = excluded.community_id, severity = excluded.severity,"
        " org_id = coalesce(excluded.org_id, tickets_seen.org_id),"
        " filed_at = least(tickets_seen.filed_at, excluded.filed_at)",
        *ticket,
        *community,
        text(p, "severity").value_or("normal"),
        uuid(p, "org_id"),
        at);
    if (type == "complaint.resolved") {
        tx.exec_params(
            "UPDATE tickets_seen SET resolved_at = $2::timestamptz WHERE ticket_id = $1::uuid", *ticket, at);
    } else if (type == "complaint.reopened") {
        tx.exec_params(
            "UPDATE tickets_seen SET reopened = reopened + 1, resolved_at = NULL WHERE ticket_id = $1::uuid",
            *ticket);
    } else if (type == "complaint.sla_breached") {
        tx.exec_params("UPDATE tickets_seen SET breached = true WHERE ticket_id = $1::uuid", *ticket);
    } else if (type == "complaint.closed") {
        tx.exec_params(
            "UPDATE tickets_seen SET closed_at = $2::timestamptz,"
            " resolved_at = coalesce(resolved_at, $2::timestamptz) WHERE ticket_id = $1::uuid",
            *ticket,
            at);
        if (auto review = uuid(p, "review_id")) {
            tx.exec_params("INSERT INTO followups_seen (review_id) VALUES ($1::uuid) ON CONFLICT DO NOTHING",
                           *review);
            tx.exec_params("UPDATE reviews_seen SET followed_up = true WHERE review_id = $1::uuid", *review);
        }
    }
}

// A worker's organisation and credentials (worker.updated carries them all: the set replaces what was kept),
// or a suspension. Events without the organisation (older producers) are not kept.
void worker_event(pqxx::work& tx, const std::string& type, const json::object& p) {
    const auto worker = uuid(p, "worker_id");
    const auto org = uuid(p, "org_id");
    if (!worker || !org) {
        return;
    }
    if (type == "worker.suspended") {
        const auto until = text(p, "until");
        if (!until) {
            return;
        }
        tx.exec_params(
            "INSERT INTO workers_seen (worker_id, org_id, suspended_until) VALUES ($1::uuid, $2::uuid, "
            "$3::timestamptz)"
            " ON CONFLICT (worker_id) DO UPDATE SET org_id = excluded.org_id,"
            " suspended_until = excluded.suspended_until",
            *worker,
            *org,
            *until);
        return;
    }
    const auto* creds = p.if_contains("credentials");
    if (creds == nullptr || !creds->is_array()) {
        return;
    }
    const auto community = number(p, "community_id");
    tx.exec_params(
        "INSERT INTO workers_seen (worker_id, org_id, community_id) VALUES ($1::uuid, $2::uuid, $3)"
        " ON CONFLICT (worker_id) DO UPDATE SET org_id = excluded.org_id,"
        " community_id = coalesce(excluded.community_id, workers_seen.community_id)",
        *worker,
        *org,
        community && *community > 0 ? community : std::nullopt);
    tx.exec_params("DELETE FROM credentials_seen WHERE worker_id = $1::uuid", *worker);
    for (const auto& cv : creds->as_array()) {
        if (!cv.is_object()) {
            continue;
        }
        const auto type_ = text(cv.as_object(), "type");
        const auto expires = text(cv.as_object(), "expires_on");
        if (type_ && expires) {
            tx.exec_params(
                "INSERT INTO credentials_seen (worker_id, type, expires_on) VALUES ($1::uuid, $2, $3::date)"
                " ON CONFLICT (worker_id, type) DO UPDATE SET expires_on = excluded.expires_on",
                *worker,
                *type_,
                *expires);
        }
    }
}

}  // namespace

void apply_all(pqxx::work& tx, const std::vector<const events::event*>& es) {
    json::array created;
    for (const auto* e : es) {
        if (e->type == "order.created") {
            boost::system::error_code ec;
            auto doc = json::parse(e->payload, ec);
            if (!ec && doc.is_object()) {
                if (auto row = created_row(doc.as_object(), occurred(*e))) {
                    created.push_back(std::move(*row));
                }
            }
            continue;
        }
        insert_created(tx, created);
        created.clear();
        apply(tx, *e);
    }
    insert_created(tx, created);
}

void apply(pqxx::work& tx, const events::event& e) {
    boost::system::error_code ec;
    auto doc = json::parse(e.payload, ec);
    if (ec || !doc.is_object()) {
        return;
    }
    const auto& p = doc.as_object();
    const std::string at = occurred(e);
    if (e.type.starts_with("order.")) {
        order_event(tx, e.type, p, at);
    } else if (e.type.starts_with("rating.")) {
        json::object q = p;
        q["created_at"] = at;
        rating_event(tx, e.type, q);
    } else if (e.type.starts_with("complaint.")) {
        complaint_event(tx, e.type, p, at);
    } else if (e.type == "nursery.saved") {
        const auto nursery = uuid(p, "nursery_id");
        const auto community = number(p, "community_id");
        const auto places = number(p, "licensed_places");
        if (nursery && community && places && *places >= 0) {
            tx.exec_params(
                "INSERT INTO nurseries_seen (nursery_id, community_id, places) VALUES ($1::uuid, $2, $3)"
                " ON CONFLICT (nursery_id) DO UPDATE SET community_id = excluded.community_id,"
                " places = excluded.places",
                *nursery,
                *community,
                *places);
        }
    } else if (e.type == "worker.updated" || e.type == "worker.suspended") {
        worker_event(tx, e.type, p);
    } else if (e.type == "provider.suspended") {
        const auto org = uuid(p, "org_id");
        const auto until = text(p, "until");
        if (org && until) {
            tx.exec_params(
                "INSERT INTO org_suspensions_seen (org_id, until, reason) VALUES ($1::uuid, $2::timestamptz, "
                "$3)"
                " ON CONFLICT (org_id) DO UPDATE SET until = excluded.until, reason = excluded.reason",
                *org,
                *until,
                text(p, "reason").value_or(""));
        }
    }
}

}  // namespace carematch::supervision::facts
