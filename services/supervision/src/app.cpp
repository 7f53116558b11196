// supervision wiring: config, the streams it reads, and /v1/supervision/... for staff and admins.
#include "context.hpp"
#include "figures.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/checks.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/runtime/regions.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <variant>

namespace carematch::supervision {

namespace json = boost::json;
using boost::asio::awaitable;
using http::request;
using http::response;

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "supervision.schema", c.schema, c.service);
    c.regions_file = source.get_string("supervision.regions_file", c.regions_file);
    c.ratings_stream = source.get_string("supervision.ratings_stream", c.ratings_stream);
    c.complaints_stream = source.get_string("supervision.complaints_stream", c.complaints_stream);
    c.providers_stream = source.get_string("supervision.providers_stream", c.providers_stream);
    c.consumer_group = source.get_string("supervision.consumer_group", c.consumer_group);
    c.watch_score_below =
        static_cast<double>(source.get_int("supervision.watch_score_below_tenths", 35, 10, 50)) / 10.0;
    c.max_days = static_cast<int>(source.get_int("supervision.max_days", c.max_days, 1, 3660));
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)) {}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("supervision", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {}

app::~app() = default;

void app::on_start() {
    auto& c = ctx();
    c.streets = runtime::read_streets("supervision.regions_file", c.cfg.regions_file);
    // Each community's district: community → street → district in the tree.
    std::map<std::int64_t, std::int64_t> parent;
    std::vector<std::int64_t> communities;
    for (const auto& v : http::read_json_array_file("supervision.regions_file", c.cfg.regions_file)) {
        const auto& o = v.as_object();
        const auto id = o.at("id").to_number<std::int64_t>();
        if (const auto* p = o.if_contains("parent_id"); p != nullptr && p->is_int64()) {
            parent[id] = p->as_int64();
        }
        if (o.at("level").as_string() == "community") {
            communities.push_back(id);
            if (const auto* r = o.if_contains("residents"); r != nullptr && r->is_int64()) {
                c.residents[id] = r->as_int64();
            }
        }
    }
    for (auto community : communities) {
        if (auto street = parent.find(community); street != parent.end()) {
            if (auto district = parent.find(street->second); district != parent.end()) {
                c.communities_of[district->second].push_back(community);
            }
        }
    }
    events::consumer_settings s;
    s.group = c.cfg.consumer_group;
    for (auto street : c.streets) {
        s.streams.push_back(runtime::orders_stream(street));
        s.streams.push_back("carematch:{region:" + std::to_string(street) + "}:matching");
        s.streams.push_back(runtime::nursery_stream(street));
    }
    s.streams.push_back(c.cfg.ratings_stream);
    s.streams.push_back(c.cfg.complaints_stream);
    s.streams.push_back(c.cfg.providers_stream);
    c.streams = s.streams;
    events::handler h = [](pqxx::work& tx, const events::event& e) { facts::apply(tx, e); };
    auto consumer = c.make_consumer(std::move(s), std::move(h));
    consumer->set_read_handler(&facts::apply_all);
    consumer_ = consumer.get();
    add_consumer(std::move(consumer));
}

namespace {

using http::problem;

// The span asked for: from/to as local days (default the last 7 days to today), at most max_days.
std::variant<span, response> span_of(const context& c,
                                     const request& req,
                                     std::vector<std::int64_t> communities) {
    span s;
    s.communities = std::move(communities);
    s.utc_offset_minutes = static_cast<int>(c.service_settings.local.utc_offset().count());
    const auto today = c.today();
    auto day = [&](const char* name, std::chrono::sys_days fallback) -> std::optional<std::chrono::sys_days> {
        auto v = req.query_param(name);
        if (!v) {
            return fallback;
        }
        auto d = core::parse_date(*v);
        return d ? std::optional<std::chrono::sys_days>(std::chrono::sys_days(*d)) : std::nullopt;
    };
    auto to = day("to", today);
    if (!to) {
        return problem(req, core::errc::invalid_argument, "a local date, YYYY-MM-DD", "to");
    }
    auto from = day("from", *to - std::chrono::days(6));
    if (!from) {
        return problem(req, core::errc::invalid_argument, "a local date, YYYY-MM-DD", "from");
    }
    if (*from > *to || (*to - *from).count() >= c.cfg.max_days) {
        return problem(req,
                       core::errc::invalid_argument,
                       "from on or before to, at most " + std::to_string(c.cfg.max_days) + " days",
                       "from");
    }
    s.from = core::format_date(*from);
    s.to = core::format_date(*to);
    return s;
}

awaitable<response> answer_figures(context& c, const request& req, span s, json::object head) {
    const auto format = req.query_param("format").value_or("json");
    if (format != "json" && format != "csv") {
        co_return problem(req, core::errc::invalid_argument, "json or csv", "format");
    }
    std::function<json::object(pqxx::work&)> read = [s](pqxx::work& tx) { return figures(tx, s); };
    std::int64_t residents = 0;
    for (auto cm : s.communities) {
        if (auto it = c.residents.find(cm); it != c.residents.end()) {
            residents += it->second;
        }
    }
    auto f = co_await c.pool.transact(std::move(read));
    if (format == "csv") {
        response r;
        r.body = figures_csv(f);
        r.set_header("Content-Type", "text/csv; charset=utf-8");
        co_return r;
    }
    for (auto& [k, v] : f) {
        head[k] = v;
    }
    // Places now against the policy's 4.5 per 1,000 residents (residents from the region tree).
    auto& nursery = head["nursery"].as_object();
    nursery["residents"] = residents;
    const auto places = nursery.at("places").as_int64();
    nursery["per_1000"] =
        residents > 0 ? json::value(1000.0 * static_cast<double>(places) / static_cast<double>(residents))
                      : json::value(nullptr);
    nursery["target_per_1000"] = 4.5;
    co_return http::json_text_response(200, json::serialize(head));
}

std::optional<std::int64_t> id_param(const request& req) {
    const std::string text(req.param("id"));
    if (text.empty() || text.size() > 12 ||
        !std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return std::nullopt;
    }
    return std::stoll(text);
}

}  // namespace

void app::add_routes(http::router& r) {
    auto& c = ctx();
    r.add("GET", "/v1/supervision/communities/{id}", [&c](request& req) -> awaitable<response> {
        auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
        if (!who) {
            co_return auth::deny(who.error(), req.request_id);
        }
        auto id = id_param(req);
        if (!id) {
            co_return problem(req, core::errc::invalid_argument, "a community id", "id");
        }
        if (who->is(auth::role::staff) && !who->covers(*id)) {
            co_return problem(req, core::errc::forbidden, "a community outside your scope", "id");
        }
        auto s = span_of(c, req, {*id});
        if (auto* bad = std::get_if<response>(&s)) {
            co_return std::move(*bad);
        }
        json::object head;
        head["community_id"] = *id;
        co_return co_await answer_figures(c, req, std::get<span>(std::move(s)), std::move(head));
    });
    r.add("GET", "/v1/supervision/districts/{id}", [&c](request& req) -> awaitable<response> {
        auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
        if (!who) {
            co_return auth::deny(who.error(), req.request_id);
        }
        auto id = id_param(req);
        auto district = id ? c.communities_of.find(*id) : c.communities_of.end();
        if (district == c.communities_of.end()) {
            co_return problem(req, core::errc::not_found, "no such district", "id");
        }
        // Staff see a district's roll-up only when their scope holds every community of it.
        if (who->is(auth::role::staff) &&
            !std::all_of(
                district->second.begin(), district->second.end(), [&](auto cm) { return who->covers(cm); })) {
            co_return problem(req, core::errc::forbidden, "a district outside your scope", "id");
        }
        auto s = span_of(c, req, district->second);
        if (auto* bad = std::get_if<response>(&s)) {
            co_return std::move(*bad);
        }
        json::array ids;
        for (auto cm : district->second) {
            ids.push_back(cm);
        }
        json::object head;
        head["district_id"] = *id;
        head["communities"] = std::move(ids);
        co_return co_await answer_figures(c, req, std::get<span>(std::move(s)), std::move(head));
    });
    r.add("GET", "/v1/supervision/watchlist", [&c](request& req) -> awaitable<response> {
        auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
        if (!who) {
            co_return auth::deny(who.error(), req.request_id);
        }
        auto community = http::int_param(req, "community_id");
        if (!community) {
            co_return problem(req, core::errc::invalid_argument, "a community id", "community_id");
        }
        if (who->is(auth::role::staff) && !who->covers(*community)) {
            co_return problem(req, core::errc::forbidden, "a community outside your scope", "community_id");
        }
        const double below = c.cfg.watch_score_below;
        const int offset = static_cast<int>(c.service_settings.local.utc_offset().count());
        std::function<json::array(pqxx::work&)> read = [&](pqxx::work& tx) {
            return watchlist(tx, {*community}, below, offset);
        };
        auto items = co_await c.pool.transact(std::move(read));
        co_return http::json_text_response(
            200, json::serialize(json::object{{"community_id", *community}, {"items", std::move(items)}}));
    });
    // Forget the read models and read every stream again from its start (what the streams still hold).
    r.add("POST", "/v1/supervision/rebuild", [&c](request& req) -> awaitable<response> {
        auto who = auth::authorize(req, c.verifier, {auth::role::admin});
        if (!who) {
            co_return auth::deny(who.error(), req.request_id);
        }
        std::function<void(pqxx::work&)> wipe = [](pqxx::work& tx) {
            tx.exec(
                "TRUNCATE orders_seen, reviews_seen, tickets_seen, followups_seen, org_scores_seen, "
                "org_suspensions_seen,"
                " nurseries_seen, workers_seen, credentials_seen, inbox");
        };
        co_await c.pool.transact(std::move(wipe));
        for (const auto& stream : c.streams) {
            std::vector<std::string> args{"XGROUP", "SETID", stream, c.cfg.consumer_group, "0"};
            auto r = co_await c.redis.command(std::move(args));
            if (!r) {
                co_return problem(
                    req, core::errc::unavailable, "the event streams cannot be reached; try again");
            }
        }
        response res;
        res.status = 202;
        res.body = json::serialize(json::object{{"rebuilding", true}, {"streams", c.streams.size()}});
        res.set_header("Content-Type", "application/json");
        co_return res;
    });
}

boost::asio::awaitable<std::size_t> app::consume_once() {
    co_return co_await consumer_->run_once();
}

std::string_view
openapi_document();  // services/supervision/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::supervision
