// orders' handlers: catalog, quote, idempotent placement, reads, and every lifecycle transition.
#include "context.hpp"
#include "dto.hpp"
#include "logic.hpp"
#include "repository.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/checks.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/http/json.hpp>
#include <carematch/http/peer.hpp>
#include <carematch/runtime/idempotency.hpp>

#include <boost/asio/awaitable.hpp>
#include <sodium.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <variant>

namespace carematch::orders::handlers {

using boost::asio::awaitable;
namespace json = boost::json;
using http::request;
using http::response;

namespace {

// Serving hours as the catalog file writes them: "HH:MM-HH:MM", local minutes of the day.
std::string hours_text(const std::pair<int, int>& hours) {
    char text[32];
    std::snprintf(text,
                  sizeof text,
                  "%02d:%02d-%02d:%02d",
                  hours.first / 60,
                  hours.first % 60,
                  hours.second / 60,
                  hours.second % 60);
    return text;
}

using http::problem;

using core::invalid;

std::string six_digits() {
    return std::to_string(100000 + randombytes_uniform(900000));
}

enum class view { family, worker, staff };

// Address and notes are opened here, for the caller the route already checked.
json::object order_json(const auth::sealer& s, const repo::order_row& o, view v) {
    json::object j{{"id", o.id},
                   {"recipient_id", o.recipient_id},
                   {"community_id", o.community_id},
                   {"kind", o.kind},
                   {"sub_type", o.sub_type},
                   {"status", o.status},
                   {"asap", o.asap},
                   {"window", json::object{{"start", o.window_start}, {"end", o.window_end}}},
                   {"address", s.open_nullable(o.address_sealed).value_or("")},
                   {"notes", s.open_nullable(o.notes_sealed).value_or("")},
                   {"created_at", o.created_at},
                   {"updated_at", o.updated_at}};
    j["location"] =
        o.lat && o.lon ? json::value(json::object{{"lat", *o.lat}, {"lon", *o.lon}}) : json::value(nullptr);
    j["worker_id"] = o.worker_id ? json::value(*o.worker_id) : json::value(nullptr);
    j["crew"] = o.crew;
    if (o.crew > 1) {
        j["second_worker_id"] = o.second_worker_id ? json::value(*o.second_worker_id) : json::value(nullptr);
    }
    if (v != view::worker) {
        j["price"] = json::object{{"price_fen", o.price_fen},
                                  {"subsidy_fen", o.subsidy_fen},
                                  {"family_fen", o.family_fen},
                                  {"cancellation_fee_fen", o.cancellation_fee_fen}};
    }
    if (v == view::family) {
        j["service_code"] = o.service_code;  // the elder tells the worker at the end of the service
    }
    return j;
}

json::array history_json(const std::vector<repo::history_row>& rows) {
    json::array a;
    for (const auto& h : rows) {
        json::object x{{"to", h.to_status},
                       {"actor_id", h.actor_id},
                       {"actor_role", h.actor_role},
                       {"reason", h.reason},
                       {"at", h.at}};
        x["from"] = h.from_status.empty() ? json::value(nullptr) : json::value(h.from_status);
        a.push_back(std::move(x));
    }
    return a;
}

// The recipient as identity shows it to a service; errc::not_found when absent, unavailable when identity is.
awaitable<core::result<json::object>> fetch_recipient(context& c, std::string id, std::string purpose) {
    if (!core::is_uuid(id)) {
        co_return core::errc::not_found;
    }
    co_return co_await http::get_json(c.peers,
                                      c.cfg.identity,
                                      "/v1/internal/recipients/" + id + "?purpose=" + purpose,
                                      c.issuer->issue_service("orders"));
}

struct priced {
    std::optional<core::problem> failure;
    quote q;
    json::object recipient;
    const catalog_item* item = nullptr;
};

// Prices the service for the recipient `rec` as identity describes it (nullopt: there is no such recipient),
// which must be the caller's elder.
priced price_with(const context& c,
                  const auth::caller& who,
                  std::optional<json::object> rec,
                  const std::string& kind,
                  const std::string& sub_type) {
    priced p;
    p.item = c.find(kind, sub_type);
    if (p.item == nullptr) {
        const bool known_kind = std::any_of(
            c.catalog.begin(), c.catalog.end(), [&](const catalog_item& i) { return i.kind == kind; });
        p.failure =
            invalid(known_kind ? "sub_type" : "kind",
                    "no such service in the catalog: " + kind.substr(0, 40) + "/" + sub_type.substr(0, 40));
        return p;
    }
    if (!rec) {
        p.failure = invalid("recipient_id", "no such recipient of yours");
        return p;
    }
    // Another family's recipient is answered exactly like a missing one. Staff order for the elders of their
    // communities (an elder without a smartphone calls the community).
    const bool theirs =
        who.is(auth::role::staff)
            ? rec->contains("community_id") && who.covers(rec->at("community_id").to_number<std::int64_t>())
            : rec->contains("family_id") && rec->at("family_id").as_string() == who.id;
    if (!theirs) {
        p.failure = invalid("recipient_id", "no such recipient of yours");
        return p;
    }
    if (rec->at("kind").as_string() != "elder") {
        p.failure = invalid("recipient_id", "home services are ordered for elders");
        return p;
    }
    std::vector<std::string> categories;
    for (const auto& x : rec->at("priority_categories").as_array()) {
        categories.emplace_back(x.as_string());
    }
    const int age =
        rec->at("birth_date").is_string() ? age_on(rec->at("birth_date").as_string(), c.today()) : 0;
    p.q = make_quote(p.item->price_fen, categories, age, c.cfg.subsidies);
    p.recipient = std::move(*rec);
    return p;
}

// Reads the recipient from identity (audited there under `purpose`) and prices the service for it.
awaitable<priced> price_for(context& c,
                            const auth::caller& who,
                            const std::string& recipient_id,
                            const std::string& kind,
                            const std::string& sub_type,
                            const std::string& purpose) {
    if (c.find(kind, sub_type) == nullptr) {
        co_return price_with(c, who, std::nullopt, kind, sub_type);  // no need to read anyone
    }
    auto rec = co_await fetch_recipient(c, recipient_id, purpose);
    if (!rec && rec.error() == core::errc::unavailable) {
        throw core::unavailable_error("identity unavailable");
    }
    std::optional<json::object> found;
    if (rec) {
        found = std::move(*rec);
    }
    co_return price_with(c, who, std::move(found), kind, sub_type);
}

// The elder as identity's recipient.saved described it, or nullopt when orders has not seen it (yet).
std::optional<json::object> recipient_seen(pqxx::work& tx, const std::string& id) {
    if (!core::is_uuid(id)) {
        return std::nullopt;
    }
    auto r = tx.exec_params("SELECT facts::text FROM recipients_seen WHERE recipient_id = $1::uuid", id);
    if (r.empty()) {
        return std::nullopt;
    }
    auto v = json::parse(r[0][0].as<std::string>());
    return v.is_object() ? std::optional<json::object>(std::move(v.as_object())) : std::nullopt;
}

// Thrown inside the order's transaction when the recipient is not in recipients_seen: the transaction rolls
// back (the key included) and the order is tried again with identity's answer.
struct recipient_not_seen : std::exception {
    const char* what() const noexcept override { return "recipient not in recipients_seen"; }
};

json::object quote_json(const quote& q) {
    return json::object{{"price_fen", q.price_fen},
                        {"subsidy_percent", q.subsidy_percent},
                        {"subsidy_fen", q.subsidy_fen},
                        {"family_fen", q.family_fen},
                        {"subsidy_rule", q.rule.empty() ? json::value(nullptr) : json::value(q.rule)}};
}

std::optional<repo::page_cursor> parse_cursor(const std::optional<std::string>& text) {
    if (!text) {
        return std::nullopt;
    }
    auto sep = text->find('_');
    if (sep == std::string::npos || !core::is_uuid(text->substr(sep + 1)) || sep > 40) {
        return repo::page_cursor{};  // malformed: caught by the caller
    }
    return repo::page_cursor{text->substr(0, sep), text->substr(sep + 1)};
}

// What the database cannot judge about a window: how far ahead it starts (the horizon) and, for a service
// with serving hours (meal slots), whether it lies inside them in local time; and that the text is a time.
std::optional<core::problem> window_problem(const context& c,
                                            const catalog_item& item,
                                            const std::optional<std::string>& start,
                                            const std::optional<std::string>& end) {
    const auto now = c.clock.now();
    const auto s =
        start ? core::parse_timestamp(*start) : std::optional(now + std::chrono::minutes(item.lead_min));
    const auto e = end ? core::parse_timestamp(*end) : s;
    if (!s || !e) {
        return core::invalid(!s ? "start" : "end",
                             "ISO 8601 times with their zone, e.g. 2026-12-01T09:00:00+08:00");
    }
    if (*s > now + std::chrono::days(c.cfg.horizon_days)) {
        return core::invalid("start", "at most " + std::to_string(c.cfg.horizon_days) + " days ahead");
    }
    if (item.hours) {
        const auto offset = c.service_settings.local.utc_offset();
        auto minute_of_day = [&](core::clock::time_point t) {
            const auto local = std::chrono::floor<std::chrono::minutes>(t.time_since_epoch()) + offset;
            return static_cast<int>(((local.count() % 1440) + 1440) % 1440);
        };
        const auto same_day = std::chrono::floor<std::chrono::days>(s->time_since_epoch() + offset) ==
                              std::chrono::floor<std::chrono::days>(e->time_since_epoch() + offset);
        const int from = minute_of_day(*s);
        const int to = minute_of_day(*e) + (same_day ? 0 : 1440);
        if (from < item.hours->first || to > item.hours->second) {
            return core::invalid("start",
                                 item.sub_type + " is served " + hours_text(*item.hours) + " local time" +
                                     (start ? "" : ": order it ahead for that time"));
        }
    }
    return std::nullopt;
}

const char* role_name(const auth::caller& who) {
    return auth::to_string(who.role).data();
}

}  // namespace

awaitable<response> get_catalog(context& c, request&) {
    json::array items;
    for (const auto& i : c.catalog) {
        items.push_back(json::object{{"kind", i.kind},
                                     {"sub_type", i.sub_type},
                                     {"name", i.name},
                                     {"price_fen", i.price_fen},
                                     {"duration_min", i.duration_min},
                                     {"lead_min", i.lead_min},
                                     {"credentials", json::value_from(i.credentials)}});
        if (i.hours) {
            // When it is served, local time: a client needs it to offer only the windows it may order.
            items.back().as_object()["hours"] = hours_text(*i.hours);
        }
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

awaitable<response> post_quote(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    auto body = http::parse_json_body<quote_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    auto p = co_await price_for(c, *authorized, body->recipient_id, body->kind, body->sub_type, "quote");
    if (p.failure) {
        co_return problem(req, *p.failure);
    }
    co_return http::json_text_response(200, json::serialize(quote_json(p.q)));
}

namespace {

// Checks a place_order body on its own, before anything is read or claimed: a malformed or invalid body costs
// no transaction and leaves no key behind.
std::optional<response> body_refusal(const request& req, const auth::caller& who, const place_body& body) {
    if (body.start.has_value() != body.end.has_value()) {
        return problem(req,
                       invalid(body.start ? "end" : "start",
                               "give both start and end, or neither (as soon as possible)"));
    }
    if (body.notes && !core::plain_text(*body.notes, 500)) {
        return problem(req, invalid("notes", "text of at most 500 characters, no control characters"));
    }
    if (who.is(auth::role::staff) != body.reason.has_value() ||
        (body.reason && (body.reason->empty() || !core::plain_text(*body.reason, 200)))) {
        return problem(
            req,
            invalid("reason",
                    who.is(auth::role::staff) ? "staff ordering for an elder say why, 1 to 200 characters"
                                              : "only staff ordering for an elder give a reason"));
    }
    return runtime::missing_idempotency_key(req);
}

// The order the elder's facts `rec` allow (nullopt: no such elder), or the refusal: what placing an order
// alone and in a group commit share.
std::variant<core::problem, repo::new_order> prepare_order(const context& c,
                                                           const auth::caller& who,
                                                           const place_body& body,
                                                           std::optional<json::object> rec,
                                                           core::clock::time_point now,
                                                           json::object& recipient) {
    auto p = price_with(c, who, std::move(rec), body.kind, body.sub_type);
    if (p.failure) {
        return *p.failure;
    }
    if (auto bad = window_problem(c, *p.item, body.start, body.end)) {
        return *bad;
    }
    repo::new_order o;
    repo::order_row& row = o.row;
    row.id = core::new_uuid();
    // The order is the family's, also when staff placed it for the elder.
    row.family_id = who.is(auth::role::staff) ? std::string(p.recipient.at("family_id").as_string()) : who.id;
    row.recipient_id = body.recipient_id;
    row.community_id = p.recipient.at("community_id").as_int64();
    row.kind = body.kind;
    row.sub_type = body.sub_type;
    row.asap = !body.start.has_value();
    // recipient.saved carries the address sealed; identity's own answer (the fallback) in plain text.
    if (const auto* a = p.recipient.if_contains("address_sealed"); a && a->is_string()) {
        row.address_sealed = std::string(a->as_string());
    } else if (const auto* plain = p.recipient.if_contains("address"); plain && plain->is_string()) {
        row.address_sealed = c.sealer->seal_text(plain->as_string());
    }
    if (const auto* l = p.recipient.if_contains("location"); l && l->is_object()) {
        row.lat = l->at("lat").to_number<double>();
        row.lon = l->at("lon").to_number<double>();
    }
    row.notes_sealed = c.sealer->seal_nonempty(body.notes.value_or(""));
    row.price_fen = p.q.price_fen;
    row.subsidy_fen = p.q.subsidy_fen;
    row.family_fen = p.q.family_fen;
    row.service_code = six_digits();
    if (const auto* a = p.recipient.if_contains("ability_level"); a && (a->is_int64() || a->is_uint64())) {
        row.crew = crew_for(row.kind,
                            static_cast<int>(std::clamp<std::int64_t>(a->to_number<std::int64_t>(), 0, 4)),
                            c.cfg.crew_from_level);
    }
    if (body.start) {
        o.start = core::parse_timestamp(*body.start);  // parsed by window_problem already
        o.end = core::parse_timestamp(*body.end);
    }
    o.lead_minutes = p.item->lead_min;
    o.asap_minutes = 120;
    o.now = now;
    // Who placed it, for the family to see in the history.
    o.actor_id = who.id;
    o.actor_role = role_name(who);
    o.reason = body.reason.value_or("");
    recipient = std::move(p.recipient);
    return o;
}

// The answer to an order as stored (nullopt: its window was refused), and its order.created event.
response placed(const context& c,
                const request& req,
                const repo::new_order& asked,
                const std::optional<repo::order_row>& stored,
                const json::object& recipient,
                std::vector<db::outgoing_event>& events) {
    if (!stored) {
        return problem(req,
                       invalid("start",
                               "the window must be ISO 8601 times, start at least " +
                                   std::to_string(asked.lead_minutes) +
                                   " minutes from now, end after start, within 24 hours"));
    }
    json::object event{{"order_id", stored->id},
                       {"family_id", stored->family_id},
                       {"recipient_id", stored->recipient_id},
                       {"community_id", stored->community_id},
                       {"kind", stored->kind},
                       {"sub_type", stored->sub_type},
                       {"window_start", stored->window_start},
                       {"window_end", stored->window_end},
                       {"asap", stored->asap},
                       {"crew", stored->crew}};
    event["location"] = order_json(*c.sealer, *stored, view::worker)["location"];
    // What matching weighs and filters by, so that it never reads the recipient itself.
    for (const char* k : {"ability_level", "priority_categories", "gender_preference"}) {
        if (const auto* v = recipient.if_contains(k)) {
            event[k] = *v;
        }
    }
    events.push_back({"carematch:{region:" + std::to_string(stored->community_id / 1000) + "}:orders",
                      "order.created",
                      json::serialize(event)});
    return http::json_text_response(201, json::serialize(order_json(*c.sealer, *stored, view::family)));
}

// One order waiting for its group commit; `answer` stays empty when it must be placed alone.
struct intake_entry : db::group_commit::entry {
    const request* req = nullptr;
    const auth::caller* who = nullptr;
    const place_body* body = nullptr;
    core::clock::time_point now;
    std::optional<response> answer;
};

}  // namespace

void place_together(context& c, pqxx::work& tx, const std::vector<db::group_commit::entry*>& group) {
    std::vector<intake_entry*> es;
    std::vector<std::string> ids;
    for (auto* g : group) {
        auto* e = static_cast<intake_entry*>(g);
        e->answer.reset();  // set afresh when the transaction runs again
        es.push_back(e);
        if (core::is_uuid(e->body->recipient_id)) {
            ids.push_back(e->body->recipient_id);
        }
    }
    // The elders, as recipients_seen holds them.
    std::map<std::string, json::object> seen;
    if (!ids.empty()) {
        for (const auto& r : tx.exec_params("SELECT recipient_id::text, facts::text FROM recipients_seen"
                                            " WHERE recipient_id = ANY($1::uuid[])",
                                            db::text_array(ids))) {
            auto v = json::parse(r[1].as<std::string>());
            if (v.is_object()) {
                seen.emplace(r[0].as<std::string>(), std::move(v.as_object()));
            }
        }
    }
    // An elder orders has not seen yet is read from identity: that order is placed alone. The others' keys
    // are claimed here, and a key used before is answered here too (replayed, or 422).
    std::vector<intake_entry*> here;
    std::vector<runtime::idempotent_request> asked;
    for (auto* e : es) {
        if (seen.contains(e->body->recipient_id) || c.find(e->body->kind, e->body->sub_type) == nullptr) {
            here.push_back(e);
            asked.push_back({e->req, e->who->id});
        }
    }
    const auto keys = runtime::claim_fresh_idempotent(tx, asked, c.clock.now(), c.sealer.get());
    // Each claimed one is refused (the refusal stored as its answer, as when placed alone) or inserted.
    std::vector<std::size_t> claimed;
    std::vector<response> answers;
    std::vector<repo::new_order> orders;
    std::vector<std::size_t> inserted;  // into answers
    std::vector<json::object> recipients;
    for (std::size_t i = 0; i < here.size(); ++i) {
        if (keys[i].claim.token.empty()) {
            continue;
        }
        claimed.push_back(i);
        std::optional<json::object> rec;
        if (auto it = seen.find(here[i]->body->recipient_id); it != seen.end()) {
            rec = it->second;
        }
        json::object recipient;
        auto prepared =
            prepare_order(c, *here[i]->who, *here[i]->body, std::move(rec), here[i]->now, recipient);
        if (auto* refused = std::get_if<core::problem>(&prepared)) {
            answers.push_back(problem(*here[i]->req, *refused));
        } else {
            answers.emplace_back();
            inserted.push_back(answers.size() - 1);
            orders.push_back(std::move(std::get<repo::new_order>(prepared)));
            recipients.push_back(std::move(recipient));
        }
    }
    const auto stored = repo::insert_orders(tx, orders);
    std::vector<db::outgoing_event> events;
    for (std::size_t k = 0; k < inserted.size(); ++k) {
        answers[inserted[k]] =
            placed(c, *here[claimed[inserted[k]]]->req, orders[k], stored[k], recipients[k], events);
    }
    db::enqueue_events(tx, c.cfg.schema, events);
    std::vector<std::pair<const runtime::idempotency_claim*, const response*>> done;
    for (std::size_t k = 0; k < claimed.size(); ++k) {
        done.emplace_back(&keys[claimed[k]].claim, &answers[k]);
    }
    runtime::finish_idempotent_all(tx, done);
    for (std::size_t k = 0; k < claimed.size(); ++k) {
        here[claimed[k]]->answer = std::move(answers[k]);
    }
    for (std::size_t i = 0; i < here.size(); ++i) {
        if (keys[i].answer) {
            here[i]->answer = keys[i].answer;
        }
    }
}

awaitable<response> place_order(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family, auth::role::staff});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto body = http::parse_json_body<place_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (auto refused = body_refusal(req, who, *body)) {
        co_return std::move(*refused);
    }
    const auto now = c.clock.now();
    // Concurrent orders share a transaction and its commit (group commit): the common case, an elder orders
    // has seen and a fresh key, is answered from there. Whatever else (an elder not seen yet, a refusal, a
    // key used before, a group that failed) is placed alone below, as the only order of its transaction.
    intake_entry entry;
    entry.req = &req;
    entry.who = &who;
    entry.body = &*body;
    entry.now = now;
    bool alone = false;
    try {
        co_await c.intake->submit(entry);
    } catch (const core::overloaded_error&) {
        throw;
    } catch (const core::unavailable_error&) {
        throw;
    } catch (const std::exception& e) {
        core::log::warn("orders.group_failed", {{"error", e.what()}});
        alone = true;  // (no co_await inside a handler)
    }
    if (!alone && entry.answer) {
        co_return std::move(*entry.answer);
    }
    // Alone: one transaction claims the key, reads the elder from recipients_seen (fed by identity's events),
    // prices the service, and writes the order, its history, its event and the stored answer. A repeat of the
    // key replays the first answer from that transaction; a concurrent one waits for it. An elder orders has
    // not seen yet (identity's event still on its way) is read from identity instead, and the transaction run
    // again.
    bool ask_identity = false;
    std::optional<json::object> from_identity;
    std::function<response(pqxx::work&)> place = [&](pqxx::work& tx) -> response {
        runtime::idempotency_claim claim;
        if (auto earlier = runtime::claim_idempotent_in(tx, req, who.id, now, claim, c.sealer.get())) {
            return std::move(*earlier);
        }
        std::optional<json::object> rec =
            ask_identity ? from_identity : recipient_seen(tx, body->recipient_id);
        if (!rec && !ask_identity && c.find(body->kind, body->sub_type) != nullptr) {
            throw recipient_not_seen{};
        }
        json::object recipient;
        auto prepared = prepare_order(c, who, *body, std::move(rec), now, recipient);
        response r;
        if (const auto* refused = std::get_if<core::problem>(&prepared)) {
            r = problem(req, *refused);
        } else {
            const auto& o = std::get<repo::new_order>(prepared);
            std::vector<db::outgoing_event> events;
            r = placed(c, req, o, repo::insert_orders(tx, {o}).front(), recipient, events);
            db::enqueue_events(tx, c.cfg.schema, events);
        }
        runtime::finish_idempotent(tx, claim, r);
        return r;
    };
    bool unseen = false;
    try {
        auto first = place;  // a copy: `place` runs again below when the elder is not seen yet
        co_return co_await c.pool.transact(std::move(first));
    } catch (const recipient_not_seen&) {
        unseen = true;  // (no co_await inside a handler)
    }
    if (unseen) {
        auto rec = co_await fetch_recipient(c, body->recipient_id, "order");
        if (!rec && rec.error() == core::errc::unavailable) {
            throw core::unavailable_error("identity unavailable");
        }
        ask_identity = true;
        if (rec) {
            from_identity = std::move(*rec);
        }
    }
    co_return co_await c.pool.transact(std::move(place));
}

awaitable<response> list_orders(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family, auth::role::staff});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    const auto asked = http::page_limit(req, 20);
    if (!asked) {
        co_return problem(req, invalid("limit", "must be 1 to 100"));
    }
    const int limit = *asked;
    auto cursor = parse_cursor(req.query_param("cursor"));
    if (cursor && cursor->id.empty()) {
        co_return problem(req, invalid("cursor", "not a cursor this service gave out"));
    }
    auto status_filter = req.query_param("status");
    if (status_filter && !parse_status(*status_filter)) {
        co_return problem(req, invalid("status", "unknown status"));
    }
    std::optional<std::int64_t> community;
    if (who.is(auth::role::staff)) {
        community = http::int_param(req, "community_id");
        if (!community && req.query_param("community_id")) {
            co_return problem(req, core::bad_query("community_id", "a community id (digits only)"));
        }
        if (!community) {
            co_return problem(req, invalid("community_id", "staff list the orders of one community"));
        }
        if (!who.covers(*community)) {
            co_return auth::deny(core::errc::forbidden, req.request_id);
        }
    }
    auto rows = co_await c.pool.transact([&](pqxx::work& tx) {
        return community ? repo::list_for_community(tx, *community, cursor, limit + 1)
                         : repo::list_for_family(tx, who.id, status_filter, cursor, limit + 1);
    });
    json::object page;
    if (static_cast<int>(rows.size()) > limit) {
        rows.pop_back();
        page["next_cursor"] = rows.back().created_at + "_" + rows.back().id;
    } else {
        page["next_cursor"] = nullptr;
    }
    json::array items;
    for (const auto& r : rows) {
        items.push_back(order_json(*c.sealer, r, community ? view::staff : view::family));
    }
    page["items"] = std::move(items);
    co_return http::json_text_response(200, json::serialize(page));
}

