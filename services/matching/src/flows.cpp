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

std::string transition_body(const std::string& to,
                            int attempt,
                            const std::string& reason,
                            const std::optional<std::string>& worker,
                            const std::optional<std::string>& org) {
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
    return json::serialize(body);
}

}  // namespace

boost::asio::awaitable<orders_reply> tell_orders(context& c,
                                                 const std::string& order_id,
                                                 const std::string& to,
                                                 int attempt,
                                                 const std::string& reason,
                                                 const std::optional<std::string>& worker,
                                                 const std::optional<std::string>& org) {
    http::outgoing o;
    o.method = "POST";
    o.target = "/v1/internal/orders/" + order_id + "/transition";
    o.headers.emplace_back("Authorization", "Bearer " + c.issuer->issue_service("matching"));
    o.headers.emplace_back("Content-Type", "application/json");
    o.body = transition_body(to, attempt, reason, worker, org);
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

boost::asio::awaitable<std::optional<std::string>> apply(context& c, const store::offer& o) {
    const int attempt = o.attempt.value_or(0);
    orders_reply reply;
    if (o.state == "pending") {
        reply =
            co_await tell_orders(c, o.order_id, "offered", attempt, "offer " + o.id, o.worker_id, o.org_id);
    } else if (o.state == "accepting") {
        reply = co_await tell_orders(c, o.order_id, "assigned", attempt, "accepted offer " + o.id);
    } else if (o.state == "declining") {
        reply = co_await tell_orders(c, o.order_id, "matching", attempt, "declined: " + o.reason);
    } else if (o.state == "expiring") {
        reply = co_await tell_orders(c, o.order_id, "matching", attempt, "offer expired");
    } else {
        co_return o.state;  // already final
    }
    if (reply.outcome == told::unavailable) {
        co_return std::nullopt;
    }
    const bool applied = reply.outcome == told::applied;
    const double now = now_s(c);
    std::optional<double> first_offer_after;  // order → its first offer, seconds
    std::function<std::string(pqxx::work&)> record = [&](pqxx::work& tx) -> std::string {
        const std::vector<std::string> from{o.state};
        if (o.state == "declining" || o.state == "expiring") {
            store::exclude(tx, o.order_id, o.worker_id, o.state == "declining" ? "declined" : "expired");
        }
        if (!applied) {
            // Orders moved on without us (a cancellation, a deadline, another process): the reconciler reads
            // the truth again.
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
            publish(tx, c, o.street, "order.assigned", offer_event(o));
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
    };
    auto final_state = co_await c.pool.transact(std::move(record));
    if (final_state.empty()) {
        // Someone else recorded it meanwhile (repair and a retried request): read what it is now.
        std::function<std::optional<store::offer>(pqxx::work&)> read = [&](pqxx::work& tx) {
            return store::find_offer(tx, o.id);
        };
        auto now_offer = co_await c.pool.transact(std::move(read));
        co_return now_offer ? std::optional<std::string>(now_offer->state) : std::nullopt;
    }
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
    co_return final_state;
}

}  // namespace carematch::matching
