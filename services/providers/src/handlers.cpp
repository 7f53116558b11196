// providers' handlers for workers: profiles, presence (online, heartbeat, offline), suspension, availability,
// candidates; and the helpers every handler shares.
#include "handlers.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/json.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <set>

namespace carematch::providers {

namespace handlers {

namespace json = boost::json;

bool iso_date(const std::string& s) {
    return s.size() == 10 && s[4] == '-' && s[7] == '-' &&
           std::all_of(s.begin(), s.end(), [](char ch) { return ch == '-' || (ch >= '0' && ch <= '9'); });
}

bool suspended_at(const std::optional<std::string>& until, core::clock::time_point now) {
    const auto end = until ? core::parse_timestamp(*until) : std::nullopt;
    return end && *end > now;
}

suspension read_suspension(context& c, request& req) {
    suspension s;
    auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
    if (!who) {
        s.answer = auth::deny(who.error(), req.request_id);
        return s;
    }
    s.who = *who;
    s.id = std::string(req.param("id"));
    if (!core::is_uuid(s.id)) {
        s.answer = problem(req, core::errc::not_found);
        return s;
    }
    auto body = http::parse_json_body<suspend_body>(req);
    if (!body) {
        s.answer = problem(req, body.error());
    } else if (core::code_points(body->reason) < 1 || core::code_points(body->reason) > 200) {
        s.answer = problem(req, invalid("reason", "1 to 200 characters"));
    } else if (const auto until = core::parse_timestamp(body->until); !until) {
        s.answer = problem(req, invalid("until", "an ISO 8601 timestamp with a zone"));
    } else if (*until <= c.clock.now()) {
        s.answer = problem(req, invalid("until", "must be in the future"));
    } else {
        s.reason = body->reason;
        s.until = body->until;
    }
    return s;
}

std::string today(const context& c) {
    return core::format_date(c.today());
}

long long now_ms(const context& c) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(c.clock.now().time_since_epoch()).count();
}

awaitable<void> withdraw(context& c, const std::string& worker_id, std::int64_t community_id) {
    if (community_id == 0) {
        co_return;  // never indexed: its organisation has not registered
    }
    for (const auto& [kind, needs] : c.kind_credentials) {
        (void)needs;
        auto removed = co_await redis::georemove(c.redis, c.online_key(community_id, kind), worker_id);
        if (!removed) {
            throw core::unavailable_error("redis: presence unavailable");
        }
    }
    std::vector<std::string> zrem{"ZREM", c.seen_key(community_id), worker_id};
    if (!co_await c.redis.command(std::move(zrem))) {
        throw core::unavailable_error("redis: presence unavailable");
    }
}

json::object worker_suspended(const std::string& worker_id,
                              const std::string& org_id,
                              const std::string& until,
                              const std::string& reason) {
    return json::object{{"worker_id", worker_id}, {"org_id", org_id}, {"until", until}, {"reason", reason}};
}

void publish(context& c, pqxx::work& tx, const char* type, const json::object& payload) {
    db::enqueue_event(tx, c.cfg.schema, c.events_stream, type, json::serialize(payload));
}

namespace {

// The kinds this worker may be offered now: a kind counts when its credentials for some sub-type are all
// valid.
std::vector<std::string> eligible_kinds(const context& c, const repo::worker_row& w) {
    const std::string day = today(c);
    std::vector<std::string> out;
    for (const auto& kind : w.kinds) {
        auto it = c.kind_credentials.find(kind);
        if (it == c.kind_credentials.end()) {
            continue;
        }
        bool ok =
            std::any_of(it->second.begin(), it->second.end(), [&](const std::vector<std::string>& needs) {
                return std::all_of(needs.begin(), needs.end(), [&](const std::string& type) {
                    return std::any_of(
                        w.credentials.begin(), w.credentials.end(), [&](const repo::credential_row& cr) {
                            return cr.type == type && cr.expires_on >= day;
                        });
                });
            });
        if (ok) {
            out.push_back(kind);
        }
    }
    return out;
}

json::object worker_json(const context& c, const repo::worker_row& w) {
    json::array creds;
    for (const auto& cr : w.credentials) {
        creds.push_back(json::object{{"type", cr.type},
                                     {"number", c.sealer->open_text(cr.number_sealed)},
                                     {"expires_on", cr.expires_on}});
    }
    json::object o{{"id", w.id},
                   {"org_id", w.org_id},
                   {"name", c.sealer->open_text(w.name_sealed)},
                   {"gender", w.gender},
                   {"languages", json::value_from(w.languages)},
                   {"kinds", json::value_from(w.kinds)},
                   {"eligible_kinds", json::value_from(eligible_kinds(c, w))},
                   {"home", json::object{{"lat", w.home_lat}, {"lon", w.home_lon}}},
                   {"radius_km", w.radius_km},
                   {"credentials", std::move(creds)},
                   {"suspended", suspended_at(w.suspended_until, c.clock.now())},
                   {"community_id", w.community_id}};
    o["suspended_until"] = w.suspended_until ? json::value(*w.suspended_until) : json::value(nullptr);
    return o;
}

}  // namespace

namespace {

json::object worker_event(const std::string& worker_id) {
    return json::object{{"worker_id", worker_id}};
}

// What others keep of a worker after a change of profile: the organisation, its community, and each
// credential's type and expiry (never its number), so that supervision can watch credentials run out.
json::object worker_fact(const repo::worker_row& w) {
    json::array creds;
    for (const auto& cr : w.credentials) {
        creds.push_back(json::object{{"type", cr.type}, {"expires_on", cr.expires_on}});
    }
    return json::object{{"worker_id", w.id},
                        {"org_id", w.org_id},
                        {"community_id", w.community_id},
                        {"credentials", std::move(creds)}};
}

// "HH:MM" → minutes of the day; "24:00" ends a day.
std::optional<int> minutes_of(const std::string& s) {
    if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
        !std::isdigit(static_cast<unsigned char>(s[1])) || !std::isdigit(static_cast<unsigned char>(s[3])) ||
        !std::isdigit(static_cast<unsigned char>(s[4]))) {
        return std::nullopt;
    }
    const int h = (s[0] - '0') * 10 + (s[1] - '0');
    const int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) {
        return std::nullopt;
    }
    return h * 60 + m;
}

