// ratings' endpoints: rate once, edit for a day, read by role, reply, appeal and its decision, public scores,
// rankings and CSV; the rules of a review's body.
#include "context.hpp"
#include "review_body.hpp"
#include "store.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/checks.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/idempotency.hpp>
#include <carematch/runtime/served.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

namespace carematch::ratings {

namespace json = boost::json;
using boost::asio::awaitable;
using http::request;
using http::response;

namespace {

using core::invalid;
using http::problem;

constexpr std::array<const char*, 5> level_names = {"非常不满意", "不满意", "基本满意", "满意", "非常满意"};

double now_s(const context& c) {
    return std::chrono::duration<double>(c.clock.now().time_since_epoch()).count();
}

enum class view { family, provider, staff };

json::object review_json(const store::review& r, view v) {
    json::object j;
    j["id"] = r.id;
    j["order_id"] = r.order_id;
    j["kind"] = r.kind;
    j["community_id"] = r.community_id;
    j["org_id"] = r.org_id ? json::value(*r.org_id) : json::value(nullptr);
    j["worker_id"] = r.worker_id ? json::value(*r.worker_id) : json::value(nullptr);
    if (r.second_worker_id) {
        j["second_worker_id"] = *r.second_worker_id;  // a crew: both were rated
    }
    j["level"] = r.level;
    j["level_name"] = level_names[static_cast<std::size_t>(r.level - 1)];
    boost::system::error_code ec;
    auto dims = json::parse(r.dimensions, ec);
    j["dimensions"] = ec ? json::value(json::object{}) : dims;
    json::array tags;
    for (const auto& t : r.tags) {
        tags.emplace_back(t);
    }
    j["tags"] = std::move(tags);
    j["comment"] = r.comment;
    j["anonymous"] = r.anonymous;
    // The provider never learns who wrote an anonymous review.
    j["family_id"] = v == view::provider && r.anonymous ? json::value(nullptr) : json::value(r.family_id);
    j["created_at"] = r.created_at;
    j["updated_at"] = r.updated_at;
    j["editable_until"] = r.editable_until;
    j["editable"] = r.editable;
    j["reply"] = r.reply ? json::value(json::object{{"text", *r.reply}, {"at", r.replied_at.value_or("")}})
                         : json::value(nullptr);
    json::object appeal{{"state", r.appeal_state}};
    appeal["reason"] = r.appeal_reason ? json::value(*r.appeal_reason) : json::value(nullptr);
    appeal["decision_note"] = r.decision_note ? json::value(*r.decision_note) : json::value(nullptr);
    j["appeal"] = std::move(appeal);
    j["counted"] = r.appeal_state != "overturned";
    j["followup_state"] = r.followup_state;
    return j;
}

// Who may read a review: its family, its organisation, staff of its community, admins.
std::optional<view> reader(const auth::caller& who, const store::review& r) {
    if (who.is(auth::role::family) && r.family_id == who.id) {
        return view::family;
    }
    if (who.is(auth::role::provider) && r.org_id && *r.org_id == who.org) {
        return view::provider;
    }
    if ((who.is(auth::role::staff) && who.covers(r.community_id)) || who.is(auth::role::admin)) {
        return view::staff;
    }
    return std::nullopt;
}

void publish(pqxx::work& tx, const context& c, const char* type, const json::object& payload) {
    db::enqueue_event(tx, c.cfg.schema, c.cfg.events_stream, type, json::serialize(payload));
}

// After a review changed: rating.bad once it is bad, and the worker's and organisation's scores.
void after_change(pqxx::work& tx, const context& c, const store::review& r, double now) {
    if (r.level <= 2 && !r.bad_reported) {
        store::mark_bad_reported(tx, r.id);
        json::object bad{{"review_id", r.id},
                         {"order_id", r.order_id},
                         {"family_id", r.family_id},
                         {"community_id", r.community_id},
                         {"kind", r.kind},
                         {"level", r.level},
                         {"comment", r.comment},
                         {"rectify_working_days", c.cfg.rectify_working_days}};
        bad["org_id"] = r.org_id ? json::value(*r.org_id) : json::value(nullptr);
        bad["worker_id"] = r.worker_id ? json::value(*r.worker_id) : json::value(nullptr);
        if (r.second_worker_id) {
            bad["second_worker_id"] = *r.second_worker_id;
        }
        publish(tx, c, "rating.bad", bad);
    }
    for (const auto& [type, id] : {std::pair{std::string("worker"), r.worker_id},
                                   std::pair{std::string("worker"), r.second_worker_id},
                                   std::pair{std::string("org"), r.org_id}}) {
        if (!id) {
            continue;
        }
        auto [s, changed] =
            store::refresh_score(tx, type, *id, c.cfg.prior_mean, c.cfg.prior_weight, c.cfg.window_days, now);
        if (changed) {
            publish(tx,
                    c,
                    "rating.score_changed",
                    json::object{
                        {"subject_type", type}, {"subject_id", *id}, {"score", s.value}, {"count", s.count}});
        }
    }
}

std::string dims_text(const json::object& dims) {
    return json::serialize(dims);
}

// What a checked body says of a review, at `now` (a new review adds its ids and edit window).
store::new_review review_of(const body& b, double now) {
    store::new_review n;
    n.level = b.level;
    n.dimensions = dims_text(b.dimensions);
    n.tags = b.tags;
    n.comment = b.comment;
    n.anonymous = b.anonymous;
    n.now = now;
    return n;
}

// A local calendar date (YYYY-MM-DD) as the UTC instant its day starts, ISO 8601.
std::optional<std::string> day_start(const context& c, const std::string& text) {
    auto d = core::parse_date(text);
    if (!d) {
        return std::nullopt;
    }
    const auto at = c.service_settings.local.at(std::chrono::sys_days(*d), std::chrono::minutes(0));
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
}

}  // namespace

namespace handlers {

awaitable<response> rate(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const auth::caller caller = *who;
    // The key is claimed in the transaction that rates: a crash before its commit leaves no claim behind.
    const auto at = c.clock.now();
    const double now = now_s(c);
    auto parsed = http::parse_json_object(req);
    std::function<response(pqxx::work&)> write = [&](pqxx::work& tx) -> response {
        runtime::idempotency_claim claim;
        if (auto earlier = runtime::claim_idempotent_in(tx, req, caller.id, at, claim)) {
            return std::move(*earlier);
        }
        response r;
        if (!parsed) {
            r = problem(req, parsed.error());
        } else {
            const auto* order_v = parsed->if_contains("order_id");
            std::optional<runtime::served::service> s;
            if (order_v && order_v->is_string() && core::is_uuid(order_v->as_string())) {
                s = runtime::served::find(tx, std::string(order_v->as_string()));
            }
            // Whose service first: the dimensions asked for depend on the kind of a service of the caller's.
            std::optional<core::problem> failure;
            if (!s || s->family_id != caller.id) {
                failure = invalid("order_id", "not a completed service of yours");
            } else {
                failure = check_body(*parsed, s->kind, true);
            }
            if (failure) {
                r = problem(req, *failure);
            } else if (store::age_s(tx, s->order_id, now) >
                       std::chrono::duration<double>(c.cfg.rate_within).count()) {
                r = problem(req,
                            invalid("order_id",
                                    "too late: a service is rated within " +
                                        std::to_string(c.cfg.rate_within.count() / 24) + " days"));
            } else {
                store::new_review n = review_of(*read_body(*parsed, s->kind, true), now);
                n.id = core::new_uuid();
                n.order_id = s->order_id;
                n.editable_s = std::chrono::duration<double>(c.cfg.editable_for).count();
                auto stored = store::insert_review(tx, n);
                if (!stored) {
                    r = problem(req, core::errc::conflict, "this service was rated already", "order_id");
                } else {
                    json::object created{{"review_id", stored->id},
                                         {"order_id", stored->order_id},
                                         {"community_id", stored->community_id},
                                         {"kind", stored->kind},
                                         {"level", stored->level}};
                    created["org_id"] = stored->org_id ? json::value(*stored->org_id) : json::value(nullptr);
                    created["worker_id"] =
                        stored->worker_id ? json::value(*stored->worker_id) : json::value(nullptr);
                    publish(tx, c, "rating.created", created);
                    after_change(tx, c, *stored, now);
                    auto fresh = store::find_review(tx, stored->id, now);
                    r = http::json_text_response(201, json::serialize(review_json(*fresh, view::family)));
                }
            }
        }
        runtime::finish_idempotent(tx, claim, r);
        return r;
    };
    co_return co_await c.pool.transact(std::move(write));
}

awaitable<response> edit(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::family});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto parsed = http::parse_json_object(req);
    if (!parsed) {
        co_return problem(req, parsed.error());
    }
    const double now = now_s(c);
    std::function<response(pqxx::work&)> write = [&](pqxx::work& tx) -> response {
        auto r = store::find_review(tx, id, now);
        if (!r || r->family_id != who->id) {
            return problem(req, core::errc::not_found);
        }
        if (auto failure = check_body(*parsed, r->kind, false)) {
            return problem(req, *failure);
        }
        const store::new_review n = review_of(*read_body(*parsed, r->kind, false), now);
        auto changed = store::edit_review(tx, id, n);
        if (!changed) {
            return problem(
                req, core::errc::conflict, "a review may be changed only within its first day", "id");
        }
        after_change(tx, c, *changed, now);
        auto fresh = store::find_review(tx, id, now);
        return http::json_text_response(200, json::serialize(review_json(*fresh, view::family)));
    };
    co_return co_await c.pool.transact(std::move(write));
}

