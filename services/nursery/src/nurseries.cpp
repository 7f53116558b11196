// nursery's handlers for nurseries: the profile with its classes, search with vacancies, monthly figures per
// community, pickup lists; and the helpers every handler shares.
#include "dto.hpp"
#include "handlers.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/json.hpp>
#include <carematch/http/peer.hpp>
#include <carematch/runtime/scores.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

namespace carematch::nursery {

namespace handlers {

namespace json = boost::json;

core::problem bad_date(const char* field, std::string detail) {
    return core::problem{400, "Bad Request", std::move(detail), field};
}

bool speaks_for(const auth::caller& who, const std::string& nursery_id) {
    return who.any_of({auth::role::provider, auth::role::worker}) && who.org == nursery_id;
}

day today(const context& c) {
    return c.today();
}

awaitable<core::result<json::object>> fetch_child(context& c,
                                                  const std::string& id,
                                                  const std::string& purpose) {
    if (!core::is_uuid(id)) {
        co_return core::errc::not_found;
    }
    auto child = co_await http::get_json(
        c.peers, c.cfg.identity, "/v1/internal/recipients/" + id + "?purpose=" + purpose, c.service_token());
    if (child && child->at("kind") != "child") {
        co_return core::errc::not_found;
    }
    co_return child;
}

bool family_of(const json::object& recipient, const std::string& family_id) {
    const auto* f = recipient.if_contains("family_id");
    return f != nullptr && f->is_string() && f->as_string() == family_id;
}

namespace {

json::object nursery_json(const repo::nursery_row& n) {
    json::array classes;
    for (const auto& k : n.classes) {
        classes.push_back(
            json::object{{"id", k.id}, {"band", k.band}, {"caregivers", k.caregivers}, {"places", k.places}});
    }
    return json::object{{"id", n.id},
                        {"name", n.name},
                        {"kind", n.kind},
                        {"registration_number", n.registration_number},
                        {"community_id", n.community_id},
                        {"address", n.address},
                        {"location", json::object{{"lat", n.lat}, {"lon", n.lon}}},
                        {"opens", n.opens},
                        {"closes", n.closes},
                        {"licensed_places", n.licensed_places},
                        {"affordable_percent", n.affordable_percent},
                        {"prices",
                         json::object{{"full_day_fen", n.price.full_day_fen},
                                      {"half_day_fen", n.price.half_day_fen},
                                      {"hour_fen", n.price.hour_fen}}},
                        {"classes", std::move(classes)}};
}

}  // namespace

// The organisation's account files its nursery: the organisation (approved in providers, of a nursery kind)
// gives name, registration number and place; the body gives kind, hours, places, prices and classes.
awaitable<response> put_nursery(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    auto body = http::parse_json_body<nursery_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    static const std::set<std::string> kinds{
        "institution", "community", "employer", "kindergarten_class", "home_point"};
    if (!kinds.contains(body->kind)) {
        co_return problem(
            req, invalid("kind", "institution, community, employer, kindergarten_class or home_point"));
    }
    auto opens = minutes_of_day(body->opens);
    auto closes = minutes_of_day(body->closes);
    if (!opens || !closes || *opens >= *closes) {
        co_return problem(req, invalid("opens", "opens and closes: HH:MM, opening first"));
    }
    if (body->licensed_places < 1 || body->licensed_places > 1000 ||
        (body->kind == "home_point" && body->licensed_places > 5)) {
        co_return problem(req, invalid("licensed_places", "1 to 1000; a home nursery point at most 5"));
    }
    if (body->affordable_percent < 0 || body->affordable_percent > 100) {
        co_return problem(req, invalid("affordable_percent", "0 to 100"));
    }
    const auto& p = body->prices;
    const auto in_range = [](std::int64_t fen) { return fen >= 0 && fen <= 10'000'000; };
    if (!in_range(p.full_day_fen) || !in_range(p.half_day_fen) || !in_range(p.hour_fen)) {
        co_return problem(req, invalid("prices", "each 0 to 10,000,000 fen"));
    }
    repo::nursery_row n;
    n.id = who->org;
    n.kind = body->kind;
    n.opens = body->opens;
    n.closes = body->closes;
    n.licensed_places = body->licensed_places;
    n.affordable_percent = body->affordable_percent;
    n.price = prices{p.full_day_fen, p.half_day_fen, p.hour_fen};
    std::set<std::string> bands;
    for (const auto& k : body->classes) {
        auto b = find_band(k.band);
        if (!b || !bands.insert(k.band).second || k.caregivers < 1 || k.caregivers > 50 ||
            (body->kind == "kindergarten_class" && k.band != "24-36")) {
            co_return problem(
                req,
                invalid("classes",
                        "distinct bands 6-12, 12-24, 24-36 (a kindergarten class: 24-36 only), 1 to "
                        "50 caregivers each"));
        }
        n.classes.push_back(
            {core::new_uuid(), k.band, k.caregivers, class_places(k.caregivers, *b, n.licensed_places)});
    }
    if (n.classes.empty()) {
        co_return problem(req, invalid("classes", "at least one class"));
    }
    // The organisation's record in providers decides who may run a nursery.
    auto org = co_await http::get_json(
        c.peers, c.cfg.providers, "/v1/providers/organisations/" + who->org, c.service_token());
    if (!org && org.error() != core::errc::not_found) {
        throw core::unavailable_error("providers unavailable");
    }
    const bool nursery_org = org && org->at("status") == "approved" && org->at("suspended") == false &&
                             (org->at("kind") == "nursery" || org->at("kind") == "home_nursery_point");
    if (!nursery_org) {
        co_return problem(req, core::errc::conflict, "the organisation is not an approved, active nursery");
    }
    if ((org->at("kind") == "home_nursery_point") != (body->kind == "home_point")) {
        co_return problem(
            req, invalid("kind", "a home nursery point registers as home_point, a nursery otherwise"));
    }
    n.name = std::string(org->at("name").as_string());
    n.registration_number = std::string(org->at("registration_number").as_string());
    n.community_id = org->at("community_id").as_int64();
    n.address = std::string(org->at("address").as_string());
    n.lat = org->at("location").at("lat").to_number<double>();
    n.lon = org->at("location").at("lon").to_number<double>();
    const day d = today(c);
    auto stored = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<repo::nursery_row> {
        try {
            db::savepoint sub(tx, "nursery");
            repo::upsert_nursery(sub, n, d);
            sub.commit();
        } catch (const pqxx::check_violation&) {
            return std::nullopt;
        }
        // Its places, for the figures of places per 1,000 residents.
        db::enqueue_event(tx,
                          c.cfg.schema,
                          context::stream(n.community_id),
                          "nursery.saved",
                          json::serialize(json::object{{"nursery_id", n.id},
                                                       {"community_id", n.community_id},
                                                       {"licensed_places", n.licensed_places}}));
        return repo::find_nursery(tx, n.id);
    });
    if (!stored) {
        co_return problem(
            req, core::errc::conflict, "days already booked hold more children than the new places");
    }
    co_return http::json_text_response(200, json::serialize(nursery_json(*stored)));
}

awaitable<response> get_nursery(context& c, request& req) {
    auto who = auth::authenticate(req, c.verifier);
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto n = co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_nursery(tx, id); });
    if (!n) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(nursery_json(*n)));
}

