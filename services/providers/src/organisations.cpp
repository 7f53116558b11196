// providers' handlers for organisations (file, review, suspend) and canteens (slots, diet tags, radius).
#include "handlers.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/scores.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace carematch::providers {

namespace handlers {

namespace json = boost::json;

namespace {

const std::set<std::string> org_kinds{"canteen", "home_care", "clinic", "nursery", "home_nursery_point"};
const std::set<std::string> diet_tags{"low_salt", "low_sugar", "soft", "halal", "vegetarian"};
const std::set<std::string> meal_slots{"breakfast", "lunch", "dinner"};

json::value opt(const std::optional<std::string>& s) {
    return s ? json::value(*s) : json::value(nullptr);
}

json::object org_json(const context& c, const repo::org_row& o) {
    return json::object{{"id", o.id},
                        {"kind", o.kind},
                        {"name", o.name},
                        {"registration_number", opt(o.registration_number)},
                        {"community_id", o.community_id},
                        {"address", o.address},
                        {"location", json::object{{"lat", o.lat}, {"lon", o.lon}}},
                        {"status", o.status},
                        {"status_reason", o.status_reason},
                        {"suspended", suspended_at(o.suspended_until, c.clock.now())},
                        {"suspended_until", opt(o.suspended_until)}};
}

json::object canteen_json(const repo::canteen_row& c) {
    json::array slots;
    for (const auto& [slot, meals] : c.slots) {
        slots.push_back(json::object{{"slot", slot}, {"meals", meals}});
    }
    return json::object{{"org_id", c.org_id},
                        {"delivery_radius_km", c.delivery_radius_km},
                        {"diet_tags", json::value_from(c.diet_tags)},
                        {"slots", std::move(slots)}};
}

// Who may read an organisation: its own people, staff of its community, admins, services.
bool may_read(const auth::caller& who, const repo::org_row& o) {
    return who.any_of({auth::role::admin, auth::role::service}) ||
           (who.is(auth::role::staff) && who.covers(o.community_id)) ||
           (who.any_of({auth::role::provider, auth::role::worker}) && who.org == o.id);
}

}  // namespace

awaitable<response> submit_organisation(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    auto body = http::parse_json_body<organisation_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (!org_kinds.contains(body->kind)) {
        co_return problem(req, invalid("kind", "canteen, home_care, clinic, nursery or home_nursery_point"));
    }
    if (core::code_points(body->name) < 1 || core::code_points(body->name) > 100) {
        co_return problem(req, invalid("name", "1 to 100 characters"));
    }
    const bool licensed = body->kind == "nursery" || body->kind == "home_nursery_point";
    if (body->registration_number &&
        (body->registration_number->empty() || body->registration_number->size() > 40)) {
        co_return problem(req, invalid("registration_number", "1 to 40 characters"));
    }
    if (licensed && !body->registration_number) {
        co_return problem(req, invalid("registration_number", "nurseries and home nursery points need one"));
    }
    if (body->community_id < 100000000 || body->community_id > 999999999) {
        co_return problem(req, invalid("community_id", "a community id (9 digits)"));
    }
    if (core::code_points(body->address) < 1 || core::code_points(body->address) > 200) {
        co_return problem(req, invalid("address", "1 to 200 characters"));
    }
    if (!in_china(body->location.lat, body->location.lon)) {
        co_return problem(req, invalid("location", "must lie inside China"));
    }
    repo::org_row row;
    row.id = who->org;
    row.kind = body->kind;
    row.name = body->name;
    row.registration_number = body->registration_number;
    row.community_id = body->community_id;
    row.address = body->address;
    row.lat = body->location.lat;
    row.lon = body->location.lon;
    auto stored = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<repo::org_row> {
        try {
            db::savepoint sub(tx, "submit");
            const bool filed = repo::submit_org(sub, row);
            sub.commit();
            if (!filed) {
                return core::errc::conflict;
            }
        } catch (const pqxx::foreign_key_violation&) {
            return core::errc::conflict;  // a canteen's kind stays while it has its canteen details
        }
        repo::add_org_history(tx, row.id, "submit", who->id, "provider", "");
        return *repo::find_org(tx, row.id);
    });
    if (!stored) {
        co_return problem(req,
                          core::errc::conflict,
                          "an approved organisation changes its details through the admin, and a canteen "
                          "keeps its kind while it has canteen details");
    }
    co_return http::json_text_response(200, json::serialize(org_json(c, *stored)));
}

awaitable<response> my_organisation(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider, auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    auto o = co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_org(tx, who->org); });
    if (!o) {
        co_return problem(req, core::errc::not_found, "the organisation has not filed its details yet");
    }
    co_return http::json_text_response(200, json::serialize(org_json(c, *o)));
}

