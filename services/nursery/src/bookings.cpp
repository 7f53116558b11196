// nursery's handlers for bookings: book (all days or the waitlist), read, cancel with notice and promote the
// waitlist, and the nursery's attendance marks.
#include "dto.hpp"
#include "handlers.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/idempotency.hpp>

#include <algorithm>

namespace carematch::nursery {

namespace handlers {

namespace json = boost::json;

void publish(
    context& c, pqxx::work& tx, std::int64_t community, const char* type, const repo::booking_row& b) {
    json::object payload{{"booking_id", b.id},
                         {"family_id", b.family_id},
                         {"child_id", b.child_id},
                         {"nursery_id", b.nursery_id},
                         {"class_id", b.class_id},
                         {"community_id", community},
                         {"days", json::value_from(b.days)}};
    db::enqueue_event(tx, c.cfg.schema, c.stream(community), type, json::serialize(payload));
}

namespace {

json::object booking_json(const repo::booking_row& b) {
    json::object o{{"id", b.id},
                   {"child_id", b.child_id},
                   {"nursery_id", b.nursery_id},
                   {"class_id", b.class_id},
                   {"mode", b.mode},
                   {"days", json::value_from(b.days)},
                   {"status", b.status},
                   {"priority", b.priority},
                   {"affordable", b.affordable},
                   {"price_fen", b.price_fen},
                   {"created_at", b.created_at},
                   {"updated_at", b.updated_at}};
    o["hours"] = b.hours ? json::value(*b.hours) : json::value(nullptr);
    return o;
}

// The booking's cancellation terms: free until the notice before the first day opens, then one day's price,
// and no cancellation once the first day has begun.
json::object cancellation_terms(const context& c, const repo::nursery_row& n, const repo::booking_row& b) {
    json::object t;
    const auto first = b.days.empty() ? std::nullopt : parse_day(b.days.front());
    if (!first) {
        return t;
    }
    const auto opening =
        c.service_settings.local.at(*first, std::chrono::minutes(minutes_of_day(n.opens).value_or(0)));
    auto iso = [](core::clock::time_point at) {
        const std::time_t secs = std::chrono::system_clock::to_time_t(at);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return std::string(buf);
    };
    t["free_until"] = iso(opening - std::chrono::hours(c.cfg.cancel_notice_hours));
    t["possible_until"] = iso(opening);
    t["fee_after_free_fen"] = day_price(n.price, b.mode, b.hours.value_or(0));
    return t;
}

const repo::class_row* class_of(const repo::nursery_row& n, const std::string& class_id) {
    auto it =
        std::find_if(n.classes.begin(), n.classes.end(), [&](const auto& k) { return k.id == class_id; });
    return it == n.classes.end() ? nullptr : &*it;
}

// Promotes, in order of priority then time, every waitlisted booking of the class that now fits on all its
// days; returns the ids promoted.
std::vector<std::string> promote(context& c,
                                 pqxx::work& tx,
                                 const repo::nursery_row& n,
                                 const repo::class_row& k,
                                 const std::vector<std::string>& freed,
                                 const std::string& today_text) {
    std::vector<std::string> promoted;
    for (const auto& w : repo::waitlist(tx, k.id, freed, today_text)) {
        bool taken = false;
        try {
            db::savepoint sub(tx, "promote");
            taken = repo::take_places(sub, n, k, w) == repo::take_result::taken;
            if (taken) {
                sub.commit();
            } else {
                sub.abort();
            }
        } catch (const pqxx::unique_violation&) {
            taken = false;  // the child holds a place on one of those days elsewhere: stays waiting
        }
        if (taken) {
            repo::set_status(tx, w.id, "confirmed");
            repo::add_history(tx, w.id, "promoted", "nursery", "service", "");
            publish(c, tx, n.community_id, "nursery.promoted", w);
            promoted.push_back(w.id);
        }
    }
    return promoted;
}

enum class outcome { confirmed, waitlisted, full, child_busy };

awaitable<response> book_checked(context& c, request& req, const auth::caller& who);

}  // namespace

// A booking takes a place on every requested day inside one transaction, or joins the waitlist (or 409 when
// the family asked for no waitlist). Idempotency-Key required.
awaitable<response> book(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    co_return co_await book_checked(c, req, *authorized);
}

namespace {

// The booking itself. Everything up to the transaction only reads; the transaction claims the
// Idempotency-Key (a crash before its commit leaves no claim behind), and answers a key used before with its
// first answer, else stores this answer, a refusal too.
awaitable<response> book_checked(context& c, request& req, const auth::caller& who) {
    if (auto missing = runtime::missing_idempotency_key(req)) {
        co_return std::move(*missing);
    }
    std::optional<response> answer;
    repo::booking_row b;
    std::optional<repo::nursery_row> n;
    const repo::class_row* k = nullptr;
    bool join_waitlist = true;
    auto body = http::parse_json_body<booking_body>(req);
    const day first_allowed = today(c);
    if (!body) {
        answer = problem(req, body.error());
    } else if (body->mode != "full_day" && body->mode != "half_day" && body->mode != "hourly") {
        answer = problem(req, invalid("mode", "full_day, half_day or hourly"));
    } else if ((body->mode == "hourly") != body->hours.has_value() ||
               (body->hours && (*body->hours < 1 || *body->hours > 10))) {
        answer = problem(req, invalid("hours", "1 to 10 hours, for hourly bookings only"));
    } else if (!core::is_uuid(body->class_id)) {
        answer = problem(req, core::errc::not_found, "no such class");
    }
    std::vector<day> days;
    if (!answer) {
        auto r = expand_days(body->dates.value_or(std::vector<std::string>{}), body->from, body->to);
        if (!r.error.empty()) {
            answer = problem(req, bad_date("dates", r.error));
        } else if (r.days.front() < first_allowed) {
            answer = problem(req, bad_date("dates", "dates in the past cannot be booked"));
        } else {
            days = std::move(r.days);
        }
    }
    json::object child;
    if (!answer) {
        auto fetched = co_await fetch_child(c, body->child_id, "nursery:booking");
        if (!fetched && fetched.error() != core::errc::not_found) {
            throw core::unavailable_error("identity unavailable");
        }
        if (!fetched || !family_of(*fetched, who.id)) {
            answer = problem(req, core::errc::not_found, "no such child of yours");
        } else {
            child = std::move(*fetched);
        }
    }
    if (!answer) {
        n = co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_by_class(tx, body->class_id); });
        k = n ? class_of(*n, body->class_id) : nullptr;
        if (!k) {
            answer = problem(req, core::errc::not_found, "no such class");
        }
    }
    if (!answer) {
        const auto* birth = child.if_contains("birth_date");
        auto born = birth != nullptr && birth->is_string() ? parse_day(birth->as_string()) : std::nullopt;
        const auto bd = find_band(k->band);
        if (!born) {
            answer = problem(req,
                             invalid("child_id",
                                     "the child's birth date is not on record (it is kept with the "
                                     "sensitive_storage consent)"));
        } else {
            for (auto d : days) {
                const int months = age_in_months(*born, d);
                if (months < bd->min_months || months >= bd->max_months) {
                    answer = problem(req,
                                     invalid("child_id",
                                             "the child is " + std::to_string(months) + " months old on " +
                                                 format_day(d) + ", outside the class's band " + k->band));
                    break;
                }
            }
        }
    }
    if (!answer && body->hours) {
        const int open_minutes = minutes_of_day(n->closes).value_or(0) - minutes_of_day(n->opens).value_or(0);
        if (*body->hours * 60 > open_minutes) {
            answer = problem(
                req,
                invalid("hours", "longer than the nursery is open (" + n->opens + "–" + n->closes + ")"));
        }
    }
    if (!answer) {
        std::vector<std::string> categories;
        if (const auto* pc = child.if_contains("priority_categories"); pc != nullptr && pc->is_array()) {
            for (const auto& x : pc->as_array()) {
                categories.emplace_back(x.as_string());
            }
        }
        b.id = core::new_uuid();
        b.family_id = who.id;
        b.child_id = body->child_id;
        b.nursery_id = n->id;
        b.class_id = k->id;
        b.mode = body->mode;
        b.hours = body->hours;
        for (auto d : days) {
            b.days.push_back(format_day(d));
        }
        b.affordable = eligible_for_affordable(categories);
        b.priority = b.affordable ? 1 : 0;
        b.price_fen = booking_price(n->price, b.mode, b.hours.value_or(0), days.size());
        join_waitlist = body->waitlist.value_or(true);
    }
    const auto at = c.clock.now();
    auto r = co_await c.pool.transact([&](pqxx::work& tx) {
        runtime::idempotency_claim claim;
        if (auto earlier = runtime::claim_idempotent_in(tx, req, who.id, at, claim, c.sealer.get())) {
            return std::move(*earlier);
        }
        if (answer) {
            runtime::finish_idempotent(tx, claim, *answer);
            return *answer;
        }
        repo::booking_row row = b;
        outcome out = outcome::full;
        try {
            db::savepoint sub(tx, "book");
            row.status = "confirmed";
            repo::insert_booking(sub, row);
            if (repo::take_places(sub, *n, *k, row) == repo::take_result::taken) {
                sub.commit();
                out = outcome::confirmed;
            } else {
                sub.abort();
            }
        } catch (const pqxx::unique_violation&) {
            out = outcome::child_busy;
        }
        if (out == outcome::full && join_waitlist) {
            row.status = "waitlisted";
            repo::insert_booking(tx, row);
            out = outcome::waitlisted;
        }
        response res;
        if (out == outcome::confirmed || out == outcome::waitlisted) {
            repo::add_history(tx, row.id, row.status, who.id, "family", "");
            publish(c,
                    tx,
                    n->community_id,
                    out == outcome::confirmed ? "nursery.booking_confirmed" : "nursery.waitlisted",
                    row);
            auto stored = repo::find_booking(tx, row.id);
            auto answer = booking_json(*stored);
            answer["cancellation"] = cancellation_terms(c, *n, *stored);
            res = http::json_text_response(out == outcome::confirmed ? 201 : 202, json::serialize(answer));
        } else if (out == outcome::child_busy) {
            res = problem(req, core::errc::conflict, "the child already has a place on one of these days");
        } else {
            res = problem(
                req, core::errc::conflict, "no place on every requested day, and no waitlist asked for");
        }
        runtime::finish_idempotent(tx, claim, res);
        return res;
    });
    co_return r;
}

}  // namespace