std::string hhmm(int minutes) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
    return buf;
}

// Hours of one day: sorted, each from < to, not overlapping.
std::optional<repo::minute_ranges> ranges_of(const std::vector<hours_body>& hours) {
    repo::minute_ranges out;
    for (const auto& h : hours) {
        auto from = minutes_of(h.from);
        auto to = minutes_of(h.to);
        if (!from || !to || *from >= *to) {
            return std::nullopt;
        }
        out.emplace_back(*from, *to);
    }
    std::sort(out.begin(), out.end());
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].first < out[i - 1].second) {
            return std::nullopt;
        }
    }
    return out;
}

json::array hours_json(const repo::minute_ranges& ranges) {
    json::array a;
    for (const auto& [from, to] : ranges) {
        a.push_back(json::object{{"from", hhmm(from)}, {"to", hhmm(to)}});
    }
    return a;
}

json::object availability_json(const repo::availability_row& a) {
    json::array weekly;
    for (const auto& [day, ranges] : a.weekly) {
        weekly.push_back(json::object{{"weekday", day}, {"hours", hours_json(ranges)}});
    }
    json::array exceptions;
    for (const auto& [date, ranges] : a.exceptions) {
        exceptions.push_back(json::object{{"date", date}, {"hours", hours_json(ranges)}});
    }
    return json::object{{"weekly", std::move(weekly)}, {"exceptions", std::move(exceptions)}};
}

}  // namespace