namespace {

// Who may see this order, and how: the family that placed it, the worker it is offered or assigned to while
// the job is live, staff of its community. Nobody else learns that it exists.
std::optional<view> visibility(const auth::caller& who, const repo::order_row& o) {
    if (who.is(auth::role::family) && o.family_id == who.id) {
        return view::family;
    }
    if (who.is(auth::role::worker) && (o.worker_id == who.id || o.second_worker_id == who.id)) {
        auto s = parse_status(o.status);
        if (s == status::offered || s == status::assigned || s == status::en_route ||
            s == status::in_service) {
            return view::worker;
        }
    }
    if (who.is(auth::role::staff) && who.covers(o.community_id)) {
        return view::staff;
    }
    return std::nullopt;
}

}  // namespace

awaitable<response> get_order(context& c, request& req) {
    auto authorized =
        auth::authorize(req, c.verifier, {auth::role::family, auth::role::worker, auth::role::staff});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto found = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<json::object> {
        auto o = repo::find_order(tx, id);
        if (!o) {
            return std::nullopt;
        }
        auto v = visibility(*authorized, *o);
        if (!v) {
            return std::nullopt;
        }
        auto j = order_json(*c.sealer, *o, *v);
        j["history"] = history_json(repo::history(tx, id));
        return j;
    });
    if (!found) {
        co_return problem(req, core::errc::not_found);
    }
    // The assigned worker sees the elder's health notes while the job is theirs, when the family consented to
    // share them with the provider; identity audits the read under this order.
    const std::string status(found->at("status").as_string());
    if (authorized->is(auth::role::worker) &&
        (status == "assigned" || status == "en_route" || status == "in_service")) {
        auto rec =
            co_await fetch_recipient(c, std::string(found->at("recipient_id").as_string()), "order:" + id);
        const auto* notes = rec ? rec->if_contains("health_notes") : nullptr;
        (*found)["health_notes"] = notes != nullptr ? *notes : json::value(nullptr);
    }
    co_return http::json_text_response(200, json::serialize(*found));
}

