// complaints' endpoints: file (family, staff by phone), the queue, a ticket with its timeline, and the work
// on it: claim with a version, release, transfer, severity, notes, resolve, confirm, reopen, return visit,
// close.
#include "context.hpp"
#include "store.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/checks.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/idempotency.hpp>
#include <carematch/runtime/served.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>

namespace carematch::complaints {

namespace json = boost::json;
using boost::asio::awaitable;
using http::request;
using http::response;

namespace {

using core::invalid;
using http::problem;

double now_s(const context& c) {
    return std::chrono::duration<double>(c.clock.now().time_since_epoch()).count();
}

std::string iso(double s) {
    const auto t = static_cast<std::time_t>(s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// The severity a category starts with.
std::optional<std::string> severity_of(const std::string& category) {
    if (category == "safety") {
        return "urgent";
    }
    if (category == "no_show" || category == "privacy") {
        return "high";
    }
    static const std::set<std::string> normal{"quality", "fee", "attitude", "other"};
    return normal.contains(category) ? std::optional<std::string>("normal") : std::nullopt;
}

enum class view { family, provider, staff };

std::optional<view> reader(const auth::caller& who, const store::ticket& t) {
    if (who.is(auth::role::family) && t.family_id && *t.family_id == who.id) {
        return view::family;
    }
    if (who.is(auth::role::provider) && t.org_id && *t.org_id == who.org) {
        return view::provider;
    }
    if ((who.is(auth::role::staff) && who.covers(t.community_id)) || who.is(auth::role::admin)) {
        return view::staff;
    }
    return std::nullopt;
}

json::object ticket_json(const store::ticket& t,
                         view v,
                         const std::vector<store::timeline_row>* rows = nullptr) {
    json::object j;
    j["id"] = t.id;
    j["source"] = t.source;
    j["category"] = t.category;
    j["severity"] = t.severity;
    j["state"] = t.state;
    j["version"] = t.version;
    j["community_id"] = t.community_id;
    j["text"] = t.text;
    j["order_id"] = t.order_id ? json::value(*t.order_id) : json::value(nullptr);
    j["org_id"] = t.org_id ? json::value(*t.org_id) : json::value(nullptr);
    j["worker_id"] = t.worker_id ? json::value(*t.worker_id) : json::value(nullptr);
    // The provider sees what the complaint is about, not who filed it.
    j["family_id"] = v == view::provider || !t.family_id ? json::value(nullptr) : json::value(*t.family_id);
    j["assignee"] = v == view::staff && t.assignee ? json::value(*t.assignee) : json::value(nullptr);
    j["transfers"] = t.transfers;
    j["escalated"] = t.escalated;
    j["created_at"] = t.created_at;
    j["sign_due"] = iso(t.sign_due);
    j["resolve_due"] = iso(t.resolve_due);
    j["outcome"] = t.outcome ? json::value(*t.outcome) : json::value(nullptr);
    j["measures"] = t.measures ? json::value(*t.measures) : json::value(nullptr);
    j["refund_fen"] = t.refund_fen ? json::value(*t.refund_fen) : json::value(nullptr);
    j["family_confirmed"] = t.family_confirmed;
    j["return_visit_satisfaction"] = t.satisfaction ? json::value(*t.satisfaction) : json::value(nullptr);
    j["reopens"] = t.reopens;
    if (t.provider_asked_at) {
        auto text = [](const std::optional<std::string>& v) {
            return v ? json::value(*v) : json::value(nullptr);
        };
        j["provider_response"] = json::object{{"asked_at", *t.provider_asked_at},
                                              {"question", text(t.provider_question)},
                                              {"due", text(t.provider_due)},
                                              {"answered_at", text(t.provider_answered_at)},
                                              {"response", text(t.provider_response)},
                                              {"overdue", t.provider_breached}};
    } else {
        j["provider_response"] = nullptr;
    }
    if (rows) {
        json::array timeline;
        for (const auto& r : *rows) {
            json::object x{
                {"at", r.at}, {"action", r.action}, {"note", r.note}, {"actor_role", r.actor_role}};
            x["actor_id"] = v == view::staff ? json::value(r.actor_id) : json::value(nullptr);
            x["internal"] = r.internal;
            timeline.push_back(std::move(x));
        }
        j["timeline"] = std::move(timeline);
    }
    return j;
}

void publish(
    pqxx::work& tx, const context& c, const char* type, const store::ticket& t, json::object extra = {}) {
    extra["ticket_id"] = t.id;
    extra["community_id"] = t.community_id;
    extra["severity"] = t.severity;
    if (t.org_id && !extra.contains("org_id")) {
        extra["org_id"] = *t.org_id;
    }
    db::enqueue_event(tx, c.cfg.schema, c.cfg.events_stream, type, json::serialize(extra));
}

// The first member of `body` that is not one of the space-separated `members`, as the problem that names it:
// the schemas say additionalProperties: false, so an unknown member is refused, never ignored.
std::optional<core::problem> unknown_member(const json::object& body,
                                            std::string_view members,
                                            const char* what) {
    for (const auto& [k, _] : body) {
        bool known = false;
        for (std::string_view rest = members; !rest.empty() && !known;) {
            const auto end = rest.find(' ');
            known = rest.substr(0, end) == std::string_view(k);
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        }
        if (!known) {
            return invalid(std::string(k).substr(0, 40).c_str(), what);
        }
    }
    return std::nullopt;
}

const char* role_name(const auth::caller& who) {
    return auth::to_string(who.role).data();
}

// A string member of 1 to `max` characters under the one text rule, or nullopt.
std::optional<std::string> text_member(const json::object& o, const char* key, std::size_t max) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string() || v->as_string().empty() || !core::plain_text(v->as_string(), max)) {
        return std::nullopt;
    }
    return std::string(v->as_string());
}

}  // namespace

namespace handlers {

awaitable<response> file(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family, auth::role::staff});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const auth::caller caller = *who;
    // The key is claimed in the transaction that files: a crash before its commit leaves no claim behind.
    auto parsed = http::parse_json_object(req);
    const auto now = c.clock.now();
    std::function<response(pqxx::work&)> write = [&](pqxx::work& tx) -> response {
        runtime::idempotency_claim claim;
        if (auto earlier = runtime::claim_idempotent_in(tx, req, caller.id, now, claim)) {
            return std::move(*earlier);
        }
        response r;
        auto answer = [&]() -> response {
            if (!parsed) {
                return problem(req, parsed.error());
            }
            if (auto odd = unknown_member(*parsed,
                                          "order_id org_id worker_id category text community_id",
                                          "not a member of a complaint")) {
                return problem(req, *odd);
            }
            const auto category = parsed->contains("category") && parsed->at("category").is_string()
                                      ? std::string(parsed->at("category").as_string())
                                      : std::string();
            const auto severity = severity_of(category);
            if (!severity) {
                return problem(
                    req, invalid("category", "safety, no_show, quality, fee, privacy, attitude or other"));
            }
            const auto text = text_member(*parsed, "text", 2000);
            if (!text) {
                return problem(req, invalid("text", "1 to 2,000 characters, no control characters"));
            }
            store::ticket t;
            t.id = core::new_uuid();
            t.category = category;
            t.severity = *severity;
            t.text = *text;
            const auto* order_v = parsed->if_contains("order_id");
            std::optional<runtime::served::service> s;
            if (order_v) {
                if (!order_v->is_string() || !core::is_uuid(order_v->as_string())) {
                    return problem(req, invalid("order_id", "an order id"));
                }
                s = runtime::served::find(tx, std::string(order_v->as_string()));
            }
            // Or against an organisation or a worker rather than one order.
            std::optional<std::string> org, worker;
            for (auto [key, into] : {std::pair{"org_id", &org}, std::pair{"worker_id", &worker}}) {
                if (const auto* v = parsed->if_contains(key)) {
                    if (!v->is_string() || !core::is_uuid(v->as_string())) {
                        return problem(req, invalid(key, "an id"));
                    }
                    *into = std::string(v->as_string());
                }
            }
            if (order_v && (org || worker)) {
                return problem(req, invalid("org_id", "an order, or an organisation or worker: not both"));
            }
            bool about_provider = false;
            if ((org || worker) && caller.is(auth::role::family)) {
                // Only one that served this family (the read model from order.completed).
                s = runtime::served::latest_by(tx, caller.id, org, worker);
                if (!s) {
                    return problem(
                        req,
                        invalid(org ? "org_id" : "worker_id", "an organisation or worker that served you"));
                }
                about_provider = true;
            }
            if (caller.is(auth::role::family)) {
                // Only what the family was served (the read model from order.completed).
                if (!s || s->family_id != caller.id) {
                    return problem(req, invalid("order_id", "a completed service of yours"));
                }
                if (parsed->contains("community_id")) {
                    return problem(req, invalid("community_id", "a family's complaint belongs to its order"));
                }
                t.source = "family";
                t.family_id = caller.id;
                t.community_id = s->community_id;
            } else {
                // Staff take a complaint by phone for an elder of their community.
                const auto* cv = parsed->if_contains("community_id");
                if (!cv || !cv->is_int64()) {
                    return problem(req, invalid("community_id", "the community the complaint belongs to"));
                }
                t.community_id = cv->as_int64();
                if (!caller.covers(t.community_id)) {
                    return problem(req, core::errc::forbidden, "that community is not yours", "community_id");
                }
                if (order_v && !s) {
                    return problem(req, invalid("order_id", "a completed service"));
                }
                t.source = "phone";
                if (s) {
                    t.family_id = s->family_id;
                }
            }
            if (s) {
                t.order_id = s->order_id;
                t.org_id = s->org_id;
                t.worker_id = s->worker_id;
            }
            if (about_provider) {
                t.order_id.reset();    // about the organisation or worker, not one service
                t.worker_id = worker;  // the one named (either worker of a crew), or none
            } else if (caller.is(auth::role::staff) && (org || worker)) {
                t.org_id = org;
                t.worker_id = worker;
            }
            const auto [sign, resolve] = c.dues(t.severity, now);
            t.created_s = std::chrono::duration<double>(now.time_since_epoch()).count();
            t.sign_due = std::chrono::duration<double>(sign.time_since_epoch()).count();
            t.resolve_due = std::chrono::duration<double>(resolve.time_since_epoch()).count();
            store::insert(tx, t);
            store::note(tx, t.id, t.created_s, caller.id, role_name(caller), "filed", "", false);
            publish(
                tx, c, "complaint.filed", t, json::object{{"category", t.category}, {"source", t.source}});
            auto stored = store::find(tx, t.id);
            return http::json_text_response(201, json::serialize(ticket_json(*stored, view::family)));
        };
        r = answer();
        runtime::finish_idempotent(tx, claim, r);
        return r;
    };
    co_return co_await c.pool.transact(std::move(write));
}