awaitable<response> put_worker(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto body = http::parse_json_body<worker_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (body->name.empty() || body->name.size() > 150) {
        co_return problem(req, invalid("name", "1 to 50 characters"));
    }
    if (body->gender != "female" && body->gender != "male") {
        co_return problem(req, invalid("gender", "female or male"));
    }
    std::set<std::string> kinds(body->kinds.begin(), body->kinds.end());
    if (kinds.empty() || kinds.size() != body->kinds.size() || kinds.size() > 4 ||
        std::any_of(kinds.begin(), kinds.end(), [&](const std::string& k) {
            return !c.kind_credentials.contains(k);
        })) {
        co_return problem(req, invalid("kinds", "1 to 4 distinct kinds of the catalog"));
    }
    if (body->languages.size() > 7) {
        co_return problem(req, invalid("languages", "at most 7"));
    }
    if (!in_china(body->home.lat, body->home.lon)) {
        co_return problem(req, invalid("home", "must lie inside China"));
    }
    if (!(body->radius_km > 0 && body->radius_km <= 30)) {
        co_return problem(req, invalid("radius_km", "above 0 and at most 30"));
    }
    static const std::set<std::string> types{"nurse_licence",
                                             "physician_licence",
                                             "bathing_certificate",
                                             "health_certificate",
                                             "childcare_certificate"};
    std::set<std::string> seen_types;
    for (const auto& cr : body->credentials) {
        if (!types.contains(cr.type) || !seen_types.insert(cr.type).second || cr.number.empty() ||
            cr.number.size() > 40 || !iso_date(cr.expires_on)) {
            co_return problem(
                req, invalid("credentials", "known distinct types, a number, expires_on YYYY-MM-DD"));
        }
    }
    repo::worker_row row;
    row.id = id;
    row.org_id = who->org;
    row.name_sealed = c.sealer->seal_text(body->name);
    row.gender = body->gender;
    row.languages = body->languages;
    row.kinds = body->kinds;
    row.home_lat = body->home.lat;
    row.home_lon = body->home.lon;
    row.radius_km = body->radius_km;
    for (const auto& cr : body->credentials) {
        row.credentials.push_back({cr.type, c.sealer->seal_text(cr.number), cr.expires_on});
    }
    auto stored = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<repo::worker_row> {
        auto org = repo::find_org(tx, who->org);
        if (!org || org->status != "approved") {
            return core::errc::conflict;
        }
        auto existing = repo::find_worker(tx, id);
        if (existing && existing->org_id != who->org) {
            return core::errc::not_found;  // another organisation's worker does not exist for this caller
        }
        try {
            db::savepoint sub(tx, "upsert");
            repo::upsert_worker(sub, row);
            sub.commit();
        } catch (const pqxx::data_exception&) {
            return core::errc::invalid_argument;
        }
        repo::add_history(tx, id, "profile", who->id, "provider", "");
        auto saved = *repo::find_worker(tx, id);
        publish(c, tx, "worker.updated", worker_fact(saved));
        return saved;
    });
    if (!stored) {
        if (stored.error() == core::errc::conflict) {
            co_return problem(req, core::errc::conflict, "the organisation is not approved");
        }
        co_return problem(req, stored.error());
    }
    co_return http::json_text_response(200, json::serialize(worker_json(c, *stored)));
}

awaitable<response> get_worker(context& c, request& req) {
    auto who = auth::authorize(
        req, c.verifier, {auth::role::provider, auth::role::worker, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto w = co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_worker(tx, id); });
    const bool visible =
        w && (who->is(auth::role::admin) || (who->is(auth::role::staff) && who->covers(w->community_id)) ||
              (who->is(auth::role::provider) && w->org_id == who->org) ||
              (who->is(auth::role::worker) && w->id == who->id));
    if (!visible) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(worker_json(c, *w)));
}