namespace {

// Great-circle distance in km.
double distance_km(double lat1, double lon1, double lat2, double lon2) {
    constexpr double rad = 3.14159265358979323846 / 180.0;
    const double dlat = (lat2 - lat1) * rad;
    const double dlon = (lon2 - lon1) * rad;
    const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                     std::cos(lat1 * rad) * std::cos(lat2 * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * 6371.0 * std::asin(std::min(1.0, std::sqrt(h)));
}

// Wrong service codes an order takes before completion locks (until the family issues a new code).
constexpr int code_attempt_limit = 5;

struct moved {
    enum class outcome { done, not_found, illegal, bad_code, locked, too_far } result = outcome::done;
    std::optional<repo::order_row> row;
    double distance_m = 0;  // too_far: how far the worker was
    int radius_m = 0;       // and how near it must be
};

// One transition by a family or worker: visibility, the state machine, the conditional update, history and
// the event, all in one transaction.
awaitable<moved> move(context& c,
                      const auth::caller& who,
                      const std::string& id,
                      status to,
                      const std::string& reason,
                      const std::optional<std::string>& service_code,
                      const std::optional<std::pair<double, double>>& position = std::nullopt) {
    co_return co_await c.pool.transact([&](pqxx::work& tx) {
        moved m;
        auto o = repo::find_order(tx, id);
        bool owner =
            o && ((who.is(auth::role::family) && o->family_id == who.id) ||
                  (who.is(auth::role::worker) && (o->worker_id == who.id || o->second_worker_id == who.id)));
        if (!owner) {
            m.result = moved::outcome::not_found;
            return m;
        }
        auto from = parse_status(o->status).value_or(status::failed);
        if (!allowed(from, to)) {
            m.result = moved::outcome::illegal;
            return m;
        }
        if (service_code) {
            // The row is locked while the code is judged: concurrent guesses are counted one after another.
            const int failures =
                tx.exec_params("SELECT code_failures FROM orders WHERE id = $1::uuid FOR UPDATE", id)[0][0]
                    .as<int>();
            const char* outcome = failures >= code_attempt_limit     ? "locked"
                                  : *service_code != o->service_code ? "wrong"
                                                                     : "right";
            tx.exec_params(
                "INSERT INTO code_attempts (order_id, actor_id, outcome) VALUES ($1::uuid, $2, $3)",
                id,
                who.id,
                std::string(outcome));
            if (std::string_view(outcome) == "locked") {
                m.result = moved::outcome::locked;
                return m;
            }
            if (std::string_view(outcome) == "wrong") {
                tx.exec_params("UPDATE orders SET code_failures = code_failures + 1 WHERE id = $1::uuid", id);
                m.result = moved::outcome::bad_code;
                return m;
            }
        }
        if (position && o->lat && o->lon) {
            // Check-in happens at the door: the worker's position is recorded with its distance.
            m.distance_m = 1000.0 * distance_km(*o->lat, *o->lon, position->first, position->second);
            m.radius_m = c.cfg.check_in_radius_m;
            if (m.distance_m > c.cfg.check_in_radius_m) {
                m.result = moved::outcome::too_far;
                return m;
            }
            tx.exec_params(
                "UPDATE orders SET check_in_lat = $2, check_in_lon = $3, check_in_distance_m = $4 WHERE id = "
                "$1::uuid",
                id,
                position->first,
                position->second,
                m.distance_m);
        }
        repo::transition_change change;
        if (to == status::cancelled) {
            change.cancellation_fee_fen = cancellation_fee(from, o->family_fen);
        }
        // Conditional on the state just read: a concurrent transition makes this one a conflict.
        auto updated = repo::transition(tx, id, {from}, to, std::nullopt, change);
        if (!updated) {
            m.result = moved::outcome::illegal;
            return m;
        }
        repo::add_history(
            tx, id, std::string(to_string(from)), std::string(to_string(to)), who.id, role_name(who), reason);
        const char* event = to == status::cancelled    ? "order.cancelled"
                            : to == status::en_route   ? "order.en_route"
                            : to == status::in_service ? "order.started"
                            : to == status::completed  ? "order.completed"
                                                       : nullptr;
        if (event != nullptr) {
            json::object payload{
                {"order_id", id}, {"status", std::string(to_string(to))}, {"actor_id", who.id}};
            // Who served whom: ratings and complaints keep it as the facts a family may rate or complain
            // about.
            payload["family_id"] = updated->family_id;
            payload["recipient_id"] = updated->recipient_id;
            payload["community_id"] = updated->community_id;
            payload["kind"] = updated->kind;
            payload["sub_type"] = updated->sub_type;
            payload["worker_id"] =
                updated->worker_id ? json::value(*updated->worker_id) : json::value(nullptr);
            payload["org_id"] = updated->org_id ? json::value(*updated->org_id) : json::value(nullptr);
            if (updated->second_worker_id) {  // a crew: seat 1 served too
                payload["second_worker_id"] = *updated->second_worker_id;
                payload["second_org_id"] =
                    updated->second_org_id ? json::value(*updated->second_org_id) : json::value(nullptr);
            }
            payload["at"] = updated->updated_at;
            db::enqueue_event(
                tx,
                c.cfg.schema,
                "carematch:{region:" + std::to_string(updated->community_id / 1000) + "}:orders",
                event,
                json::serialize(payload));
        }
        m.row = std::move(updated);
        return m;
    });
}

response moved_response(const context& c, const request& req, const moved& m, view v) {
    switch (m.result) {
        case moved::outcome::not_found:
            return problem(req, core::errc::not_found);
        case moved::outcome::illegal:
            return problem(req, core::errc::conflict, "not allowed in the order's current state", "status");
        case moved::outcome::bad_code:
            return problem(req, invalid("service_code", "wrong service code"));
        case moved::outcome::too_far:
            return problem(
                req,
                invalid("lat",
                        "you are " + std::to_string(static_cast<long>(m.distance_m)) +
                            " m from the address: check in within " + std::to_string(m.radius_m) + " m"));
        case moved::outcome::locked:
            return problem(req,
                           core::errc::conflict,
                           "completion is locked after " + std::to_string(code_attempt_limit) +
                               " wrong codes: the family issues a new one",
                           "service_code");
        case moved::outcome::done:
            break;
    }
    return http::json_text_response(200, json::serialize(order_json(*c.sealer, *m.row, v)));
}

}  // namespace

awaitable<response> cancel_order(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    std::string reason;
    if (!req.body.empty()) {
        auto body = http::parse_json_body<cancel_body>(req);
        if (!body) {
            co_return problem(req, body.error());
        }
        reason = body->reason.value_or("");
        if (reason.size() > 200) {
            co_return problem(req, invalid("reason", "at most 200 bytes"));
        }
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto m = co_await move(c, *authorized, id, status::cancelled, reason, std::nullopt);
    co_return moved_response(c, req, m, view::family);
}

awaitable<response> worker_step(context& c, request& req, status to) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::worker});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    std::optional<std::string> code;
    std::optional<std::pair<double, double>> position;
    if (to == status::completed) {
        auto body = http::parse_json_body<complete_body>(req);
        if (!body) {
            co_return problem(req, body.error());
        }
        code = body->service_code;
    } else if (to == status::in_service) {
        auto body = http::parse_json_body<check_in_body>(req);
        if (!body) {
            co_return problem(req, body.error());
        }
        if (!core::in_china(body->lat, body->lon)) {
            co_return problem(req, invalid("lat", "your position: lat and lon inside China"));
        }
        position = std::pair{body->lat, body->lon};
    }
    auto m = co_await move(c, *authorized, id, to, "", code, position);
    co_return moved_response(c, req, m, view::worker);
}