awaitable<response> list(context& c, request& req) {
    auto who = auth::authorize(
        req, c.verifier, {auth::role::family, auth::role::provider, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    store::query q;
    const auto limit = http::page_limit(req, 20);
    if (!limit) {
        co_return problem(req, invalid("limit", "must be 1 to 100"));
    }
    q.limit = *limit;
    if (auto s = req.query_param("state")) {
        static const std::set<std::string> states{"open", "claimed", "resolved", "closed"};
        if (!states.contains(*s)) {
            co_return problem(req, invalid("state", "open, claimed, resolved or closed"));
        }
        q.state = *s;
    }
    if (auto s = req.query_param("severity")) {
        if (*s != "urgent" && *s != "high" && *s != "normal") {
            co_return problem(req, invalid("severity", "urgent, high or normal"));
        }
        q.severity = *s;
    }
    if (auto e = req.query_param("escalated")) {
        if (*e != "true" && *e != "false") {
            co_return problem(req, core::bad_query("escalated", "true or false"));
        }
        q.escalated = *e == "true";
    }
    if (auto d = req.query_param("due_before")) {
        auto t = core::parse_timestamp(*d);
        if (!t) {
            co_return problem(req, core::bad_query("due_before", "an ISO 8601 time with its zone"));
        }
        q.due_before = std::chrono::duration<double>(t->time_since_epoch()).count();
    }
    if (auto cur = req.query_param("cursor")) {
        const auto sep = cur->find('_');
        if (sep != 17 || !core::is_uuid(cur->substr(sep + 1))) {
            co_return problem(req, core::bad_query("cursor", "not a cursor this service gave out"));
        }
        q.after = std::pair{cur->substr(0, sep), cur->substr(sep + 1)};
    }
    const auto community = http::int_param(req, "community_id");
    if (req.query_param("community_id") && !community) {
        co_return problem(req, core::bad_query("community_id", "a community id (digits only)"));
    }
    if (who->is(auth::role::family)) {
        q.family_id = who->id;
    } else if (who->is(auth::role::provider)) {
        q.org_id = who->org;
    } else if (community) {
        if (who->is(auth::role::staff) && !who->covers(*community)) {
            co_return problem(req, core::errc::forbidden, "that community is not yours", "community_id");
        }
        q.communities = std::vector<std::int64_t>{*community};
    } else if (who->is(auth::role::staff)) {
        q.communities = who->communities;
    }
    std::function<std::vector<store::ticket>(pqxx::work&)> read = [&](pqxx::work& tx) {
        return store::list(tx, q);
    };
    auto rows = co_await c.pool.transact(std::move(read));
    json::array items;
    for (const auto& t : rows) {
        items.push_back(ticket_json(t, reader(*who, t).value_or(view::provider)));
    }
    json::object page{{"items", std::move(items)}};
    page["next_cursor"] = static_cast<int>(rows.size()) == q.limit
                              ? json::value(rows.back().rank + "_" + rows.back().id)
                              : json::value(nullptr);
    co_return http::json_text_response(200, json::serialize(page));
}

awaitable<response> get(context& c, request& req) {
    auto who = auth::authorize(
        req, c.verifier, {auth::role::family, auth::role::provider, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    std::function<std::optional<json::object>(pqxx::work&)> read =
        [&](pqxx::work& tx) -> std::optional<json::object> {
        auto t = store::find(tx, id);
        const auto v = t ? reader(*who, *t) : std::nullopt;
        if (!v) {
            return std::nullopt;
        }
        const auto rows = store::timeline(tx, id, *v == view::staff);
        return ticket_json(*t, *v, &rows);
    };
    auto j = co_await c.pool.transact(std::move(read));
    if (!j) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(*j));
}

namespace {

// One step of work on a ticket: who may take it, and what it does in the transaction (an answer, or nullopt
// for "done": the ticket is answered as it now is). A step runs only for a caller of the roles act() was
// given who sees the ticket (others get 401, 403 or 404 first): under may::staff its view is view::staff,
// under may::provider view::provider.
using step_fn = std::function<std::optional<response>(
    pqxx::work&, store::ticket&, const json::object&, const auth::caller&, view, double)>;

enum class may { staff, family, both, provider };

// `members`: the body members the step reads, separated by spaces; any other is refused.
awaitable<response> act(context& c, request& req, may roles, std::string_view members, step_fn step) {
    auto who = roles == may::staff    ? auth::authorize(req, c.verifier, {auth::role::staff})
               : roles == may::family ? auth::authorize(req, c.verifier, {auth::role::family})
               : roles == may::provider
                   ? auth::authorize(req, c.verifier, {auth::role::provider})
                   : auth::authorize(req, c.verifier, {auth::role::family, auth::role::staff});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    json::object body;
    if (!req.body.empty()) {
        auto parsed = http::parse_json_object(req);
        if (!parsed) {
            co_return problem(req, parsed.error());
        }
        body = std::move(*parsed);
    }
    if (auto odd = unknown_member(body, members, "not a member of this request")) {
        co_return problem(req, *odd);
    }
    const double now = now_s(c);
    const auth::caller caller = *who;
    std::function<response(pqxx::work&)> write = [&](pqxx::work& tx) -> response {
        auto t = tx.exec_params("SELECT 1 FROM tickets WHERE id = $1::uuid FOR UPDATE", id).empty()
                     ? std::nullopt
                     : store::find(tx, id);
        const auto v = t ? reader(caller, *t) : std::nullopt;
        if (!v) {
            return problem(req, core::errc::not_found);
        }
        if (auto answer = step(tx, *t, body, caller, *v, now)) {
            return *answer;
        }
        auto fresh = store::find(tx, id);
        const auto rows = store::timeline(tx, id, *v == view::staff);
        return http::json_text_response(200, json::serialize(ticket_json(*fresh, *v, &rows)));
    };
    co_return co_await c.pool.transact(std::move(write));
}

}  // namespace

awaitable<response> claim(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        const auto* version = b.if_contains("version");
        if (!version || !version->is_int64()) {
            return problem(req, invalid("version", "the ticket's version as read"));
        }
        // One staff member at a time: the update holds only for the version the caller read, while open.
        auto r = tx.exec_params(
            "UPDATE tickets SET state = 'claimed', assignee = $2::uuid, version = version + 1,"
            " signed_at = coalesce(signed_at, to_timestamp($4::float8)) WHERE id = $1::uuid AND version = $3"
            " AND state = 'open'",
            t.id,
            who.id,
            static_cast<int>(version->as_int64()),
            now);
        if (r.affected_rows() == 0) {
            return problem(req,
                           core::errc::conflict,
                           "claimed by someone else, or changed since you read it",
                           "version");
        }
        store::note(tx, t.id, now, who.id, role_name(who), "claimed", "", false);
        publish(tx, c, "complaint.claimed", t);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "version", std::move(step));
}

awaitable<response> release(context& c, request& req) {
    step_fn step =
        [&](pqxx::work& tx, store::ticket& t, const json::object&, const auth::caller& who, view, double now)
        -> std::optional<response> {
        if (t.state != "claimed" || t.assignee != who.id) {
            return problem(req, core::errc::conflict, "only its holder releases a claimed ticket", "state");
        }
        tx.exec_params(
            "UPDATE tickets SET state = 'open', assignee = NULL, version = version + 1 WHERE id = $1::uuid",
            t.id);
        store::note(tx, t.id, now, who.id, role_name(who), "released", "", false);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "version", std::move(step));
}

awaitable<response> transfer(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        const auto* to = b.if_contains("community_id");
        const auto reason = text_member(b, "reason", 500);
        if (!to || !to->is_int64() || to->as_int64() < 100000000 || to->as_int64() > 999999999 ||
            to->as_int64() == t.community_id) {
            return problem(req, invalid("community_id", "another community id (9 digits)"));
        }
        if (!reason) {
            return problem(req,
                           invalid("reason", "why it belongs elsewhere (退单理由), 1 to 500 characters"));
        }
        if (t.state != "open" && t.state != "claimed") {
            return problem(req, core::errc::conflict, "only an open or claimed ticket moves", "state");
        }
        if (t.transfers >= c.cfg.max_transfers) {
            return problem(
                req,
                core::errc::conflict,
                "transferred " + std::to_string(t.transfers) + " times already: the district decides",
                "community_id");
        }
        tx.exec_params(
            "UPDATE tickets SET community_id = $2, transfers = transfers + 1, state = 'open', assignee = "
            "NULL,"
            " version = version + 1 WHERE id = $1::uuid",
            t.id,
            to->as_int64());
        store::note(tx,
                    t.id,
                    now,
                    who.id,
                    role_name(who),
                    "transferred",
                    std::to_string(t.community_id) + " → " + std::to_string(to->as_int64()) + ": " + *reason,
                    false);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "community_id reason", std::move(step));
}

awaitable<response> note(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view v,
                       double now) -> std::optional<response> {
        const auto text = text_member(b, "text", 2000);
        if (!text) {
            return problem(req, invalid("text", "1 to 2,000 characters, no control characters"));
        }
        // Staff notes are internal unless they say otherwise; a family's message is seen by staff and family.
        bool internal = v == view::staff;
        if (const auto* i = b.if_contains("internal")) {
            if (!i->is_bool() || (v != view::staff && i->as_bool())) {
                return problem(req, invalid("internal", "true (staff only) or false"));
            }
            internal = i->as_bool();
        }
        if (v == view::provider) {
            return problem(req, core::errc::forbidden, "providers answer when asked for a response");
        }
        store::note(tx, t.id, now, who.id, role_name(who), internal ? "note" : "message", *text, internal);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::both, "internal text", std::move(step));
}

