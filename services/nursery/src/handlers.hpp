// nursery's handlers (nurseries, search, figures and pickup lists in nurseries.cpp; bookings and attendance
// in bookings.cpp) and the helpers they share.
#pragma once

#include "context.hpp"
#include "repository.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/checks.hpp>
#include <carematch/http/message.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <utility>

namespace carematch::nursery::handlers {

using boost::asio::awaitable;
using http::request;
using http::response;

using core::invalid;
using http::problem;
/// 400 for a date that is malformed or in the past (the rule for dates).
core::problem bad_date(const char* field, std::string detail);
/// Whether the caller speaks for the nursery: its organisation's account or one of its workers.
bool speaks_for(const auth::caller& who, const std::string& nursery_id);
day today(const context& c);
/// A child as identity shows it to this service for a booking: errc::not_found when absent or not a child.
awaitable<core::result<boost::json::object>> fetch_child(context& c,
                                                         const std::string& id,
                                                         const std::string& purpose);
/// Whether identity's view of a recipient names `family_id` as its family.
bool family_of(const boost::json::object& recipient, const std::string& family_id);

/// Writes a booking's event to the outbox of its street's stream, inside the caller's transaction.
void publish(
    context& c, pqxx::work& tx, std::int64_t community, const char* type, const repo::booking_row& b);

// ---- nurseries.cpp ----
awaitable<response> put_nursery(context& c, request& req);
awaitable<response> get_nursery(context& c, request& req);
awaitable<response> search(context& c, request& req);
awaitable<response> figures(context& c, request& req);
awaitable<response> put_pickups(context& c, request& req);
awaitable<response> get_pickups(context& c, request& req);

// ---- bookings.cpp ----
awaitable<response> book(context& c, request& req);
awaitable<response> list_bookings(context& c, request& req);
awaitable<response> get_booking(context& c, request& req);
awaitable<response> cancel_booking(context& c, request& req);
awaitable<response> attendance(context& c, request& req);
awaitable<response> check_in(context& c, request& req);
awaitable<response> check_out(context& c, request& req);
awaitable<response> no_show(context& c, request& req);

}  // namespace carematch::nursery::handlers