awaitable<response> start_travel(context& c, request& req) {
    co_return co_await worker_step(c, req, status::en_route);
}
awaitable<response> check_in(context& c, request& req) {
    co_return co_await worker_step(c, req, status::in_service);
}
awaitable<response> complete(context& c, request& req) {
    co_return co_await worker_step(c, req, status::completed);
}

// The family issues a new one-time code (after a lock, or when the old one was seen by someone else).
awaitable<response> new_service_code(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    const std::string code = six_digits();
    const std::string who = authorized->id;
    auto result =
        co_await c.pool.transact([&](pqxx::work& tx) -> std::pair<int, std::optional<repo::order_row>> {
            auto o = repo::find_order(tx, id);
            if (!o || o->family_id != who) {
                return {404, std::nullopt};
            }
            const auto s = parse_status(o->status).value_or(status::failed);
            if (terminal(s)) {
                return {409, std::nullopt};
            }
            tx.exec_params(
                "UPDATE orders SET service_code = $2, code_failures = 0 WHERE id = $1::uuid", id, code);
            tx.exec_params(
                "INSERT INTO code_attempts (order_id, actor_id, outcome) VALUES ($1::uuid, $2, 'reissued')",
                id,
                who);
            return {200, repo::find_order(tx, id)};
        });
    if (result.first == 404) {
        co_return problem(req, core::errc::not_found);
    }
    if (result.first == 409) {
        co_return problem(req, core::errc::conflict, "the order is over", "status");
    }
    co_return http::json_text_response(200,
                                       json::serialize(order_json(*c.sealer, *result.second, view::family)));
}

