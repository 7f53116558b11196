// Event → audience messages. Each message carries only what its audience may read over REST: ids, states,
// kinds and times; no names, phones, addresses or notes.
#include "fanout.hpp"

#include <carematch/core/ids.hpp>

#include <boost/json.hpp>

#include <initializer_list>

namespace carematch::realtime {

namespace json = boost::json;

namespace {

std::string text(const json::object& p, const char* key) {
    const auto* v = p.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The fields of `p` named in `keys` that it has.
json::object pick(const json::object& p, std::initializer_list<const char*> keys) {
    json::object out;
    for (const char* k : keys) {
        if (const auto* v = p.if_contains(k); v != nullptr && !v->is_null()) {
            out[k] = *v;
        }
    }
    return out;
}

std::string message(const std::string& type, json::object data) {
    return json::serialize(json::object{{"type", type}, {"data", std::move(data)}});
}

void to_user(std::vector<delivery>& out, const std::string& id, const std::string& msg) {
    if (core::is_uuid(id)) {
        out.push_back({"u:" + id, msg});
    }
}

void to_org(std::vector<delivery>& out, const std::string& id, const std::string& msg) {
    if (core::is_uuid(id)) {
        out.push_back({"o:" + id, msg});
    }
}

// The status a family sees its order in after `type`.
std::string family_status(const std::string& type, const json::object& p) {
    if (type == "order.created") {
        return "created";
    }
    if (type == "order.offered") {
        return "offered";
    }
    if (type == "order.assigned") {
        return "assigned";
    }
    if (type == "offer.declined" || type == "offer.expired") {
        return "matching";
    }
    return text(p, "status");
}

void order_event(std::vector<delivery>& out, const std::string& type, const json::object& p) {
    const std::string family = text(p, "family_id");
    const std::string worker = text(p, "worker_id");
    const std::string org = text(p, "org_id");
    json::object seen = pick(p, {"order_id", "kind", "at"});
    seen["status"] = family_status(type, p);
    to_user(out, family, message("order.status", std::move(seen)));

    std::string job;
    if (type == "order.offered") {
        job = message("offer.new", pick(p, {"offer_id", "order_id", "kind", "expires_at"}));
    } else if (type == "order.assigned") {
        job = message("offer.accepted", pick(p, {"offer_id", "order_id"}));
    } else if (type == "offer.declined" || type == "offer.expired") {
        job = message(type == "offer.declined" ? "offer.declined" : "offer.expired",
                      pick(p, {"offer_id", "order_id"}));
    } else if (type == "order.en_route" || type == "order.started" || type == "order.completed" ||
               type == "order.cancelled") {
        job = message("job.status", pick(p, {"order_id", "status", "kind", "at"}));
    }
    if (!job.empty()) {
        to_user(out, worker, job);
        to_org(out, org, job);
        // A crew's other worker (order.assigned, and the job's later steps).
        const std::string second = text(p, "second_worker_id");
        const std::string second_org = text(p, "second_org_id");
        if (!second.empty() && second != worker) {
            to_user(out, second, job);
        }
        if (!second_org.empty() && second_org != org) {
            to_org(out, second_org, job);
        }
    }
}

}  // namespace

std::vector<delivery> fan_out(const events::event& e) {
    std::vector<delivery> out;
    boost::system::error_code ec;
    auto doc = json::parse(e.payload, ec);
    if (ec || !doc.is_object()) {
        return out;
    }
    const auto& p = doc.as_object();
    if (e.type.starts_with("order.") || e.type.starts_with("offer.")) {
        order_event(out, e.type, p);
    } else if (e.type.starts_with("nursery.")) {
        to_user(out, text(p, "family_id"), message("booking.status", [&] {
                    auto d = pick(p, {"booking_id", "nursery_id", "class_id", "days"});
                    d["event"] = e.type.substr(8);  // booking_confirmed, waitlisted, promoted, cancelled, …
                    return d;
                }()));
    } else if (e.type.starts_with("complaint.")) {
        const auto* community = p.if_contains("community_id");
        if (community != nullptr && community->is_int64()) {
            out.push_back({"c:" + std::to_string(community->as_int64()),
                           message(e.type, pick(p, {"ticket_id", "community_id", "severity", "outcome"}))});
        }
    }
    return out;
}

std::vector<std::string> audiences_of(const auth::caller& who) {
    std::vector<std::string> out;
    switch (who.role) {
        case auth::role::family:
        case auth::role::worker:
            out.push_back("u:" + who.id);
            break;
        case auth::role::provider:
            out.push_back("u:" + who.id);
            if (!who.org.empty()) {
                out.push_back("o:" + who.org);
            }
            break;
        case auth::role::staff:
            for (auto c : who.communities) {
                out.push_back("c:" + std::to_string(c));
            }
            break;
        case auth::role::admin:
        case auth::role::service:
            break;
    }
    return out;
}

}  // namespace carematch::realtime