awaitable<response> resolve(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        if (t.state != "claimed" || t.assignee != who.id) {
            return problem(req, core::errc::conflict, "claim the ticket first", "state");
        }
        const auto* outcome = b.if_contains("outcome");
        if (!outcome || !outcome->is_string() ||
            (outcome->as_string() != "upheld" && outcome->as_string() != "partly_upheld" &&
             outcome->as_string() != "not_upheld")) {
            return problem(req, invalid("outcome", "upheld, partly_upheld or not_upheld"));
        }
        const auto measures = text_member(b, "measures", 2000);
        if (!measures) {
            return problem(req, invalid("measures", "what was done (a warning, a suspension, a refund …)"));
        }
        std::optional<std::int64_t> refund;
        if (const auto* f = b.if_contains("refund_fen")) {
            if (!f->is_int64() || f->as_int64() < 0 || f->as_int64() > 100'000'000) {
                return problem(req, invalid("refund_fen", "an amount in fen, 0 or more"));
            }
            refund = f->as_int64();
        }
        // A suspension of the worker or organisation the ticket names, carried out by providers from the
        // event.
        std::optional<json::object> suspension;
        if (const auto* sv = b.if_contains("suspend")) {
            const auto* o = sv->if_object();
            const auto* target = o ? o->if_contains("target") : nullptr;
            const std::string what = target && target->is_string() ? std::string(target->as_string()) : "";
            const auto& id = what == "worker" ? t.worker_id : t.org_id;
            if ((what != "worker" && what != "org") || !id) {
                return problem(
                    req,
                    invalid("suspend",
                            "{\"target\": \"worker\" or \"org\", \"until\": …} of one the ticket names"));
            }
            const auto* until = o->if_contains("until");
            const auto at =
                until && until->is_string() ? core::parse_timestamp(until->as_string()) : std::nullopt;
            if (!at || std::chrono::duration<double>(at->time_since_epoch()).count() <= now) {
                return problem(req, invalid("suspend", "until: an ISO 8601 time in the future"));
            }
            if (outcome->as_string() == "not_upheld") {
                return problem(req, invalid("suspend", "a complaint not upheld suspends nobody"));
            }
            suspension = json::object{{"target", what},
                                      {"subject_id", *id},
                                      {"until", until->as_string()},
                                      {"reason", "complaint " + t.id},
                                      {"actor_id", who.id}};
        }
        tx.exec_params(
            "UPDATE tickets SET state = 'resolved', outcome = $2, measures = $3, refund_fen = $4,"
            " resolved_at = to_timestamp($5::float8), family_confirmed = false, version = version + 1"
            " WHERE id = $1::uuid",
            t.id,
            std::string(outcome->as_string()),
            *measures,
            refund,
            now);
        store::note(tx,
                    t.id,
                    now,
                    who.id,
                    role_name(who),
                    "resolved",
                    std::string(outcome->as_string()) + ": " + *measures,
                    false);
        publish(tx, c, "complaint.resolved", t, json::object{{"outcome", outcome->as_string()}});
        if (suspension) {
            publish(tx, c, "complaint.suspension_ordered", t, *suspension);
        }
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "measures outcome refund_fen suspend", std::move(step));
}