awaitable<response> get_organisation(context& c, request& req) {
    auto who = auth::authorize(
        req,
        c.verifier,
        {auth::role::provider, auth::role::worker, auth::role::staff, auth::role::admin, auth::role::service},
        true);
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto o = co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_org(tx, id); });
    if (!o || !may_read(*who, *o)) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(org_json(c, *o)));
}

// The review queue: admins see every organisation, staff those of their communities.
awaitable<response> list_organisations(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string status = req.query_param("status").value_or("");
    if (!status.empty() && status != "pending" && status != "approved" && status != "rejected") {
        co_return problem(req, invalid("status", "pending, approved or rejected"));
    }
    const std::string after = req.query_param("cursor").value_or("");
    if (!after.empty() && !core::is_uuid(after)) {
        co_return problem(req, invalid("cursor", "not a cursor this service gave out"));
    }
    const auto asked = http::page_limit(req, 50);
    if (!asked) {
        co_return problem(req, invalid("limit", "must be 1 to 100"));
    }
    const int limit = *asked;
    std::optional<std::vector<std::int64_t>> scope;
    if (who->is(auth::role::staff)) {
        scope = who->communities;
    }
    auto rows = co_await c.pool.transact(
        [&](pqxx::work& tx) { return repo::list_orgs(tx, status, scope, after, limit + 1); });
    json::object page;
    if (static_cast<int>(rows.size()) > limit) {
        rows.pop_back();
        page["next_cursor"] = rows.back().id;
    }
    json::array items;
    for (const auto& o : rows) {
        items.push_back(org_json(c, o));
    }
    page["items"] = std::move(items);
    co_return http::json_text_response(200, json::serialize(page));
}

namespace {

awaitable<response> decide(context& c, request& req, bool approve) {
    auto who = auth::authorize(req, c.verifier, {auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    std::string reason;
    if (!approve) {
        auto body = http::parse_json_body<reason_body>(req);
        if (!body) {
            co_return problem(req, body.error());
        }
        if (core::code_points(body->reason) < 1 || core::code_points(body->reason) > 200) {
            co_return problem(req, invalid("reason", "a rejection says why: 1 to 200 characters"));
        }
        reason = body->reason;
    }
    auto decided = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<repo::org_row> {
        auto o = repo::find_org(tx, id);
        if (!o) {
            return core::errc::not_found;
        }
        if (!repo::decide_org(tx, id, approve ? "approved" : "rejected", reason)) {
            return core::errc::conflict;
        }
        repo::add_org_history(tx, id, approve ? "approve" : "reject", who->id, "admin", reason);
        json::object payload{{"org_id", id},
                             {"kind", o->kind},
                             {"name", o->name},
                             {"community_id", o->community_id},
                             {"registration_number", opt(o->registration_number)}};
        if (!approve) {
            payload["reason"] = reason;
        }
        publish(c, tx, approve ? "provider.approved" : "provider.rejected", payload);
        return *repo::find_org(tx, id);
    });
    if (!decided) {
        co_return problem(req,
                          decided.error(),
                          decided.error() == core::errc::conflict
                              ? "only a pending organisation is approved or rejected"
                              : "");
    }
    co_return http::json_text_response(200, json::serialize(org_json(c, *decided)));
}

}  // namespace

awaitable<response> approve_organisation(context& c, request& req) {
    co_return co_await decide(c, req, true);
}
awaitable<response> reject_organisation(context& c, request& req) {
    co_return co_await decide(c, req, false);
}

// Staff of the organisation's community, or an admin: out of matching at once, every worker with it.
awaitable<response> suspend_organisation(context& c, request& req) {
    auto s = read_suspension(c, req);
    if (s.answer) {
        co_return std::move(*s.answer);
    }
    struct outcome {
        std::int64_t community = 0;
        std::vector<std::string> workers;
    };
    auto done = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<outcome> {
        auto o = repo::find_org(tx, s.id);
        if (!o || (s.who.is(auth::role::staff) && !s.who.covers(o->community_id))) {
            return core::errc::not_found;
        }
        if (!repo::suspend_org(tx, s.id, s.until, s.reason)) {
            return core::errc::invalid_argument;
        }
        const std::string role(auth::to_string(s.who.role));
        repo::add_org_history(tx, s.id, "suspend", s.who.id, role, s.reason);
        publish(c,
                tx,
                "provider.suspended",
                json::object{{"org_id", s.id}, {"until", s.until}, {"reason", s.reason}});
        return outcome{o->community_id, repo::org_worker_ids(tx, s.id)};
    });
    if (!done) {
        if (done.error() == core::errc::invalid_argument) {
            co_return problem(req, invalid("until", "not a timestamp"));
        }
        co_return problem(req, done.error());
    }
    for (const auto& w : done->workers) {
        co_await withdraw(c, w, done->community);
    }
    co_return http::json_text_response(
        200, json::serialize(json::object{{"suspended", true}, {"workers_withdrawn", done->workers.size()}}));
}