awaitable<response> list_bookings(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const auto asked = http::page_limit(req, 20);
    if (!asked) {
        co_return problem(req, invalid("limit", "must be 1 to 100"));
    }
    const int limit = *asked;
    std::string after_created;
    std::string after_id;
    if (auto cur = req.query_param("cursor")) {
        auto sep = cur->rfind('_');
        if (sep == std::string::npos || !core::is_uuid(cur->substr(sep + 1)) || sep < 20 || sep > 40) {
            co_return problem(req, invalid("cursor", "not a cursor this service gave out"));
        }
        after_created = cur->substr(0, sep);
        after_id = cur->substr(sep + 1);
    }
    std::vector<repo::booking_row> rows;
    try {
        rows = co_await c.pool.transact([&](pqxx::work& tx) {
            return repo::list_for_family(tx, who->id, after_created, after_id, limit + 1);
        });
    } catch (const pqxx::data_exception&) {
        co_return problem(req, invalid("cursor", "not a cursor this service gave out"));
    }
    json::object page;
    if (static_cast<int>(rows.size()) > limit) {
        rows.pop_back();
        page["next_cursor"] = rows.back().created_at + "_" + rows.back().id;
    }
    json::array items;
    for (const auto& b : rows) {
        items.push_back(booking_json(b));
    }
    page["items"] = std::move(items);
    co_return http::json_text_response(200, json::serialize(page));
}