awaitable<response> confirm(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object&,
                       const auth::caller& who,
                       view v,
                       double now) -> std::optional<response> {
        if (v != view::family || t.state != "resolved") {
            return problem(
                req, core::errc::conflict, "only a resolved ticket of yours is confirmed", "state");
        }
        tx.exec_params(
            "UPDATE tickets SET family_confirmed = true, version = version + 1 WHERE id = $1::uuid", t.id);
        store::note(tx, t.id, now, who.id, role_name(who), "confirmed", "", false);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::family, "", std::move(step));
}

awaitable<response> reopen(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view v,
                       double now) -> std::optional<response> {
        if (v != view::family) {
            return problem(req, core::errc::forbidden, "the family that filed it reopens it");
        }
        const auto reason = text_member(b, "reason", 500);
        if (!reason) {
            return problem(req, invalid("reason", "why it is not solved, 1 to 500 characters"));
        }
        if (t.state != "resolved" || !t.resolved_s || now > *t.resolved_s + 86400.0 * c.cfg.reopen_days) {
            return problem(req,
                           core::errc::conflict,
                           "a resolved ticket reopens within " + std::to_string(c.cfg.reopen_days) + " days",
                           "state");
        }
        tx.exec_params(
            "UPDATE tickets SET state = 'open', assignee = NULL, outcome = NULL, measures = NULL, refund_fen "
            "= NULL,"
            " resolved_at = NULL, reopens = reopens + 1, version = version + 1 WHERE id = $1::uuid",
            t.id);
        store::note(tx, t.id, now, who.id, role_name(who), "reopened", *reason, false);
        publish(tx, c, "complaint.reopened", t);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::family, "reason", std::move(step));
}