namespace {

// What the body of a transition alone decides: nullopt when it may be tried, else the field and why.
std::optional<std::pair<const char*, const char*>> check_transition(const internal_transition_body& b) {
    auto to = parse_status(b.to);
    if (!to || !(to == status::matching || to == status::offered || to == status::assigned ||
                 to == status::expired || to == status::failed)) {
        return std::pair{"to", "matching, offered, assigned, expired or failed"};
    }
    if ((to == status::offered) != b.worker_id.has_value() || (b.worker_id && !core::is_uuid(*b.worker_id)) ||
        (b.org_id && !core::is_uuid(*b.org_id))) {
        return std::pair{"worker_id", "an offer names a worker (and its org); nothing else does"};
    }
    if ((b.second_worker_id && (to != status::offered || !core::is_uuid(*b.second_worker_id) ||
                                *b.second_worker_id == b.worker_id)) ||
        (b.second_org_id && (!b.second_worker_id || !core::is_uuid(*b.second_org_id)))) {
        return std::pair{"second_worker_id",
                         "an offer to a crew names a second, different worker (and its org)"};
    }
    // Accept, decline and expiry all end an offer: each carries the offer's attempt (fencing token), and the
    // first to land moves the attempt on, so exactly one of them wins.
    if ((to == status::assigned || to == status::matching || to == status::expired) && !b.attempt) {
        return std::pair{"attempt", "this transition carries the order's attempt (fencing token)"};
    }
    return std::nullopt;
}

// Applies one checked transition in `tx`: the order as it now is, or nullopt when the order is not in a state
// that allows it (or the attempt moved).
std::optional<repo::order_row> transition_in(context& c,
                                             pqxx::work& tx,
                                             const std::string& id,
                                             const internal_transition_body& b,
                                             const std::string& actor) {
    const auto to = *parse_status(b.to);
    repo::transition_change change;
    change.worker_id = b.worker_id;
    change.org_id = b.org_id;
    change.second_worker_id = b.second_worker_id;
    change.second_org_id = b.second_org_id;
    change.bump_attempt = to == status::offered;
    change.clear_worker = to == status::matching || to == status::expired;
    auto updated = repo::transition(tx, id, sources_of(to), to, b.attempt, change);
    if (!updated) {
        // A repeat of a transition that already landed (its answer was lost) gets the same answer: the order
        // is where that transition put it, with the attempt it moved on to (and the offer's worker).
        auto now = repo::find_order(tx, id);
        const bool moved = to == status::offered || to == status::assigned || to == status::matching;
        const bool repeat = now && now->status == b.to && b.attempt &&
                            (to == status::expired || (moved && now->attempt == *b.attempt + 1)) &&
                            (to != status::offered ||
                             (now->worker_id == b.worker_id && now->second_worker_id == b.second_worker_id));
        return repeat ? now : std::nullopt;
    }
    repo::add_history(tx, id, std::nullopt, b.to, actor, "service", b.reason.value_or(""));
    if (to == status::expired || to == status::failed) {
        json::object payload{{"order_id", id},
                             {"status", b.to},
                             {"family_id", updated->family_id},
                             {"community_id", updated->community_id}};
        db::enqueue_event(tx,
                          c.cfg.schema,
                          "carematch:{region:" + std::to_string(updated->community_id / 1000) + "}:orders",
                          to == status::expired ? "order.expired" : "order.failed",
                          json::serialize(payload));
    }
    return updated;
}

}  // namespace