awaitable<response> get_review(context& c, request& req) {
    auto who = auth::authorize(
        req, c.verifier, {auth::role::family, auth::role::provider, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    const double now = now_s(c);
    std::function<std::optional<store::review>(pqxx::work&)> read = [&](pqxx::work& tx) {
        return store::find_review(tx, id, now);
    };
    auto r = co_await c.pool.transact(std::move(read));
    const auto v = r ? reader(*who, *r) : std::nullopt;
    if (!v) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(review_json(*r, *v)));
}

awaitable<response> list(context& c, request& req) {
    auto who = auth::authorize(
        req, c.verifier, {auth::role::family, auth::role::provider, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    store::filter f;
    const auto limit = http::page_limit(req, 20);
    if (!limit) {
        co_return problem(req, invalid("limit", "must be 1 to 100"));
    }
    f.limit = *limit;
    if (auto l = req.query_param("level")) {
        const auto n = http::int_param(req, "level");
        if (!n) {
            co_return problem(req, core::bad_query("level", "a whole number"));
        }
        if (*n < 1 || *n > 5) {
            co_return problem(req, invalid("level", "1 to 5"));
        }
        f.level = static_cast<int>(*n);
    }
    if (auto k = req.query_param("kind")) {
        static const std::set<std::string> kinds{"meal", "bath", "medical_visit", "cleaning", "nursery"};
        if (!kinds.contains(*k)) {
            co_return problem(req, invalid("kind", "meal, bath, medical_visit, cleaning or nursery"));
        }
        f.kind = *k;
    }
    for (const char* name : {"from", "to"}) {
        if (auto d = req.query_param(name)) {
            auto at = day_start(c, *d);
            if (!at) {
                co_return problem(req, invalid(name, "a date, YYYY-MM-DD"));
            }
            (std::string(name) == "from" ? f.from : f.to) = *at;
        }
    }
    if (auto cur = req.query_param("cursor")) {
        const auto sep = cur->find('_');
        if (sep == std::string::npos || sep > 40 || !core::is_uuid(cur->substr(sep + 1)) ||
            !core::parse_timestamp(cur->substr(0, sep))) {
            co_return problem(req, invalid("cursor", "not a cursor this service gave out"));
        }
        f.after = std::pair{cur->substr(0, sep), cur->substr(sep + 1)};
    }
    auto org = req.query_param("org_id");
    if (org && !core::is_uuid(*org)) {
        co_return problem(req, invalid("org_id", "an organisation id"));
    }
    const auto community_text = req.query_param("community_id");
    const auto community = http::int_param(req, "community_id");
    if (community_text && !community) {
        co_return problem(req, core::bad_query("community_id", "a community id (digits only)"));
    }
    if (community_text && (*community < 100000000 || *community > 999999999)) {
        co_return problem(req, invalid("community_id", "a community id (9 digits)"));
    }
    if (who->is(auth::role::family)) {
        f.family_id = who->id;
    } else if (who->is(auth::role::provider)) {
        if (!core::is_uuid(who->org)) {
            co_return problem(req, core::errc::forbidden, "this account belongs to no organisation");
        }
        f.org_id = who->org;
    } else {
        if (org) {
            f.org_id = *org;
        }
        if (community) {
            if (who->is(auth::role::staff) && !who->covers(*community)) {
                co_return problem(req, core::errc::forbidden, "that community is not yours", "community_id");
            }
            f.communities = std::vector<std::int64_t>{*community};
        } else if (who->is(auth::role::staff)) {
            f.communities = who->communities;
        }
    }
    const double now = now_s(c);
    std::function<std::vector<store::review>(pqxx::work&)> read = [&](pqxx::work& tx) {
        return store::list_reviews(tx, f, now);
    };
    auto rows = co_await c.pool.transact(std::move(read));
    json::array items;
    for (const auto& r : rows) {
        items.push_back(review_json(r, reader(*who, r).value_or(view::provider)));
    }
    json::object page{{"items", std::move(items)}};
    page["next_cursor"] = static_cast<int>(rows.size()) == f.limit
                              ? json::value(rows.back().created_at + "_" + rows.back().id)
                              : json::value(nullptr);
    co_return http::json_text_response(200, json::serialize(page));
}

namespace {

struct text_body {
    std::string text;
};

// The provider's reply (once, public) or appeal (once, with a reason).
awaitable<response> provider_act(context& c, request& req, bool appeal) {
    auto who = auth::authorize(req, c.verifier, {auth::role::provider});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto parsed = http::parse_json_object(req);
    if (!parsed) {
        co_return problem(req, parsed.error());
    }
    const char* field = appeal ? "reason" : "text";
    const auto* v = parsed->if_contains(field);
    if (parsed->size() != 1 || !v || !v->is_string() || v->as_string().empty() ||
        !good_text(std::string(v->as_string()), 500)) {
        co_return problem(req, invalid(field, "text of 1 to 500 characters, no control characters"));
    }
    const std::string text(v->as_string());
    const double now = now_s(c);
    std::function<response(pqxx::work&)> write = [&](pqxx::work& tx) -> response {
        auto r = store::find_review(tx, id, now);
        if (!r || !r->org_id || *r->org_id != who->org) {
            return problem(req, core::errc::not_found);
        }
        const bool done = appeal ? store::set_appeal(tx, id, text, now) : store::set_reply(tx, id, text, now);
        if (!done) {
            return problem(req,
                           core::errc::conflict,
                           appeal ? "this review was appealed already" : "this review has its reply already",
                           "id");
        }
        if (appeal) {
            publish(
                tx,
                c,
                "rating.appealed",
                json::object{{"review_id", id}, {"community_id", r->community_id}, {"org_id", *r->org_id}});
        }
        auto fresh = store::find_review(tx, id, now);
        return http::json_text_response(200, json::serialize(review_json(*fresh, view::provider)));
    };
    co_return co_await c.pool.transact(std::move(write));
}

}  // namespace

awaitable<response> reply(context& c, request& req) {
    co_return co_await provider_act(c, req, false);
}

awaitable<response> appeal(context& c, request& req) {
    co_return co_await provider_act(c, req, true);
}

awaitable<response> decide(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    auto parsed = http::parse_json_object(req);
    if (!parsed) {
        co_return problem(req, parsed.error());
    }
    const auto* d = parsed->if_contains("decision");
    if (!d || !d->is_string() || (d->as_string() != "upheld" && d->as_string() != "overturned")) {
        co_return problem(
            req, invalid("decision", "upheld (the review stands) or overturned (it leaves the score)"));
    }
    const auto* note_v = parsed->if_contains("note");
    if (!note_v || !note_v->is_string() || note_v->as_string().empty() ||
        !good_text(std::string(note_v->as_string()), 500)) {
        co_return problem(req, invalid("note", "the reason for the decision, 1 to 500 characters"));
    }
    for (const auto& [k, _] : *parsed) {
        if (k != "decision" && k != "note") {
            co_return problem(req,
                              invalid(std::string(k).substr(0, 40).c_str(), "not a member of a decision"));
        }
    }
    const bool overturn = d->as_string() == "overturned";
    const std::string note(note_v->as_string());
    const double now = now_s(c);
    std::function<response(pqxx::work&)> write = [&](pqxx::work& tx) -> response {
        auto r = store::find_review(tx, id, now);
        if (!r || !reader(*who, *r) || *reader(*who, *r) != view::staff) {
            return problem(req, core::errc::not_found);
        }
        if (!store::decide_appeal(
                tx, id, overturn, note, core::is_uuid(who->id) ? who->id : core::new_uuid(), now)) {
            return problem(
                req, core::errc::conflict, "no appeal of this review is waiting for a decision", "id");
        }
        auto fresh = store::find_review(tx, id, now);
        after_change(tx, c, *fresh, now);
        return http::json_text_response(200, json::serialize(review_json(*fresh, view::staff)));
    };
    co_return co_await c.pool.transact(std::move(write));
}

awaitable<response> organisation_score(context& c, request& req) {
    auto who = auth::authorize(
        req,
        c.verifier,
        {auth::role::family, auth::role::provider, auth::role::worker, auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        co_return problem(req, core::errc::not_found);
    }
    std::function<std::optional<store::score>(pqxx::work&)> read = [&](pqxx::work& tx) {
        return store::find_score(tx, "org", id);
    };
    auto s = co_await c.pool.transact(std::move(read));
    json::object j{{"org_id", id}};
    j["score"] = s && s->count > 0 ? json::value(std::round(s->value * 100) / 100) : json::value(nullptr);
    j["count"] = s ? s->count : 0;
    json::object per_level;
    for (std::size_t i = 0; i < 5; ++i) {
        per_level[std::to_string(i + 1)] = s ? s->counts[i] : 0;
    }
    j["counts"] = std::move(per_level);
    j["window_days"] = c.cfg.window_days;
    co_return http::json_text_response(200, json::serialize(j));
}

awaitable<response> ranking(context& c, request& req) {
    auto who = auth::authorize(req, c.verifier, {auth::role::staff, auth::role::admin});
    if (!who) {
        co_return auth::deny(who.error(), req.request_id);
    }
    const auto community = http::int_param(req, "community_id");
    if (!community || *community < 100000000 || *community > 999999999) {
        co_return problem(req, invalid("community_id", "a community id (9 digits)"));
    }
    if (who->is(auth::role::staff) && !who->covers(*community)) {
        co_return problem(req, core::errc::forbidden, "that community is not yours", "community_id");
    }
    const auto month = req.query_param("month").value_or("");
    const auto first = month.size() == 7 ? core::parse_date(month + "-01") : std::nullopt;
    if (!first) {
        co_return problem(req, invalid("month", "a month, YYYY-MM"));
    }
    // The month's local days, as instants: never a plain date in the database session's zone.
    const auto next =
        std::chrono::year_month_day(first->year() / first->month() / 1) + std::chrono::months(1);
    const auto instant = [&](std::chrono::year_month_day d) {
        const auto at = c.service_settings.local.at(std::chrono::sys_days(d), std::chrono::minutes(0));
        return std::chrono::duration<double>(at.time_since_epoch()).count();
    };
    const double from_s = instant(*first);
    const double to_s = instant(next);
    const auto format = req.query_param("format").value_or("json");
    if (format != "json" && format != "csv") {
        co_return problem(req, invalid("format", "json or csv"));
    }
    std::function<std::vector<store::ranking_row>(pqxx::work&)> read = [&](pqxx::work& tx) {
        return store::ranking(tx, *community, from_s, to_s, c.cfg.prior_mean, c.cfg.prior_weight);
    };
    auto rows = co_await c.pool.transact(std::move(read));
    if (format == "csv") {
        std::string csv = "rank,org_id,score,reviews,mean_level,bad_share,followed_up\r\n";
        int rank = 0;
        for (const auto& r : rows) {
            char line[256];
            std::snprintf(line,
                          sizeof line,
                          "%d,%s,%.2f,%d,%.2f,%.3f,%.3f\r\n",
                          ++rank,
                          r.org_id.c_str(),
                          r.score,
                          r.count,
                          r.mean,
                          r.bad_share,
                          r.followed_up);
            csv += line;
        }
        response res;
        res.status = 200;
        res.body = std::move(csv);
        res.set_header("Content-Type", "text/csv; charset=utf-8");
        res.set_header(
            "Content-Disposition",
            "attachment; filename=\"ratings-" + std::to_string(*community) + "-" + month + ".csv\"");
        co_return res;
    }
    json::array items;
    int rank = 0;
    for (const auto& r : rows) {
        items.push_back(json::object{{"rank", ++rank},
                                     {"org_id", r.org_id},
                                     {"score", std::round(r.score * 100) / 100},
                                     {"reviews", r.count},
                                     {"mean_level", std::round(r.mean * 100) / 100},
                                     {"bad_share", r.bad_share},
                                     {"followed_up", r.followed_up}});
    }
    co_return http::json_text_response(
        200,
        json::serialize(
            json::object{{"community_id", *community}, {"month", month}, {"items", std::move(items)}}));
}

}  // namespace handlers

void app::add_routes(http::router& r) {
    context& c = ctx();
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("POST", "/v1/ratings", bind(&h::rate));
    r.add("GET", "/v1/ratings", bind(&h::list));
    r.add("GET", "/v1/ratings/ranking", bind(&h::ranking));
    r.add("GET", "/v1/ratings/organisations/{id}", bind(&h::organisation_score));
    r.add("GET", "/v1/ratings/{id}", bind(&h::get_review));
    r.add("PUT", "/v1/ratings/{id}", bind(&h::edit));
    r.add("POST", "/v1/ratings/{id}/reply", bind(&h::reply));
    r.add("POST", "/v1/ratings/{id}/appeal", bind(&h::appeal));
    r.add("POST", "/v1/ratings/{id}/appeal/decision", bind(&h::decide));
}

}  // namespace carematch::ratings