awaitable<response> return_visit(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        const auto* s = b.if_contains("satisfaction");
        if (!s || !s->is_int64() || s->as_int64() < 1 || s->as_int64() > 5) {
            return problem(req, invalid("satisfaction", "the family's satisfaction, 1 to 5"));
        }
        std::string note_text;
        if (b.contains("note")) {
            auto given = text_member(b, "note", 2000);
            if (!given) {
                return problem(req, invalid("note", "1 to 2,000 characters, no control characters"));
            }
            note_text = std::move(*given);
        }
        if (t.state != "resolved") {
            return problem(req, core::errc::conflict, "a return visit follows the resolution", "state");
        }
        tx.exec_params("UPDATE tickets SET satisfaction = $2, version = version + 1 WHERE id = $1::uuid",
                       t.id,
                       static_cast<int>(s->as_int64()));
        store::note(
            tx,
            t.id,
            now,
            who.id,
            role_name(who),
            "return_visit",
            "satisfaction " + std::to_string(s->as_int64()) + (note_text.empty() ? "" : ": " + note_text),
            false);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "note satisfaction", std::move(step));
}

awaitable<response> close(context& c, request& req) {
    step_fn step =
        [&](pqxx::work& tx, store::ticket& t, const json::object&, const auth::caller& who, view, double now)
        -> std::optional<response> {
        if (t.state != "resolved") {
            return problem(req, core::errc::conflict, "only a resolved ticket closes", "state");
        }
        const bool needs_visit =
            t.source == "rating" || t.outcome == "upheld" || t.outcome == "partly_upheld";
        if (needs_visit && !t.satisfaction) {
            return problem(
                req, core::errc::conflict, "a return visit (回访) comes before closing this ticket", "state");
        }
        tx.exec_params(
            "UPDATE tickets SET state = 'closed', closed_at = to_timestamp($2::float8), version = version + 1"
            " WHERE id = $1::uuid",
            t.id,
            now);
        store::note(tx, t.id, now, who.id, role_name(who), "closed", "", false);
        json::object closed{{"source", t.source}};
        closed["review_id"] = t.review_id ? json::value(*t.review_id) : json::value(nullptr);
        publish(tx, c, "complaint.closed", t, closed);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "", std::move(step));
}

