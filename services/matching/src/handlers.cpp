// matching's endpoints: a worker's live offers (an organisation's, with its jobs), accept and decline.
#include "context.hpp"
#include "dto.hpp"
#include "flows.hpp"
#include "store.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/checks.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/json.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

namespace carematch::matching {

namespace json = boost::json;
using boost::asio::awaitable;
using http::request;
using http::response;

namespace {

using http::problem;

json::object offer_json(const store::offer& f, const store::open_order& o) {
    json::object j;
    j["id"] = f.id;
    j["order_id"] = f.order_id;
    j["worker_id"] = f.worker_id;
    j["state"] = f.state;
    j["expires_at"] = iso(f.expires_at);
    j["travel_minutes"] = std::round(f.travel_min * 10) / 10;
    // What a worker may see before accepting: the job, the time and roughly where (the address comes from
    // orders once the job is theirs).
    json::object order;
    order["kind"] = o.kind;
    order["sub_type"] = o.sub_type;
    order["community_id"] = o.community_id;
    order["asap"] = o.asap;
    order["window"] = json::object{{"start", iso(o.window_start)}, {"end", iso(o.window_end)}};
    if (o.lat && o.lon) {
        order["location"] = json::object{{"lat", *o.lat}, {"lon", *o.lon}};
    }
    j["order"] = std::move(order);
    return j;
}

}  // namespace

namespace handlers {

awaitable<response> list_offers(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::worker, auth::role::provider});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::optional<std::string> worker;
    std::optional<std::string> org;
    if (who->is(auth::role::worker)) {
        worker = who->id;
    } else {
        if (!core::is_uuid(who->org)) {
            co_return problem(req, core::errc::forbidden, "this account belongs to no organisation");
        }
        org = who->org;
    }
    std::function<json::object(pqxx::work&)> read = [&](pqxx::work& tx) {
        json::array items;
        for (const auto& [f, o] : store::live_offers(tx, worker, org)) {
            items.push_back(offer_json(f, o));
        }
        json::object page;
        page["items"] = std::move(items);
        if (org) {
            json::array jobs;
            for (const auto& j : store::active_jobs(tx, *org)) {
                json::object x;
                x["order_id"] = j.order_id;
                x["worker_id"] = j.worker_id;
                x["from"] = iso(j.from);
                x["to"] = iso(j.to);
                jobs.push_back(std::move(x));
            }
            page["jobs"] = std::move(jobs);
        }
        return page;
    };
    auto page = co_await c.pool.transact(std::move(read));
    co_return http::json_text_response(200, json::serialize(page));
}

namespace {

// Claims the offer for an outcome (one claim wins) and applies it in orders.
awaitable<response> decide(
    context& c, request& req, const auth::caller& who, bool accept, std::string reason) {
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found, "no such offer");
    }
    const double now = now_s(c);
    enum class claim { unknown, taken, overlap, ok };
    std::optional<store::offer> claimed;
    std::optional<std::string> settled;  // a crew's seat that orders need not hear of
    std::function<claim(pqxx::work&)> take = [&](pqxx::work& tx) -> claim {
        auto f = store::find_offer(tx, id);
        if (!f || f->worker_id != who.id) {
            return claim::unknown;
        }
        const std::string to = accept ? "accepting" : "declining";
        const std::vector<std::string> from{"live", to};
        claimed =
            store::move_offer(tx, id, from, to, who.id, accept ? std::nullopt : std::optional(reason), now);
        if (!claimed) {
            return claim::taken;
        }
        if (accept) {
            auto o = store::find_order(tx, claimed->order_id);
            const auto* entry = o ? c.find(o->kind, o->sub_type) : nullptr;
            const double travel = claimed->travel_min * 60;
            const double start = std::max(o ? o->window_start : now, now + travel);
            const double duration = 60.0 * (entry ? entry->duration_min : 60);
            store::hold(tx, *claimed, start - travel, start + duration);
        }
        settled = settle_claim(tx, c, *claimed, now);
        return claim::ok;
    };
    claim outcome = claim::unknown;
    try {
        outcome = co_await c.pool.transact(std::move(take));
    } catch (const pqxx::sql_error& e) {
        if (!db::is_conflict(e)) {
            throw;
        }
        outcome = claim::overlap;
    }
    if (outcome == claim::unknown) {
        co_return problem(req, core::errc::not_found, "no such offer of yours");
    }
    if (outcome == claim::overlap) {
        co_return problem(req, core::errc::conflict, "you already hold a job at that time", "id");
    }
    if (outcome == claim::taken) {
        co_return problem(
            req, core::errc::conflict, "the offer was already answered, withdrawn or expired", "id");
    }
    if (settled) {
        count_outcome(c, *settled);
    }
    auto state = co_await apply(c, *claimed);
    if (!state) {
        throw core::unavailable_error("orders did not answer; the outcome is applied when it does");
    }
    const bool won = accept ? *state == "accepted" : *state == "declined";
    if (!won) {
        co_return problem(req, core::errc::conflict, "the order moved on (cancelled or expired)", "id");
    }
    std::function<std::optional<std::pair<store::offer, store::open_order>>(pqxx::work&)> read =
        [&](pqxx::work& tx) -> std::optional<std::pair<store::offer, store::open_order>> {
        auto f = store::find_offer(tx, id);
        auto o = f ? store::find_order(tx, f->order_id) : std::nullopt;
        if (!f || !o) {
            return std::nullopt;
        }
        return std::make_pair(*f, *o);
    };
    auto now_offer = co_await c.pool.transact(std::move(read));
    if (!now_offer) {
        co_return problem(req, core::errc::not_found, "no such offer of yours");
    }
    co_return http::json_text_response(200, json::serialize(offer_json(now_offer->first, now_offer->second)));
}

}  // namespace

awaitable<response> accept_offer(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    co_return co_await decide(c, req, *who, true, "");
}

awaitable<response> decline_offer(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    auto body = http::parse_json_body<decline_body>(req);
    if (!body) {
        co_return http::problem_response(body.error(), req.request_id);
    }
    if (body->reason.empty() || !core::plain_text(body->reason, 200)) {
        co_return problem(req, core::errc::invalid_argument, "a reason of 1 to 200 characters", "reason");
    }
    co_return co_await decide(c, req, *who, false, body->reason);
}

}  // namespace handlers

void app::add_routes(http::router& r) {
    context& c = ctx();
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("GET", "/v1/offers", bind(&h::list_offers));
    r.add("POST", "/v1/offers/{id}/accept", bind(&h::accept_offer));
    r.add("POST", "/v1/offers/{id}/decline", bind(&h::decline_offer));
}

}  // namespace carematch::matching