namespace {

awaitable<response> presence(context& c, request& req, bool online) {
    auto who = auth::authorize(req, c.verifier, {auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::optional<point_body> at;
    if (online) {
        auto body = http::parse_json_body<point_body>(req);
        if (!body) {
            co_return problem(req, body.error());
        }
        if (!in_china(body->lat, body->lon)) {
            co_return problem(req, invalid("lat", "the position must lie inside China"));
        }
        at = *body;
    }
    auto w = co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_worker(tx, who->id); });
    if (!w || w->org_id != who->org) {
        co_return problem(req, core::errc::not_found, "no worker profile: the organisation creates it first");
    }
    if (!online) {
        co_await withdraw(c, w->id, w->community_id);
        co_await c.pool.transact(
            [&](pqxx::work& tx) { publish(c, tx, "worker.offline", worker_event(w->id)); });
        co_return http::json_text_response(200, json::serialize(json::object{{"online", false}}));
    }
    const auto now = c.clock.now();
    if (suspended_at(w->suspended_until, now)) {
        co_return problem(req, core::errc::conflict, "suspended until " + w->suspended_until.value_or(""));
    }
    if (w->org_status != "approved" || suspended_at(w->org_suspended_until, now)) {
        co_await withdraw(c, w->id, w->community_id);
        co_return problem(req, core::errc::conflict, "the organisation is not approved or is suspended");
    }
    const auto kinds = eligible_kinds(c, *w);
    for (const auto& [kind, needs] : c.kind_credentials) {
        (void)needs;
        const bool add = std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
        const std::string key = c.online_key(w->community_id, kind);
        auto done = add ? co_await redis::geoadd(c.redis, key, at->lon, at->lat, w->id)
                        : co_await redis::georemove(c.redis, key, w->id);
        if (!done) {
            throw core::unavailable_error("redis: presence unavailable");
        }
    }
    std::vector<std::string> zadd{"ZADD", c.seen_key(w->community_id), std::to_string(now_ms(c)), w->id};
    if (!co_await c.redis.command(std::move(zadd))) {
        throw core::unavailable_error("redis: presence unavailable");
    }
    co_await c.pool.transact([&](pqxx::work& tx) { publish(c, tx, "worker.online", worker_event(w->id)); });
    co_return http::json_text_response(
        200, json::serialize(json::object{{"online", true}, {"kinds", json::value_from(kinds)}}));
}

}  // namespace

awaitable<response> go_online(context& c, request& req) {
    co_return co_await presence(c, req, true);
}
awaitable<response> go_offline(context& c, request& req) {
    co_return co_await presence(c, req, false);
}

awaitable<response> suspend_worker(context& c, request& req) {
    auto s = read_suspension(c, req);
    if (s.answer) {
        co_return std::move(*s.answer);
    }
    auto done = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<std::int64_t> {
        auto w = repo::find_worker(tx, s.id);
        if (!w || (s.who.is(auth::role::staff) && !s.who.covers(w->community_id))) {
            return std::nullopt;  // staff act within their communities only
        }
        if (!repo::suspend(tx, s.id, s.until, s.reason)) {
            return std::nullopt;
        }
        repo::add_history(tx, s.id, "suspend", s.who.id, std::string(auth::to_string(s.who.role)), s.reason);
        publish(c, tx, "worker.suspended", worker_suspended(s.id, w->org_id, s.until, s.reason));
        return w->community_id;
    });
    if (!done) {
        co_return problem(req, core::errc::not_found, "no such worker, or `until` is not a timestamp");
    }
    co_await withdraw(c, s.id, *done);  // out of matching at once
    co_return http::json_text_response(200, json::serialize(json::object{{"suspended", true}}));
}