awaitable<response> change_severity(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        const auto* to = b.if_contains("severity");
        const std::string sev = to && to->is_string() ? std::string(to->as_string()) : "";
        if (sev != "urgent" && sev != "high" && sev != "normal") {
            return problem(req, invalid("severity", "urgent, high or normal"));
        }
        const auto reason = text_member(b, "reason", 500);
        if (!reason) {
            return problem(req, invalid("reason", "why the severity changes, 1 to 500 characters"));
        }
        if (t.state != "open" && t.state != "claimed") {
            return problem(
                req, core::errc::conflict, "only an open or claimed ticket changes severity", "state");
        }
        if (sev == t.severity) {
            return problem(req, core::errc::conflict, "the ticket has this severity already", "severity");
        }
        // The clocks run from the filing under the new severity; a breach already recorded stays recorded.
        const auto filed =
            core::clock::time_point(std::chrono::duration_cast<core::clock::time_point::duration>(
                std::chrono::duration<double>(t.created_s)));
        const auto [sign, resolve] = c.dues(sev, filed);
        auto secs = [](core::clock::time_point p) {
            return std::chrono::duration<double>(p.time_since_epoch()).count();
        };
        tx.exec_params(
            "UPDATE tickets SET severity = $2, sign_due = to_timestamp($3::float8),"
            " resolve_due = to_timestamp($4::float8), sign_warned = sign_breached,"
            " resolve_warned = resolve_breached, version = version + 1 WHERE id = $1::uuid",
            t.id,
            sev,
            secs(sign),
            secs(resolve));
        store::note(tx,
                    t.id,
                    now,
                    who.id,
                    role_name(who),
                    "severity_changed",
                    t.severity + " → " + sev + ": " + *reason,
                    false);
        const std::string from = t.severity;
        t.severity = sev;
        publish(tx, c, "complaint.severity_changed", t, json::object{{"from", from}, {"reason", *reason}});
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "reason severity", std::move(step));
}