awaitable<response> internal_transition(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::service}, true);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto body = http::parse_json_body<internal_transition_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (auto bad = check_transition(*body)) {
        co_return problem(req, invalid(bad->first, bad->second));
    }
    auto result = co_await c.pool.transact(
        [&](pqxx::work& tx) { return transition_in(c, tx, id, *body, authorized->id); });
    if (!result) {
        co_return problem(
            req,
            core::errc::conflict,
            "the order is not in a state that allows this, the attempt (fencing token) moved, or an offer "
            "names fewer or more workers than the order's crew",
            "to");
    }
    auto answer = order_json(*c.sealer, *result, view::staff);
    answer["attempt"] = result->attempt;  // what the next transition out of this state presents
    co_return http::json_text_response(200, json::serialize(answer));
}

// Up to 500 transitions in one transaction, each with its own outcome as the one-order call would answer it:
// {"items": [{"order_id", "status": 200 | 404 | 409, "attempt"}]} in the order asked. A body with any item
// malformed is refused whole (422 naming the item), and changes nothing.
awaitable<response> internal_transitions(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::service}, true);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    auto body = http::parse_json_object(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (auto k = http::unknown_key<internal_transitions_body>(*body); !k.empty()) {
        co_return problem(req, invalid(k.c_str(), "unknown field"));
    }
    const auto* list = body->if_contains("items");
    if (list == nullptr || !list->is_array() || list->as_array().empty() || list->as_array().size() > 500) {
        co_return problem(req, invalid("items", "1 to 500 transitions"));
    }
    std::vector<std::string> order_ids;
    std::vector<internal_transition_body> checked;
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
        const std::string at = "items[" + std::to_string(i) + "]";
        const auto& v = list->as_array()[i];
        const auto* item = v.if_object();
        const auto* order_id = item != nullptr ? item->if_contains("order_id") : nullptr;
        if (order_id == nullptr || !order_id->is_string() || !core::is_uuid(order_id->as_string())) {
            co_return problem(req, invalid((at + ".order_id").c_str(), "an order id"));
        }
        json::object rest = *item;
        rest.erase("order_id");
        if (auto k = http::unknown_key<internal_transition_body>(rest); !k.empty()) {
            co_return problem(req, invalid((at + "." + k).c_str(), "unknown field"));
        }
        for (const char* optional :
             {"worker_id", "org_id", "attempt", "reason", "second_worker_id", "second_org_id"}) {
            if (!rest.contains(optional)) {
                rest[optional] = nullptr;  // Boost 1.81 wants every described member present
            }
        }
        auto one = json::try_value_to<internal_transition_body>(json::value(std::move(rest)));
        if (!one) {
            co_return problem(
                req, invalid(at.c_str(), "to, and worker_id, org_id, attempt, reason of their types"));
        }
        if (auto bad = check_transition(*one)) {
            co_return problem(req, invalid((at + "." + bad->first).c_str(), bad->second));
        }
        order_ids.emplace_back(order_id->as_string());
        checked.push_back(std::move(*one));
    }
    std::function<json::array(pqxx::work&)> run = [&](pqxx::work& tx) {
        json::array out;
        for (std::size_t i = 0; i < checked.size(); ++i) {
            const auto& id = order_ids[i];
            auto done = transition_in(c, tx, id, checked[i], authorized->id);
            json::object item{{"order_id", id}, {"status", done ? 200 : 409}};
            if (done) {
                item["attempt"] = done->attempt;
            }
            out.push_back(std::move(item));
        }
        return out;
    };
    auto items = co_await c.pool.transact(std::move(run));
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

awaitable<response> internal_waiting(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::service}, true);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auto street = http::int_param(req, "street");
    if (!street || *street < 100000 || *street > 999999) {
        co_return problem(req, invalid("street", "a street id (6 digits)"));
    }
    const auto limit = http::page_limit(req, 100, 1000);
    if (!limit) {
        co_return problem(req, invalid("limit", "must be 1 to 1000"));
    }
    auto after = req.query_param("after");
    if (after && !core::is_uuid(*after)) {
        co_return problem(req, invalid("after", "an order id"));
    }
    auto rows = co_await c.pool.transact(
        [&](pqxx::work& tx) { return repo::list_waiting(tx, *street, after, *limit); });
    json::array items;
    for (const auto& o : rows) {
        auto j = order_json(*c.sealer, o, view::worker);
        j["attempt"] = o.attempt;
        items.push_back(std::move(j));
    }
    json::object page{{"items", std::move(items)}};
    page["next"] =
        static_cast<int>(rows.size()) == *limit ? json::value(rows.back().id) : json::value(nullptr);
    co_return http::json_text_response(200, json::serialize(page));
}

}  // namespace carematch::orders::handlers