// The worker's own calendar: the organisation or the worker writes it; staff and admin read it.
awaitable<response> put_availability(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider, auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto body = http::parse_json_body<availability_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    repo::availability_row a;
    if (body->weekly.size() > 7 || body->exceptions.size() > 366) {
        co_return problem(req, invalid("weekly", "at most 7 weekdays and 366 exceptions"));
    }
    for (const auto& d : body->weekly) {
        auto r = ranges_of(d.hours);
        if (d.weekday < 1 || d.weekday > 7 || a.weekly.contains(d.weekday) || !r || r->size() > 6) {
            co_return problem(
                req,
                invalid("weekly", "distinct weekdays 1–7, each with up to 6 non-overlapping HH:MM hours"));
        }
        a.weekly[d.weekday] = *r;
    }
    for (const auto& e : body->exceptions) {
        auto r = ranges_of(e.hours);
        if (!iso_date(e.date) || a.exceptions.contains(e.date) || !r || r->size() > 6) {
            co_return problem(
                req,
                invalid("exceptions", "distinct YYYY-MM-DD dates, each with up to 6 non-overlapping hours"));
        }
        a.exceptions[e.date] = *r;
    }
    auto stored = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<repo::availability_row> {
        auto w = repo::find_worker(tx, id);
        const bool mine = w && ((who->is(auth::role::provider) && w->org_id == who->org) ||
                                (who->is(auth::role::worker) && w->id == who->id));
        if (!mine) {
            return core::errc::not_found;
        }
        try {
            db::savepoint sub(tx, "availability");
            repo::set_availability(sub, id, a);
            sub.commit();
        } catch (const pqxx::data_exception&) {
            return core::errc::invalid_argument;  // e.g. a date the calendar does not have
        }
        repo::add_history(tx, id, "availability", who->id, std::string(auth::to_string(who->role)), "");
        publish(c, tx, "worker.updated", worker_fact(*w));
        return repo::get_availability(tx, id);
    });
    if (!stored) {
        if (stored.error() == core::errc::invalid_argument) {
            co_return problem(req, invalid("exceptions", "every date must exist"));
        }
        co_return problem(req, stored.error());
    }
    co_return http::json_text_response(200, json::serialize(availability_json(*stored)));
}

awaitable<response> get_availability(context& c, request& req) {
    auto who = auth::authorize(
        req, c.verifier, {auth::role::provider, auth::role::worker, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto found = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<repo::availability_row> {
        auto w = repo::find_worker(tx, id);
        const bool visible = w && (who->is(auth::role::admin) ||
                                   (who->is(auth::role::staff) && who->covers(w->community_id)) ||
                                   (who->is(auth::role::provider) && w->org_id == who->org) ||
                                   (who->is(auth::role::worker) && w->id == who->id));
        if (!visible) {
            return std::nullopt;
        }
        return repo::get_availability(tx, id);
    });
    if (!found) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(availability_json(*found)));
}