awaitable<response> escalate(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        const auto reason = text_member(b, "reason", 500);
        if (!reason) {
            return problem(req, invalid("reason", "why the district should take it, 1 to 500 characters"));
        }
        if (t.state != "open" && t.state != "claimed") {
            return problem(req, core::errc::conflict, "only an open or claimed ticket is escalated", "state");
        }
        if (t.escalated) {
            return problem(req, core::errc::conflict, "escalated already", "state");
        }
        tx.exec_params("UPDATE tickets SET escalated = true, version = version + 1 WHERE id = $1::uuid",
                       t.id);
        store::note(tx, t.id, now, who.id, role_name(who), "escalated", *reason, false);
        publish(tx, c, "complaint.escalated", t, json::object{{"reason", *reason}, {"clock", nullptr}});
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "reason", std::move(step));
}

awaitable<response> ask_provider(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        const auto question = text_member(b, "question", 2000);
        if (!question) {
            return problem(req,
                           invalid("question", "what the organisation should answer, 1 to 2,000 characters"));
        }
        if (!t.org_id) {
            return problem(req, core::errc::conflict, "the ticket names no organisation to ask", "org_id");
        }
        if (t.state != "open" && t.state != "claimed") {
            return problem(
                req, core::errc::conflict, "only an open or claimed ticket asks the provider", "state");
        }
        if (t.provider_asked_at && !t.provider_answered_at) {
            return problem(
                req, core::errc::conflict, "the provider has not answered the last question yet", "state");
        }
        const auto asked =
            core::clock::time_point(std::chrono::duration_cast<core::clock::time_point::duration>(
                std::chrono::duration<double>(now)));
        const auto due = c.add_working_days(asked, c.cfg.provider_response_working_days);
        tx.exec_params(
            "UPDATE tickets SET provider_asked_at = to_timestamp($2::float8), provider_question = $3,"
            " provider_due = to_timestamp($4::float8), provider_answered_at = NULL,"
            " provider_response = NULL, provider_breached = false, version = version + 1"
            " WHERE id = $1::uuid",
            t.id,
            now,
            *question,
            std::chrono::duration<double>(due.time_since_epoch()).count());
        store::note(tx, t.id, now, who.id, role_name(who), "provider_asked", *question, false);
        publish(tx, c, "complaint.provider_asked", t);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::staff, "question", std::move(step));
}