awaitable<response> get_booking(context& c, request& req) {
    auto who = auth::authorize(
        req,
        c.verifier,
        {auth::role::family, auth::role::provider, auth::role::worker, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto found = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<json::object> {
        auto b = repo::find_booking(tx, id);
        if (!b) {
            return std::nullopt;
        }
        bool visible = (who->is(auth::role::family) && b->family_id == who->id) ||
                       speaks_for(*who, b->nursery_id) || who->is(auth::role::admin);
        if (!visible && who->is(auth::role::staff)) {
            auto n = repo::find_nursery(tx, b->nursery_id);
            visible = n && who->covers(n->community_id);
        }
        if (!visible) {
            return std::nullopt;
        }
        auto o = booking_json(*b);
        if (auto n = repo::find_nursery(tx, b->nursery_id); n && b->status != "cancelled") {
            o["cancellation"] = cancellation_terms(c, *n, *b);
        }
        if (b->status == "waitlisted") {
            o["waitlist_position"] = repo::waitlist_position(tx, *b);
        }
        json::array attendance;
        for (const auto& d : b->days) {
            if (auto a = repo::find_day(tx, id, d)) {
                json::object x{{"day", a->day}, {"no_show", a->no_show}};
                x["checked_in"] = a->checked_in ? json::value(*a->checked_in) : json::value(nullptr);
                x["checked_out"] = a->checked_out ? json::value(*a->checked_out) : json::value(nullptr);
                attendance.push_back(std::move(x));
            }
        }
        o["attendance"] = std::move(attendance);
        return o;
    });
    if (!found) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(*found));
}

