// Offer outcomes: claimed here, applied in orders with the attempt, recorded with their event.
#include "flows.hpp"

#include <carematch/core/log.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>

namespace carematch::matching {

namespace json = boost::json;

double now_s(const context& c) {
    return std::chrono::duration<double>(c.clock.now().time_since_epoch()).count();
}

std::string iso(double epoch_s) {
    const auto t = static_cast<std::time_t>(epoch_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

boost::asio::awaitable<void> run_all(std::vector<std::function<boost::asio::awaitable<void>()>> jobs) {
    if (jobs.empty()) {
        co_return;
    }
    // A latch on a strand: the last job to finish cancels the timer the caller waits on; checking the count
    // and starting the wait happen on the same strand, so the cancel cannot come in between.
    auto ex = co_await boost::asio::this_coro::executor;
    auto strand = boost::asio::make_strand(ex);
    auto remaining = std::make_shared<std::size_t>(jobs.size());
    auto latch =
        std::make_shared<boost::asio::steady_timer>(strand, boost::asio::steady_timer::time_point::max());
    for (auto& job : jobs) {
        boost::asio::co_spawn(ex, job(), [strand, remaining, latch](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    core::log::error("matching: a job failed", {{"error", x.what()}});
                }
            }
            boost::asio::post(strand, [remaining, latch] {
                if (--*remaining == 0) {
                    latch->cancel();
                }
            });
        });
    }
    co_await boost::asio::dispatch(strand, boost::asio::use_awaitable);
    if (*remaining > 0) {
        boost::system::error_code ec;
        co_await latch->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    co_await boost::asio::post(ex, boost::asio::use_awaitable);  // back on the caller's executor
}

void latency_histogram::observe(double seconds) {
    std::lock_guard lock(mutex);
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (seconds <= bounds[i]) {
            ++counts[i];
            break;
        }
    }
    ++count;
    sum += seconds;
}

namespace {

json::object transition_json(const std::string& to,
                             int attempt,
                             const std::string& reason,
                             const std::optional<std::string>& worker,
                             const std::optional<std::string>& org,
                             const std::optional<std::string>& second_worker,
                             const std::optional<std::string>& second_org) {
    json::object body;
    body["to"] = to;
    body["attempt"] = attempt;
    body["reason"] = reason;
    if (worker) {
        body["worker_id"] = *worker;
    }
    if (org) {
        body["org_id"] = *org;
    }
    if (second_worker) {
        body["second_worker_id"] = *second_worker;
    }
    if (second_org) {
        body["second_org_id"] = *second_org;
    }
    return body;
}

}  // namespace

boost::asio::awaitable<orders_reply> tell_orders(context& c,
                                                 const std::string& order_id,
                                                 const std::string& to,
                                                 int attempt,
                                                 const std::string& reason,
                                                 const std::optional<std::string>& worker,
                                                 const std::optional<std::string>& org,
                                                 const std::optional<std::string>& second_worker,
                                                 const std::optional<std::string>& second_org) {
    http::outgoing o;
    o.method = "POST";
    o.target = "/v1/internal/orders/" + order_id + "/transition";
    o.headers.emplace_back("Authorization", "Bearer " + c.issuer->issue_service("matching"));
    o.headers.emplace_back("Content-Type", "application/json");
    o.body = json::serialize(transition_json(to, attempt, reason, worker, org, second_worker, second_org));
    auto res = co_await c.peers.send(c.cfg.orders.host, c.cfg.orders.port, std::move(o));
    orders_reply r;
    if (!res || res->status >= 500 || res->status == 401 || res->status == 403) {
        if (res) {
            core::log::warn("orders refused matching's call",
                            {{"status", res->status}, {"order_id", order_id}, {"to", to}});
        }
        co_return r;
    }
    if (res->status != 200) {
        r.outcome = told::refused;
        co_return r;
    }
    boost::system::error_code ec;
    auto v = json::parse(res->body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("attempt")) {
        co_return r;
    }
    r.outcome = told::applied;
    r.attempt = static_cast<int>(v.at("attempt").to_number<std::int64_t>());
    co_return r;
}

namespace {

// Every offer event names the family and the community of its order, so that they can be told and counted
// without a lookup.
void publish(pqxx::work& tx, context& c, std::int64_t street, const char* type, json::object payload) {
    if (const auto* order = payload.if_contains("order_id"); order != nullptr && order->is_string()) {
        auto f =
            tx.exec_params("SELECT family_id::text, community_id FROM open_orders WHERE order_id = $1::uuid",
                           std::string(order->as_string()));
        if (!f.empty() && !f[0][0].is_null()) {
            payload["family_id"] = f[0][0].as<std::string>();
        }
        if (!f.empty()) {
            payload["community_id"] = f[0][1].as<std::int64_t>();
        }
    }
    db::enqueue_event(tx, c.cfg.schema, context::events_stream(street), type, json::serialize(payload));
}

json::object offer_event(const store::offer& o) {
    json::object e;
    e["order_id"] = o.order_id;
    e["offer_id"] = o.id;
    e["worker_id"] = o.worker_id;
    e["org_id"] = o.org_id;
    return e;
}

}  // namespace

namespace {

// The transition in orders that an offer in a transitional state stands for (`to` empty when the offer is
// final). Only an offer names its workers and organisations: a crew's by seat, this offer's and the other
// seat's (offered with it, or holding the job already).
struct transition {
    std::string to;
    std::string reason;
    std::optional<std::string> worker;
    std::optional<std::string> org;
    std::optional<std::string> second_worker;
    std::optional<std::string> second_org;
};

transition transition_of(const store::offer& o) {
    transition t;
    if (o.state == "pending") {
        t.to = "offered";
        t.reason = "offer " + o.id;
        t.worker = o.worker_id;
        t.org = o.org_id;
        t.second_worker = o.partner_worker;
        t.second_org = o.partner_org;
        if (o.seat == 1) {
            std::swap(t.worker, t.second_worker);
            std::swap(t.org, t.second_org);
        }
    } else if (o.state == "accepting") {
        t.to = "assigned";
        t.reason = "accepted offer " + o.id;
    } else if (o.state == "declining") {
        t.to = "matching";
        t.reason = "declined: " + o.reason;
    } else if (o.state == "expiring") {
        t.to = "matching";
        t.reason = "offer expired";
    }
    return t;
}

// Records what orders said about one offer's transition: the offer's final state, or "" when someone else
// recorded it meanwhile. `first_offer_after` gets order → first offer, seconds, when this was the first.
std::string record(pqxx::work& tx,
                   context& c,
                   const store::offer& o,
                   const orders_reply& reply,
                   double now,
                   std::optional<double>& first_offer_after) {
    const bool applied = reply.outcome == told::applied;
    const std::vector<std::string> from{o.state};
    if (o.state == "declining" || o.state == "expiring") {
        store::exclude(tx, o.order_id, o.worker_id, o.state == "declining" ? "declined" : "expired");
    }
    if (!applied) {
        // Orders moved on without us (a cancellation, a deadline, another process): the reconciler reads the
        // truth again.
        if (!store::move_offer(tx, o.id, from, "void", std::nullopt, std::nullopt, std::nullopt)) {
            return "";
        }
        if (o.state == "accepting") {
            store::release(tx, o.order_id);
        }
        store::set_state(tx, o.order_id, "stale", std::nullopt);
        return "void";
    }
    if (o.state == "pending") {
        auto live = store::move_offer(
            tx, o.id, from, "live", std::nullopt, std::nullopt, std::nullopt, reply.attempt);
        if (!live) {
            return "";
        }
        store::set_state(tx, o.order_id, "offered", reply.attempt);
        auto order = store::find_order(tx, o.order_id);
        auto first = tx.exec_params(
            "UPDATE open_orders SET first_offer_at = to_timestamp($2) WHERE order_id = $1::uuid"
            " AND first_offer_at IS NULL RETURNING extract(epoch FROM created_at)::float8",
            o.order_id,
            now);
        if (!first.empty()) {
            first_offer_after = now - first[0][0].as<double>();
        }
        auto e = offer_event(o);
        e["attempt"] = reply.attempt;
        e["expires_at"] = iso(o.expires_at);
        e["kind"] = order ? order->kind : "";
        publish(tx, c, o.street, "order.offered", e);
        return "live";
    }
    if (o.state == "accepting") {
        if (!store::move_offer(
                tx, o.id, from, "accepted", std::nullopt, std::nullopt, std::nullopt, reply.attempt)) {
            return "";
        }
        store::set_state(tx, o.order_id, "assigned", reply.attempt);
        auto e = offer_event(o);
        if (o.partner_worker) {  // a crew: the seat accepted before is told too
            e["second_worker_id"] = *o.partner_worker;
            e["second_org_id"] = o.partner_org ? json::value(*o.partner_org) : json::value(nullptr);
        }
        publish(tx, c, o.street, "order.assigned", e);
        return "accepted";
    }
    const std::string final_state = o.state == "declining" ? "declined" : "expired";
    if (!store::move_offer(
            tx, o.id, from, final_state, std::nullopt, std::nullopt, std::nullopt, reply.attempt)) {
        return "";
    }
    store::set_state(tx, o.order_id, "waiting", reply.attempt);
    auto e = offer_event(o);
    if (o.state == "declining") {
        e["reason"] = o.reason;
    }
    publish(tx, c, o.street, o.state == "declining" ? "offer.declined" : "offer.expired", e);
    return final_state;
}

void count(context& c, const std::string& final_state, const std::optional<double>& first_offer_after) {
    if (final_state == "live") {
        c.count.offers.fetch_add(1);
        if (first_offer_after) {
            c.to_offer.observe(std::max(0.0, *first_offer_after));
        }
    } else if (final_state == "accepted") {
        c.count.accepts.fetch_add(1);
    } else if (final_state == "declined") {
        c.count.declines.fetch_add(1);
    } else if (final_state == "expired") {
        c.count.expiries.fetch_add(1);
    }
}

// Many transitions in one call to orders, each answered as the one-order call would; all unavailable when the
// call fails. The seats of a crew offered together are one transition: each of their offers gets its answer.
boost::asio::awaitable<std::vector<orders_reply>> tell_orders_all(context& c,
                                                                  const std::vector<store::offer>& offers) {
    std::vector<orders_reply> replies(offers.size());
    json::array items;
    std::vector<std::size_t> item_of(offers.size());
    std::map<std::pair<std::string, std::string>, std::size_t> asked;  // (order, to) → item
    for (std::size_t i = 0; i < offers.size(); ++i) {
        const auto& o = offers[i];
        const transition t = transition_of(o);
        auto [it, fresh] = asked.emplace(std::pair{o.order_id, t.to}, items.size());
        item_of[i] = it->second;
        if (!fresh) {
            continue;
        }
        json::object item = transition_json(
            t.to, o.attempt.value_or(0), t.reason, t.worker, t.org, t.second_worker, t.second_org);
        item["order_id"] = o.order_id;
        items.push_back(std::move(item));
    }
    http::outgoing req;
    req.method = "POST";
    req.target = "/v1/internal/orders/transitions";
    req.headers.emplace_back("Authorization", "Bearer " + c.issuer->issue_service("matching"));
    req.headers.emplace_back("Content-Type", "application/json");
    const std::size_t asked_items = items.size();
    req.body = json::serialize(json::object{{"items", std::move(items)}});
    auto res = co_await c.peers.send(c.cfg.orders.host, c.cfg.orders.port, std::move(req));
    if (!res || res->status != 200) {
        if (res) {
            core::log::warn("orders refused matching's batch", {{"status", res->status}});
        }
        co_return replies;
    }
    boost::system::error_code ec;
    auto v = json::parse(res->body, ec);
    const auto* got = !ec && v.is_object() ? v.as_object().if_contains("items") : nullptr;
    if (got == nullptr || !got->is_array() || got->as_array().size() != asked_items) {
        co_return replies;
    }
    for (std::size_t i = 0; i < offers.size(); ++i) {
        const auto& item = got->as_array()[item_of[i]];
        if (!item.is_object()) {
            continue;
        }
        const auto* status = item.as_object().if_contains("status");
        const auto* attempt = item.as_object().if_contains("attempt");
        if (status != nullptr && status->is_int64() && status->as_int64() == 200 && attempt != nullptr &&
            attempt->is_int64()) {
            replies[i].outcome = told::applied;
            replies[i].attempt = static_cast<int>(attempt->as_int64());
        } else if (status != nullptr && status->is_int64() && status->as_int64() < 500) {
            replies[i].outcome = told::refused;
        }
    }
    co_return replies;
}

}  // namespace

std::optional<std::string> settle_claim(pqxx::work& tx, context& c, store::offer& o, double now) {
    if (o.crew < 2) {
        return std::nullopt;  // one worker: every outcome goes through orders with the offer's attempt
    }
    auto order = store::lock_order(tx, o.order_id);
    if (!order || order->crew < 2) {
        return std::nullopt;  // as the offer was read, through orders
    }
    const std::vector<std::string> from{o.state};
    if (o.state == "accepting") {
        if (store::other_seats_held(tx, o.order_id, o.seat) + 1 < order->crew) {
            // The crew is not whole yet: this seat holds the job (the caller held it), orders waits for the
            // last seat.
            auto done =
                store::move_offer(tx, o.id, from, "accepted", std::nullopt, std::nullopt, std::nullopt);
            if (done) {
                o = *done;
                return o.state;
            }
            return std::nullopt;
        }
    } else if (order->state == "waiting") {
        // Another seat's outcome already took the order back to matching: only this seat is recorded.
        orders_reply here;
        here.outcome = told::applied;
        here.attempt = order->attempt;
        std::optional<double> first_offer_after;
        auto final_state = record(tx, c, o, here, now, first_offer_after);
        if (!final_state.empty()) {
            o.state = final_state;
            return final_state;
        }
        return std::nullopt;
    }
    // To orders with the order's attempt: a crew's seats went live with different ones.
    if (auto moved = store::move_offer(
            tx, o.id, from, o.state, std::nullopt, std::nullopt, std::nullopt, order->attempt)) {
        o = *moved;
    }
    return std::nullopt;
}

void count_outcome(context& c, const std::string& final_state) {
    count(c, final_state, std::nullopt);
}

boost::asio::awaitable<std::optional<std::string>> apply(context& c, const store::offer& o) {
    // Named locals, no structured bindings and no temporaries in the co_await: GCC 12 destroys such
    // temporaries twice (a double free under load).
    const transition t = transition_of(o);
    if (t.to.empty()) {
        co_return o.state;  // already final
    }
    const int attempt = o.attempt.value_or(0);
    const auto reply = co_await tell_orders(
        c, o.order_id, t.to, attempt, t.reason, t.worker, t.org, t.second_worker, t.second_org);
    if (reply.outcome == told::unavailable) {
        co_return std::nullopt;
    }
    const double now = now_s(c);
    std::optional<double> first_offer_after;
    std::function<std::string(pqxx::work&)> write = [&](pqxx::work& tx) {
        first_offer_after.reset();
        return record(tx, c, o, reply, now, first_offer_after);
    };
    auto final_state = co_await c.pool.transact(std::move(write));
    if (final_state.empty()) {
        // Someone else recorded it meanwhile (repair and a retried request): read what it is now.
        std::function<std::optional<store::offer>(pqxx::work&)> read = [&](pqxx::work& tx) {
            return store::find_offer(tx, o.id);
        };
        auto now_offer = co_await c.pool.transact(std::move(read));
        co_return now_offer ? std::optional<std::string>(now_offer->state) : std::nullopt;
    }
    count(c, final_state, first_offer_after);
    co_return final_state;
}

boost::asio::awaitable<std::vector<std::optional<std::string>>> apply_all(
    context& c, const std::vector<store::offer>& offers) {
    std::vector<std::optional<std::string>> out(offers.size());
    std::vector<store::offer> todo;
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < offers.size(); ++i) {
        if (transition_of(offers[i]).to.empty()) {
            out[i] = offers[i].state;
        } else {
            todo.push_back(offers[i]);
            at.push_back(i);
        }
    }
    if (todo.empty()) {
        co_return out;
    }
    const auto replies = co_await tell_orders_all(c, todo);
    const double now = now_s(c);
    std::vector<std::string> finals(todo.size());
    std::vector<std::optional<double>> firsts(todo.size());
    std::function<void(pqxx::work&)> write = [&](pqxx::work& tx) {
        for (std::size_t k = 0; k < todo.size(); ++k) {
            firsts[k].reset();
            finals[k] = replies[k].outcome == told::unavailable
                            ? std::string()
                            : record(tx, c, todo[k], replies[k], now, firsts[k]);
        }
    };
    co_await c.pool.transact(std::move(write));
    for (std::size_t k = 0; k < todo.size(); ++k) {
        if (!finals[k].empty()) {
            count(c, finals[k], firsts[k]);
            out[at[k]] = finals[k];
        }
    }
    co_return out;
}

}  // namespace carematch::matching