awaitable<response> provider_answer(context& c, request& req) {
    step_fn step = [&](pqxx::work& tx,
                       store::ticket& t,
                       const json::object& b,
                       const auth::caller& who,
                       view,
                       double now) -> std::optional<response> {
        const auto text = text_member(b, "response", 2000);
        if (!text) {
            return problem(req, invalid("response", "the organisation's answer, 1 to 2,000 characters"));
        }
        if (!t.provider_asked_at || t.provider_answered_at) {
            return problem(req, core::errc::conflict, "nothing was asked of the provider", "state");
        }
        tx.exec_params(
            "UPDATE tickets SET provider_answered_at = to_timestamp($2::float8), provider_response = $3,"
            " version = version + 1 WHERE id = $1::uuid",
            t.id,
            now,
            *text);
        store::note(tx, t.id, now, who.id, role_name(who), "provider_responded", *text, false);
        publish(tx, c, "complaint.provider_responded", t);
        return std::nullopt;
    };
    co_return co_await act(c, req, may::provider, "response", std::move(step));
}

}  // namespace handlers

void app::add_routes(http::router& r) {
    context& c = ctx();
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("POST", "/v1/complaints", bind(&h::file));
    r.add("GET", "/v1/complaints", bind(&h::list));
    r.add("GET", "/v1/complaints/{id}", bind(&h::get));
    r.add("POST", "/v1/complaints/{id}/claim", bind(&h::claim));
    r.add("POST", "/v1/complaints/{id}/release", bind(&h::release));
    r.add("POST", "/v1/complaints/{id}/transfer", bind(&h::transfer));
    r.add("POST", "/v1/complaints/{id}/notes", bind(&h::note));
    r.add("POST", "/v1/complaints/{id}/resolve", bind(&h::resolve));
    r.add("POST", "/v1/complaints/{id}/confirm", bind(&h::confirm));
    r.add("POST", "/v1/complaints/{id}/reopen", bind(&h::reopen));
    r.add("POST", "/v1/complaints/{id}/return-visit", bind(&h::return_visit));
    r.add("POST", "/v1/complaints/{id}/close", bind(&h::close));
    r.add("POST", "/v1/complaints/{id}/severity", bind(&h::change_severity));
    r.add("POST", "/v1/complaints/{id}/escalate", bind(&h::escalate));
    r.add("POST", "/v1/complaints/{id}/ask-provider", bind(&h::ask_provider));
    r.add("POST", "/v1/complaints/{id}/provider-response", bind(&h::provider_answer));
}

}  // namespace carematch::complaints