// The family cancels: free until the notice before the first day opens, one day's price after that, 409 once
// it has begun. Freed places promote the waitlist in the same transaction.
awaitable<response> cancel_booking(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    const auto now = c.clock.now();
    const std::string today_text = format_day(today(c));
    struct result {
        int status = 200;
        std::string detail;
        json::object body;
    };
    auto r = co_await c.pool.transact([&](pqxx::work& tx) {
        result out;
        auto b = repo::find_booking(tx, id, true);
        if (!b || b->family_id != who->id) {
            out.status = 404;
            return out;
        }
        if (b->status == "cancelled") {
            out.status = 409;
            out.detail = "already cancelled";
            return out;
        }
        auto n = repo::find_nursery(tx, b->nursery_id);
        const auto* k = class_of(*n, b->class_id);
        std::int64_t fee = 0;
        std::vector<std::string> promoted;
        if (b->status == "confirmed") {
            const int opens = minutes_of_day(n->opens).value_or(0);
            auto f = cancellation_fee(c.service_settings.local,
                                      now,
                                      *parse_day(b->days.front()),
                                      opens,
                                      c.cfg.cancel_notice_hours,
                                      day_price(n->price, b->mode, b->hours.value_or(0)));
            if (!f) {
                out.status = 409;
                out.detail = "the booking has begun; it can no longer be cancelled";
                return out;
            }
            fee = *f;
            repo::release_places(tx, *b);
        }
        repo::set_status(tx, id, "cancelled");
        repo::add_history(tx, id, "cancelled", who->id, "family", "fee_fen=" + std::to_string(fee));
        publish(c, tx, n->community_id, "nursery.cancelled", *b);
        if (b->status == "confirmed" && k != nullptr) {
            promoted = promote(c, tx, *n, *k, b->days, today_text);
        }
        out.body = booking_json(*repo::find_booking(tx, id));
        out.body["fee_fen"] = fee;
        out.body["promoted"] = json::value_from(promoted);
        return out;
    });
    if (r.status == 404) {
        co_return problem(req, core::errc::not_found);
    }
    if (r.status == 409) {
        co_return problem(req, core::errc::conflict, r.detail);
    }
    co_return http::json_text_response(200, json::serialize(r.body));
}

// The nursery's list of the day: who is booked, checked in, out, or marked absent.
awaitable<response> attendance(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider, auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string d = req.query_param("day").value_or(format_day(today(c)));
    if (!parse_day(d)) {
        co_return problem(req, bad_date("day", "YYYY-MM-DD"));
    }
    auto rows = co_await c.pool.transact([&](pqxx::work& tx) { return repo::attendance(tx, who->org, d); });
    json::array items;
    for (const auto& a : rows) {
        json::object x{
            {"booking_id", a.booking_id}, {"child_id", a.child_id}, {"day", a.day}, {"no_show", a.no_show}};
        x["checked_in"] = a.checked_in ? json::value(*a.checked_in) : json::value(nullptr);
        x["checked_out"] = a.checked_out ? json::value(*a.checked_out) : json::value(nullptr);
        items.push_back(std::move(x));
    }
    co_return http::json_text_response(
        200, json::serialize(json::object{{"day", d}, {"items", std::move(items)}}));
}