awaitable<response> put_canteen(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    auto body = http::parse_json_body<canteen_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (!(body->delivery_radius_km > 0 && body->delivery_radius_km <= 10)) {
        co_return problem(req, invalid("delivery_radius_km", "above 0 and at most 10"));
    }
    const std::set<std::string> tags(body->diet_tags.begin(), body->diet_tags.end());
    if (tags.size() != body->diet_tags.size() ||
        std::any_of(tags.begin(), tags.end(), [](const std::string& t) { return !diet_tags.contains(t); })) {
        co_return problem(req,
                          invalid("diet_tags", "distinct: low_salt, low_sugar, soft, halal, vegetarian"));
    }
    repo::canteen_row row;
    row.org_id = who->org;
    row.delivery_radius_km = body->delivery_radius_km;
    row.diet_tags.assign(tags.begin(), tags.end());
    for (const auto& s : body->slots) {
        if (!meal_slots.contains(s.slot) || row.slots.contains(s.slot) || s.meals < 1 || s.meals > 5000) {
            co_return problem(req,
                              invalid("slots", "distinct breakfast, lunch or dinner, 1 to 5000 meals each"));
        }
        row.slots[s.slot] = s.meals;
    }
    if (row.slots.empty()) {
        co_return problem(req, invalid("slots", "at least one meal slot"));
    }
    auto stored = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<repo::canteen_row> {
        auto o = repo::find_org(tx, who->org);
        if (!o || o->kind != "canteen") {
            return std::nullopt;
        }
        repo::put_canteen(tx, row);
        repo::add_org_history(tx, row.org_id, "canteen", who->id, "provider", "");
        return repo::find_canteen(tx, row.org_id);
    });
    if (!stored) {
        co_return problem(
            req, core::errc::conflict, "only an organisation of kind canteen has canteen details");
    }
    co_return http::json_text_response(200, json::serialize(canteen_json(*stored)));
}

awaitable<response> get_canteen(context& c, request& req) {
    auto who = auth::authorize(
        req,
        c.verifier,
        {auth::role::provider, auth::role::worker, auth::role::staff, auth::role::admin, auth::role::service},
        true);
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto found = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<repo::canteen_row> {
        auto o = repo::find_org(tx, id);
        if (!o || !may_read(*who, *o)) {
            return std::nullopt;
        }
        return repo::find_canteen(tx, id);
    });
    if (!found) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(canteen_json(*found)));
}

// Canteens that deliver to a point for a slot and every requested diet tag: families choosing, matching
// assigning meal orders.
awaitable<response> canteens(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family, auth::role::service}, true);
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const auto lat_q = http::number_param(req, "lat");
    const auto lon_q = http::number_param(req, "lon");
    if (!lat_q || !lon_q) {
        co_return problem(req, core::bad_query(!lat_q ? "lat" : "lon", "lat and lon must be numbers"));
    }
    const double lat = *lat_q;
    const double lon = *lon_q;
    if (!in_china(lat, lon)) {
        co_return problem(req, invalid("lat", "a position inside China"));
    }
    const std::string slot = req.query_param("slot").value_or("");
    if (!meal_slots.contains(slot)) {
        co_return problem(req, invalid("slot", "breakfast, lunch or dinner"));
    }
    std::vector<std::string> tags;
    if (auto d = req.query_param("diet"); d && !d->empty()) {
        std::size_t start = 0;
        while (start <= d->size()) {
            auto end = d->find(',', start);
            tags.push_back(d->substr(start, end == std::string::npos ? std::string::npos : end - start));
            if (!diet_tags.contains(tags.back())) {
                co_return problem(
                    req, invalid("diet", "comma-separated: low_salt, low_sugar, soft, halal, vegetarian"));
            }
            if (end == std::string::npos) {
                break;
            }
            start = end + 1;
        }
    }
    std::map<std::string, runtime::scores::score> scores;
    auto hits = co_await c.pool.transact([&](pqxx::work& tx) {
        auto found = repo::canteens_near(tx, lat, lon, slot, tags, c.clock.now());
        std::vector<std::string> ids;
        for (const auto& h : found) {
            ids.push_back(h.org_id);
        }
        scores = runtime::scores::of(tx, ids);
        return found;
    });
    json::array items;
    for (const auto& h : hits) {
        json::object item{{"org_id", h.org_id},
                          {"name", h.name},
                          {"distance_m", static_cast<std::int64_t>(h.distance_m + 0.5)},
                          {"meals", h.meals},
                          {"diet_tags", json::value_from(h.diet_tags)}};
        const auto s = scores.find(h.org_id);
        item["rating"] = s == scores.end()
                             ? json::value(nullptr)
                             : json::value(json::object{{"score", std::round(s->second.value * 100) / 100},
                                                        {"count", s->second.count}});
        items.push_back(std::move(item));
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

}  // namespace handlers
}  // namespace carematch::providers
