// providers' handlers: worker profiles, presence (online, heartbeat, offline), suspension, candidates.
#include "context.hpp"
#include "repository.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/json.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <set>

namespace carematch::providers {

struct credential_body {
    std::string type;
    std::string number;
    std::string expires_on;
};
BOOST_DESCRIBE_STRUCT(credential_body, (), (type, number, expires_on))

struct point_body {
    double lat = 0;
    double lon = 0;
};
BOOST_DESCRIBE_STRUCT(point_body, (), (lat, lon))

struct worker_body {
    std::string name;
    std::string gender;
    std::vector<std::string> languages;
    std::vector<std::string> kinds;
    point_body home;
    double radius_km = 5;
    std::vector<credential_body> credentials;
};
BOOST_DESCRIBE_STRUCT(worker_body, (), (name, gender, languages, kinds, home, radius_km, credentials))

struct suspend_body {
    std::string reason;
    std::string until;
};
BOOST_DESCRIBE_STRUCT(suspend_body, (), (reason, until))

namespace handlers {

using boost::asio::awaitable;
namespace json = boost::json;
using http::request;
using http::response;

namespace {

template <class... Args>
response problem(const request& req, Args&&... args) {
    return http::problem_response(req, std::forward<Args>(args)...);
}

core::problem invalid(const char* field, std::string detail) {
    return core::make_problem(core::errc::invalid_argument, std::move(detail), field);
}

bool in_china(double lat, double lon) {
    return lat >= 18.0 && lat <= 53.6 && lon >= 73.5 && lon <= 135.1;
}

bool iso_date(const std::string& s) {
    return s.size() == 10 && s[4] == '-' && s[7] == '-' &&
           std::all_of(s.begin(), s.end(), [](char ch) { return ch == '-' || (ch >= '0' && ch <= '9'); });
}

std::string today(const context& c) {
    const auto d = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(c.clock.now()));
    char buf[16];
    std::snprintf(buf,
                  sizeof buf,
                  "%04d-%02u-%02u",
                  static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()),
                  static_cast<unsigned>(d.day()));
    return buf;
}

long long now_ms(const context& c) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(c.clock.now().time_since_epoch()).count();
}

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
        creds.push_back(
            json::object{{"type", cr.type}, {"number", cr.number}, {"expires_on", cr.expires_on}});
    }
    json::object o{{"id", w.id},
                   {"org_id", w.org_id},
                   {"name", w.name},
                   {"gender", w.gender},
                   {"languages", json::value_from(w.languages)},
                   {"kinds", json::value_from(w.kinds)},
                   {"eligible_kinds", json::value_from(eligible_kinds(c, w))},
                   {"home", json::object{{"lat", w.home_lat}, {"lon", w.home_lon}}},
                   {"radius_km", w.radius_km},
                   {"credentials", std::move(creds)},
                   {"suspended", w.suspended_now}};
    o["suspended_until"] = w.suspended_until ? json::value(*w.suspended_until) : json::value(nullptr);
    return o;
}

// Removes the worker from every candidate set and from the heartbeat set.
awaitable<void> withdraw(context& c, const std::string& worker_id) {
    for (const auto& [kind, needs] : c.kind_credentials) {
        (void)needs;
        auto removed = co_await redis::georemove(c.redis, c.online_key(kind), worker_id);
        if (!removed) {
            throw core::unavailable_error("redis: presence unavailable");
        }
    }
    std::vector<std::string> zrem{"ZREM", c.seen_key(), worker_id};
    if (!co_await c.redis.command(std::move(zrem))) {
        throw core::unavailable_error("redis: presence unavailable");
    }
}

void publish(context& c, pqxx::work& tx, const char* type, const std::string& worker_id) {
    json::object payload{{"worker_id", worker_id}};
    db::enqueue_event(tx, c.cfg.schema, "carematch:{presence}:providers", type, json::serialize(payload));
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
    row.name = body->name;
    row.gender = body->gender;
    row.languages = body->languages;
    row.kinds = body->kinds;
    row.home_lat = body->home.lat;
    row.home_lon = body->home.lon;
    row.radius_km = body->radius_km;
    for (const auto& cr : body->credentials) {
        row.credentials.push_back({cr.type, cr.number, cr.expires_on});
    }
    auto stored = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<repo::worker_row> {
        auto existing = repo::find_worker(tx, id);
        if (existing && existing->org_id != who->org) {
            return std::nullopt;  // another organisation's worker does not exist for this caller
        }
        try {
            pqxx::subtransaction sub(tx, "upsert");
            repo::upsert_worker(sub, row);
            sub.commit();
        } catch (const pqxx::data_exception&) {
            return std::nullopt;
        }
        repo::add_history(tx, id, "profile", who->id, "provider", "");
        publish(c, tx, "worker.updated", id);
        return repo::find_worker(tx, id);
    });
    if (!stored) {
        co_return problem(req, core::errc::not_found);
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
    const bool visible = w && (who->any_of({auth::role::staff, auth::role::admin}) ||
                               (who->is(auth::role::provider) && w->org_id == who->org) ||
                               (who->is(auth::role::worker) && w->id == who->id));
    if (!visible) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(worker_json(c, *w)));
}

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
        co_await withdraw(c, w->id);
        co_await c.pool.transact([&](pqxx::work& tx) { publish(c, tx, "worker.offline", w->id); });
        co_return http::json_text_response(200, json::serialize(json::object{{"online", false}}));
    }
    if (w->suspended_now) {
        co_return problem(req, core::errc::conflict, "suspended until " + w->suspended_until.value_or(""));
    }
    const auto kinds = eligible_kinds(c, *w);
    for (const auto& [kind, needs] : c.kind_credentials) {
        (void)needs;
        const bool add = std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
        auto done = add ? co_await redis::geoadd(c.redis, c.online_key(kind), at->lon, at->lat, w->id)
                        : co_await redis::georemove(c.redis, c.online_key(kind), w->id);
        if (!done) {
            throw core::unavailable_error("redis: presence unavailable");
        }
    }
    std::vector<std::string> zadd{"ZADD", c.seen_key(), std::to_string(now_ms(c)), w->id};
    if (!co_await c.redis.command(std::move(zadd))) {
        throw core::unavailable_error("redis: presence unavailable");
    }
    co_await c.pool.transact([&](pqxx::work& tx) { publish(c, tx, "worker.online", w->id); });
    co_return http::json_text_response(
        200, json::serialize(json::object{{"online", true}, {"kinds", json::value_from(kinds)}}));
}