namespace {

enum class mark { in, out, absent };

awaitable<response> mark_day(context& c, request& req, mark m) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider, auth::role::worker});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    std::string id(req.param("id"));
    std::string d(req.param("day"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto on = parse_day(d);
    if (!on) {
        co_return problem(req, bad_date("day", "YYYY-MM-DD"));
    }
    std::string pickup;
    if (m == mark::out) {
        auto body = http::parse_json_body<checkout_body>(req);
        if (!body) {
            co_return problem(req, body.error());
        }
        pickup = body->pickup_phone;
    }
    const day t = today(c);
    if ((m == mark::in && *on != t) || (m == mark::absent && *on > t)) {
        co_return problem(req, core::errc::conflict, "check-in is on the day; a no-show on or after it");
    }
    auto r = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<void> {
        auto b = repo::find_booking(tx, id);
        if (!b || !speaks_for(*who, b->nursery_id) || b->status != "confirmed" ||
            !repo::find_day(tx, id, d)) {
            return core::errc::not_found;
        }
        if (m == mark::out) {
            auto people = repo::pickups(tx, *c.sealer, b->child_id);
            if (std::none_of(
                    people.begin(), people.end(), [&](const auto& p) { return p.phone == pickup; })) {
                return core::errc::invalid_argument;
            }
        }
        const bool done = m == mark::in    ? repo::check_in(tx, id, d)
                          : m == mark::out ? repo::check_out(tx, id, d)
                                           : repo::no_show(tx, id, d);
        if (!done) {
            return core::errc::conflict;
        }
        if (m == mark::out) {
            // A day attended: the family may now rate (and complain about) the booking.
            if (auto n = repo::find_nursery(tx, b->nursery_id)) {
                publish(c, tx, n->community_id, "nursery.attended", *b);
            }
        }
        const char* action = m == mark::in ? "check_in" : m == mark::out ? "check_out" : "no_show";
        repo::add_history(tx,
                          id,
                          action,
                          who->id,
                          std::string(auth::to_string(who->role)),
                          d + (pickup.empty() ? "" : " " + pickup));
        return {};
    });
    if (!r) {
        if (r.error() == core::errc::invalid_argument) {
            co_return problem(req, invalid("pickup_phone", "not an authorised pickup person of the child"));
        }
        co_return problem(req,
                          r.error(),
                          r.error() == core::errc::conflict ? "the day is not in a state for this mark" : "");
    }
    auto a = co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_day(tx, id, d); });
    json::object x{{"booking_id", a->booking_id}, {"day", a->day}, {"no_show", a->no_show}};
    x["checked_in"] = a->checked_in ? json::value(*a->checked_in) : json::value(nullptr);
    x["checked_out"] = a->checked_out ? json::value(*a->checked_out) : json::value(nullptr);
    co_return http::json_text_response(200, json::serialize(x));
}

}  // namespace

awaitable<response> check_in(context& c, request& req) {
    co_return co_await mark_day(c, req, mark::in);
}
awaitable<response> check_out(context& c, request& req) {
    co_return co_await mark_day(c, req, mark::out);
}
awaitable<response> no_show(context& c, request& req) {
    co_return co_await mark_day(c, req, mark::absent);
}

}  // namespace handlers

boost::asio::awaitable<std::size_t> app::expire_waitlist() {
    auto& c = ctx();
    const std::string today = format_day(handlers::today(c));
    co_return co_await c.pool.transact([&](pqxx::work& tx) {
        auto expired = repo::expire_waitlist(tx, today);
        for (const auto& b : expired) {
            repo::add_history(tx, b.id, "expired", "nursery", "service", "");
            auto n = repo::find_nursery(tx, b.nursery_id);
            handlers::publish(c, tx, n->community_id, "nursery.waitlist_expired", b);
        }
        return expired.size();
    });
}

}  // namespace carematch::nursery