// For matching: online workers of a kind near a point in the order's shard, who may be offered a job now
// (optionally: over the whole window `from`–`to`).
awaitable<response> candidates(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::service}, true);
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    auto kind = req.query_param("kind");
    if (!kind || !c.kind_credentials.contains(*kind)) {
        co_return problem(req, invalid("kind", "a kind of the catalog"));
    }
    const auto lat_q = http::number_param(req, "lat");
    const auto lon_q = http::number_param(req, "lon");
    const auto radius_q =
        req.query_param("radius_m") ? http::number_param(req, "radius_m") : std::optional(5000.0);
    const auto community_q = http::int_param(req, "community_id");
    if (!lat_q || !lon_q || !radius_q || !community_q) {
        co_return problem(req,
                          core::bad_query(!lat_q      ? "lat"
                                          : !lon_q    ? "lon"
                                          : !radius_q ? "radius_m"
                                                      : "community_id",
                                          "lat, lon, radius_m and community_id must be numbers"));
    }
    const double lat = *lat_q;
    const double lon = *lon_q;
    const double radius = *radius_q;
    const std::int64_t community = *community_q;
    if (!in_china(lat, lon) || !(radius > 0 && radius <= 30000)) {
        co_return problem(req, invalid("lat", "a position inside China and radius_m up to 30000"));
    }
    if (community < 100000000 || community > 999999999) {
        co_return problem(req, invalid("community_id", "a community id (9 digits)"));
    }
    std::optional<std::pair<std::string, std::string>> window;
    auto from = req.query_param("from");
    auto to = req.query_param("to");
    if (from || to) {
        const auto f = from ? core::parse_timestamp(*from) : std::nullopt;
        const auto t = to ? core::parse_timestamp(*to) : std::nullopt;
        if (!f || !t || *f >= *t) {
            co_return problem(req, invalid("from", "from and to: ISO 8601 timestamps, from before to"));
        }
        window.emplace(*from, *to);
    }
    auto hits = co_await redis::geosearch(c.redis, c.online_key(community, *kind), lon, lat, radius, 200);
    if (!hits) {
        throw core::unavailable_error("redis: presence unavailable");
    }
    std::vector<std::string> ids;
    for (const auto& h : *hits) {
        ids.push_back(h.member);
    }
    // Redis is the transport: the record decides who may still be offered work.
    std::vector<std::string> keep;
    try {
        keep = co_await c.pool.transact([&](pqxx::work& tx) {
            return repo::offerable(tx, ids, window, c.clock.now(), c.service_settings.local);
        });
    } catch (const pqxx::data_exception&) {
        co_return problem(req, invalid("from", "from and to must be valid timestamps"));
    }
    const std::set<std::string> ok(keep.begin(), keep.end());
    json::array items;
    for (const auto& h : *hits) {
        if (ok.contains(h.member)) {
            items.push_back(json::object{{"worker_id", h.member}, {"distance_m", h.distance_m}});
        }
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

// Everyone matching may offer work to in one street, with what it weighs them by: one read per street per
// tick instead of one per order. Redis says who is online where; the record decides the rest.
awaitable<response> street_workers(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::service}, true);
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string street_text(req.param("street"));
    if (street_text.size() != 6 || !std::all_of(street_text.begin(), street_text.end(), [](char ch) {
            return ch >= '0' && ch <= '9';
        })) {
        co_return problem(req, core::errc::not_found);
    }
    const std::int64_t street = std::stoll(street_text);
    std::vector<std::string> kinds;
    const std::string kinds_text = req.query_param("kinds").value_or("");
    for (std::size_t start = 0; start <= kinds_text.size();) {
        auto end = kinds_text.find(',', start);
        if (end == std::string::npos) {
            end = kinds_text.size();
        }
        kinds.push_back(kinds_text.substr(start, end - start));
        start = end + 1;
    }
    for (const auto& k : kinds) {
        if (!c.kind_credentials.contains(k)) {
            co_return problem(req, invalid("kinds", "kinds of the catalog, comma-separated"));
        }
    }
    std::optional<std::pair<std::int64_t, std::int64_t>> span;
    if (req.query_param("from") || req.query_param("to")) {
        const auto f = http::int_param(req, "from");
        const auto t = http::int_param(req, "to");
        if (!f || !t || *f < 0 || *f >= *t || *t - *f > 8 * 86400) {
            co_return problem(req,
                              invalid("from", "from and to: epoch seconds, from before to, at most 8 days"));
        }
        span.emplace(*f, *t);
    }
    // worker → position and the kinds it is online for
    std::map<std::string, std::pair<std::pair<double, double>, json::array>> online;
    for (const auto& k : kinds) {
        const auto key = c.online_key(street * 1000, k);
        std::vector<std::string> range{"ZRANGE", key, "0", "-1"};
        auto members = co_await c.redis.command(std::move(range));
        if (!members || members->is_error()) {
            throw core::unavailable_error("redis: presence unavailable");
        }
        if (members->elements.empty()) {
            continue;
        }
        std::vector<std::string> pos{"GEOPOS", key};
        for (const auto& m : members->elements) {
            pos.push_back(m.str);
        }
        auto where = co_await c.redis.command(std::move(pos));
        if (!where || where->is_error()) {
            throw core::unavailable_error("redis: presence unavailable");
        }
        for (std::size_t i = 0; i < members->elements.size() && i < where->elements.size(); ++i) {
            const auto& p = where->elements[i];
            if (p.elements.size() < 2) {
                continue;  // left the set between the two reads
            }
            auto& entry = online[members->elements[i].str];
            entry.first = {std::strtod(p.elements[1].str.c_str(), nullptr),
                           std::strtod(p.elements[0].str.c_str(), nullptr)};
            entry.second.emplace_back(k);
        }
    }
    std::vector<std::string> ids;
    for (const auto& [id, _] : online) {
        if (core::is_uuid(id)) {
            ids.push_back(id);
        }
    }
    std::vector<repo::offerable_worker> rows;
    // For meal delivery, each worker's canteen: where it cooks, how far it delivers, and its meals per slot.
    json::object canteens;
    const bool meals = std::find(kinds.begin(), kinds.end(), "meal") != kinds.end();
    if (!ids.empty()) {
        std::function<void(pqxx::work&)> read = [&](pqxx::work& tx) {
            rows = repo::offerable_workers(tx, ids, span, c.clock.now(), c.service_settings.local);
            if (!meals) {
                return;
            }
            for (const auto& w : rows) {
                if (canteens.contains(w.org_id)) {
                    continue;
                }
                auto canteen = repo::find_canteen(tx, w.org_id);
                auto org = canteen ? repo::find_org(tx, w.org_id) : std::nullopt;
                if (!canteen || !org) {
                    continue;
                }
                json::object slots;
                for (const auto& [slot, n] : canteen->slots) {
                    slots[slot] = n;
                }
                canteens[w.org_id] = json::object{{"lat", org->lat},
                                                  {"lon", org->lon},
                                                  {"delivery_radius_km", canteen->delivery_radius_km},
                                                  {"meals", std::move(slots)}};
            }
        };
        co_await c.pool.transact(std::move(read));
    }
    json::array items;
    for (const auto& w : rows) {
        const auto& [position, online_kinds] = online.at(w.id);
        json::object item;
        item["worker_id"] = w.id;
        item["org_id"] = w.org_id;
        item["gender"] = w.gender;
        json::array languages;
        for (const auto& l : w.languages) {
            languages.emplace_back(l);
        }
        item["languages"] = std::move(languages);
        item["kinds"] = online_kinds;
        item["location"] = json::object{{"lat", position.first}, {"lon", position.second}};
        json::array credentials;
        for (const auto& [type, until] : w.credentials) {
            credentials.push_back(json::object{{"type", type}, {"valid_until_s", until}});
        }
        item["credentials"] = std::move(credentials);
        if (span) {
            json::array hours;
            for (const auto& [from, to] : w.available) {
                hours.push_back(json::array{from, to});
            }
            item["available_s"] = std::move(hours);
        }
        items.push_back(std::move(item));
    }
    json::object page{{"items", std::move(items)}};
    if (meals) {
        page["canteens"] = std::move(canteens);
    }
    co_return http::json_text_response(200, json::serialize(page));
}

}  // namespace handlers

boost::asio::awaitable<std::size_t> app::sweep() {
    auto& c = ctx();
    const long long cutoff =
        handlers::now_ms(c) -
        std::chrono::duration_cast<std::chrono::milliseconds>(c.cfg.heartbeat_timeout).count();
    auto shards = co_await c.pool.transact([](pqxx::work& tx) { return repo::presence_shards(tx); });
    std::size_t removed = 0;
    for (const auto street : shards) {
        const std::int64_t community = street * 1000;  // any community of the street names its shard
        std::vector<std::string> range{
            "ZRANGEBYSCORE", c.seen_key(community), "-inf", "(" + std::to_string(cutoff)};
        auto stale = co_await c.redis.command(std::move(range));
        if (!stale) {
            throw core::unavailable_error("redis: presence unavailable");
        }
        for (const auto& member : stale->elements) {
            co_await handlers::withdraw(c, member.str, community);
        }
        removed += stale->elements.size();
    }
    co_return removed;
}

}  // namespace carematch::providers