// Nurseries near a point with a class of the band, and its vacancies on each day asked for.
awaitable<response> search(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const auto lat_q = http::number_param(req, "lat");
    const auto lon_q = http::number_param(req, "lon");
    const auto radius_q =
        req.query_param("radius_m") ? http::number_param(req, "radius_m") : std::optional(3000.0);
    if (!lat_q || !lon_q || !radius_q) {
        co_return problem(req,
                          core::bad_query(!lat_q   ? "lat"
                                          : !lon_q ? "lon"
                                                   : "radius_m",
                                          "lat, lon and radius_m must be numbers"));
    }
    const double lat = *lat_q;
    const double lon = *lon_q;
    const double radius = *radius_q;
    if (!core::in_china(lat, lon) || !(radius > 0 && radius <= 20000)) {
        co_return problem(req, invalid("lat", "a position inside China and radius_m up to 20000"));
    }
    const std::string band = req.query_param("band").value_or("");
    if (!find_band(band)) {
        co_return problem(req, invalid("band", "6-12, 12-24 or 24-36"));
    }
    const std::string kind = req.query_param("kind").value_or("");
    static const std::set<std::string> kinds{
        "", "institution", "community", "employer", "kindergarten_class", "home_point"};
    if (!kinds.contains(kind)) {
        co_return problem(
            req, invalid("kind", "institution, community, employer, kindergarten_class or home_point"));
    }
    std::vector<std::string> dates;
    if (auto d = req.query_param("date")) {
        dates.push_back(*d);
    }
    auto days = expand_days(dates, req.query_param("from"), req.query_param("to"));
    if (!days.error.empty()) {
        co_return problem(req, bad_date("date", "date, or from and to: " + days.error));
    }
    if (days.days.front() < today(c)) {
        co_return problem(req, bad_date("date", "dates in the past have no places"));
    }
    if (days.days.size() > 31) {
        co_return problem(req, bad_date("date", "at most 31 days"));
    }
    std::vector<std::string> texts;
    for (auto d : days.days) {
        texts.push_back(format_day(d));
    }
    std::map<std::string, runtime::scores::score> scores;
    auto hits = co_await c.pool.transact([&](pqxx::work& tx) {
        auto found = repo::search(tx, lat, lon, radius, band, kind, texts);
        std::vector<std::string> ids;
        for (const auto& h : found) {
            ids.push_back(h.nursery.id);
        }
        scores = runtime::scores::of(tx, ids);
        return found;
    });
    json::array items;
    for (auto& h : hits) {
        auto o = nursery_json(h.nursery);
        const auto s = scores.find(h.nursery.id);
        o["rating"] = s == scores.end()
                          ? json::value(nullptr)
                          : json::value(json::object{{"score", std::round(s->second.value * 100) / 100},
                                                     {"count", s->second.count}});
        o["class_id"] = h.nursery.classes.front().id;
        o["distance_m"] = static_cast<std::int64_t>(std::lround(h.distance_m));
        json::array v;
        for (const auto& x : h.vacancies) {
            v.push_back(json::object{{"date", x.date}, {"places", x.places}});
        }
        o["vacancies"] = std::move(v);
        items.push_back(std::move(o));
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

// Places, occupancy and places per 1,000 residents of a community in a month, against the national 4.5.
awaitable<response> figures(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const auto community_q = http::int_param(req, "community_id");
    if (!community_q) {
        co_return problem(req, core::bad_query("community_id", "a community id (digits only)"));
    }
    const std::int64_t community = *community_q;
    // One rule with orders, recipients and ratings: a community outside the caller's scope is 403.
    if (who->is(auth::role::staff) && !who->covers(community)) {
        co_return problem(req, core::errc::forbidden, "that community is not yours", "community_id");
    }
    auto residents = c.residents.find(community);
    if (residents == c.residents.end()) {
        co_return problem(req, core::errc::not_found, "no such community");
    }
    const std::string month = req.query_param("month").value_or("");
    auto first = parse_day(month + "-01");
    if (month.size() != 7 || !first) {
        co_return problem(req, bad_date("month", "YYYY-MM"));
    }
    const std::chrono::year_month_day ymd(*first);
    const day last = day(ymd.year() / ymd.month() / std::chrono::last);
    auto f = co_await c.pool.transact(
        [&](pqxx::work& tx) { return repo::figures(tx, community, format_day(*first), format_day(last)); });
    json::object o{{"community_id", community},
                   {"month", month},
                   {"residents", residents->second},
                   {"nurseries", f.nurseries},
                   {"places", f.licensed_places},
                   {"target_per_1000", 4.5}};
    o["occupancy"] = f.place_days > 0
                         ? json::value(static_cast<double>(f.taken_days) / static_cast<double>(f.place_days))
                         : json::value(nullptr);
    if (residents->second > 0) {
        const double per_1000 =
            static_cast<double>(f.licensed_places) * 1000.0 / static_cast<double>(residents->second);
        o["places_per_1000"] = std::round(per_1000 * 100.0) / 100.0;
        o["meets_target"] = per_1000 >= 4.5;
    } else {
        o["places_per_1000"] = nullptr;
        o["meets_target"] = nullptr;
    }
    co_return http::json_text_response(200, json::serialize(o));
}

// Who may collect a child: the family sets the list; the nursery reads it while it cares for the child.
awaitable<response> put_pickups(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string child_id(req.param("id"));
    auto body = http::parse_json_body<pickups_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    std::vector<repo::pickup_row> people;
    std::set<std::string> phones;
    if (body->people.size() > 5) {
        co_return problem(req, invalid("people", "at most 5"));
    }
    for (const auto& p : body->people) {
        if (core::code_points(p.name) < 1 || core::code_points(p.name) > 50 || !core::valid_phone(p.phone) ||
            !phones.insert(p.phone).second || core::code_points(p.relation) < 1 ||
            core::code_points(p.relation) > 20) {
            co_return problem(
                req, invalid("people", "each: a name, a distinct mainland mobile number, a relation"));
        }
        people.push_back({p.name, p.phone, p.relation});
    }
    auto child = co_await fetch_child(c, child_id, "nursery:pickup");
    if (!child && child.error() != core::errc::not_found) {
        throw core::unavailable_error("identity unavailable");
    }
    if (!child || !family_of(*child, who->id)) {
        co_return problem(req, core::errc::not_found);
    }
    co_await c.pool.transact(
        [&](pqxx::work& tx) { repo::set_pickups(tx, *c.sealer, child_id, who->id, people); });
    json::array out;
    for (const auto& p : people) {
        out.push_back(json::object{{"name", p.name}, {"phone", p.phone}, {"relation", p.relation}});
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"people", std::move(out)}}));
}

awaitable<response> get_pickups(context& c, request& req) {
    auto who =
        auth::authorize(req, c.verifier, {auth::role::family, auth::role::provider, auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string child_id(req.param("id"));
    if (!core::is_uuid(child_id)) {
        co_return problem(req, core::errc::not_found);
    }
    bool visible = false;
    if (who->is(auth::role::family)) {
        auto child = co_await fetch_child(c, child_id, "nursery:pickup");
        if (!child && child.error() != core::errc::not_found) {
            throw core::unavailable_error("identity unavailable");
        }
        visible = child && family_of(*child, who->id);
    } else {
        visible = co_await c.pool.transact(
            [&](pqxx::work& tx) { return repo::nursery_has_child(tx, who->org, child_id); });
    }
    if (!visible) {
        co_return problem(req, core::errc::not_found);
    }
    auto people =
        co_await c.pool.transact([&](pqxx::work& tx) { return repo::pickups(tx, *c.sealer, child_id); });
    json::array out;
    for (const auto& p : people) {
        out.push_back(json::object{{"name", p.name}, {"phone", p.phone}, {"relation", p.relation}});
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"people", std::move(out)}}));
}

}  // namespace handlers
}  // namespace carematch::nursery