awaitable<response> go_online(context& c, request& req) {
    co_return co_await presence(c, req, true);
}
awaitable<response> go_offline(context& c, request& req) {
    co_return co_await presence(c, req, false);
}

awaitable<response> suspend_worker(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto body = http::parse_json_body<suspend_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (body->reason.empty() || body->reason.size() > 600) {
        co_return problem(req, invalid("reason", "1 to 200 characters"));
    }
    bool done = co_await c.pool.transact([&](pqxx::work& tx) {
        if (!repo::suspend(tx, id, body->until, body->reason)) {
            return false;
        }
        repo::add_history(tx, id, "suspend", who->id, std::string(auth::to_string(who->role)), body->reason);
        publish(c, tx, "worker.suspended", id);
        return true;
    });
    if (!done) {
        co_return problem(req, core::errc::not_found, "no such worker, or `until` is not a timestamp");
    }
    co_await withdraw(c, id);  // out of matching at once
    co_return http::json_text_response(200, json::serialize(json::object{{"suspended", true}}));
}

awaitable<response> candidates(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::service}, true);
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    auto kind = req.query_param("kind");
    if (!kind || !c.kind_credentials.contains(*kind)) {
        co_return problem(req, invalid("kind", "a kind of the catalog"));
    }
    double lat = 0;
    double lon = 0;
    double radius = 0;
    try {
        lat = std::stod(req.query_param("lat").value_or("x"));
        lon = std::stod(req.query_param("lon").value_or("x"));
        radius = std::stod(req.query_param("radius_m").value_or("5000"));
    } catch (const std::exception&) {
        co_return problem(req, invalid("lat", "lat, lon and radius_m must be numbers"));
    }
    if (!in_china(lat, lon) || !(radius > 0 && radius <= 30000)) {
        co_return problem(req, invalid("lat", "a position inside China and radius_m up to 30000"));
    }
    auto hits = co_await redis::geosearch(c.redis, c.online_key(*kind), lon, lat, radius, 200);
    if (!hits) {
        throw core::unavailable_error("redis: presence unavailable");
    }
    json::array items;
    for (const auto& h : *hits) {
        items.push_back(json::object{{"worker_id", h.member}, {"distance_m", h.distance_m}});
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

}  // namespace handlers

boost::asio::awaitable<std::size_t> app::sweep() {
    auto& c = *ctx_;
    const long long cutoff =
        handlers::now_ms(c) -
        std::chrono::duration_cast<std::chrono::milliseconds>(c.cfg.heartbeat_timeout).count();
    std::vector<std::string> range{"ZRANGEBYSCORE", c.seen_key(), "-inf", "(" + std::to_string(cutoff)};
    auto stale = co_await c.redis.command(std::move(range));
    if (!stale) {
        throw core::unavailable_error("redis: presence unavailable");
    }
    for (const auto& member : stale->elements) {
        co_await handlers::withdraw(c, member.str);
    }
    co_return stale->elements.size();
}

void app::add_routes(http::router& r) {
    context& c = *ctx_;
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("PUT", "/v1/providers/workers/{id}", bind(&h::put_worker));
    r.add("GET", "/v1/providers/workers/{id}", bind(&h::get_worker));
    r.add("POST", "/v1/providers/workers/{id}/suspend", bind(&h::suspend_worker));
    r.add("POST", "/v1/providers/me/online", bind(&h::go_online));
    r.add("POST", "/v1/providers/me/heartbeat", bind(&h::go_online));
    r.add("POST", "/v1/providers/me/offline", bind(&h::go_offline));
    r.add("GET", "/v1/internal/providers/candidates", bind(&h::candidates));
}

}  // namespace carematch::providers
