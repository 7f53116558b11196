// providers' handlers and the helpers they share (workers and presence in handlers.cpp, organisations and
// canteens in organisations.cpp).
#pragma once

#include "context.hpp"
#include "dto.hpp"
#include "repository.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/checks.hpp>
#include <carematch/http/message.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <utility>

namespace carematch::providers {}  // namespace carematch::providers

namespace carematch::providers::handlers {

using boost::asio::awaitable;
using http::request;
using http::response;

// ---- shared helpers ----
using core::in_china;
using core::invalid;
using http::problem;
bool iso_date(const std::string& s);
/// True while a suspension that ends at `until` (ISO 8601 with a zone) lasts at `now`.
bool suspended_at(const std::optional<std::string>& until, core::clock::time_point now);
/// Today's local date (YYYY-MM-DD) at the context's clock.
std::string today(const context& c);
long long now_ms(const context& c);
/// Takes a worker out of every candidate set of its shard and out of the heartbeat set.
awaitable<void> withdraw(context& c, const std::string& worker_id, std::int64_t community_id);

/// What both suspend endpoints read first: a staff member or admin, the object's id, a reason (1–200
/// characters) and `until` (ISO 8601). `answer` is set when the request is refused already.
struct suspension {
    std::optional<response> answer;
    auth::caller who;
    std::string id;
    std::string reason;
    std::string until;
};
suspension read_suspension(context& c, request& req);

/// worker.suspended's payload, whoever ordered the suspension (staff, an admin, a complaint's resolution).
boost::json::object worker_suspended(const std::string& worker_id,
                                     const std::string& org_id,
                                     const std::string& until,
                                     const std::string& reason);

/// Writes an event to the outbox, inside the caller's transaction.
void publish(context& c, pqxx::work& tx, const char* type, const boost::json::object& payload);

// ---- workers, presence, availability ----
awaitable<response> put_worker(context& c, request& req);
awaitable<response> get_worker(context& c, request& req);
awaitable<response> suspend_worker(context& c, request& req);
awaitable<response> go_online(context& c, request& req);
awaitable<response> go_offline(context& c, request& req);
awaitable<response> put_availability(context& c, request& req);
awaitable<response> get_availability(context& c, request& req);
awaitable<response> candidates(context& c, request& req);
awaitable<response> street_workers(context& c, request& req);

// ---- organisations and canteens ----
awaitable<response> submit_organisation(context& c, request& req);
awaitable<response> my_organisation(context& c, request& req);
awaitable<response> get_organisation(context& c, request& req);
awaitable<response> list_organisations(context& c, request& req);
awaitable<response> approve_organisation(context& c, request& req);
awaitable<response> reject_organisation(context& c, request& req);
awaitable<response> suspend_organisation(context& c, request& req);
awaitable<response> put_canteen(context& c, request& req);
awaitable<response> get_canteen(context& c, request& req);
awaitable<response> canteens(context& c, request& req);

}  // namespace carematch::providers::handlers
