// JSON ↔ matching model.
#include "codec.hpp"

#include <stdexcept>

namespace carematch::match::codec {
namespace {

namespace json = boost::json;

const json::value& need(const json::object& o, const char* key, const char* where) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        throw std::invalid_argument(std::string(where) + "." + key + " is missing");
    }
    return *v;
}

double num(const json::value& v, const char* what) {
    if (v.is_double()) {
        return v.as_double();
    }
    if (v.is_int64()) {
        return static_cast<double>(v.as_int64());
    }
    if (v.is_uint64()) {
        return static_cast<double>(v.as_uint64());
    }
    throw std::invalid_argument(std::string(what) + " must be a number");
}

std::int64_t integer(const json::value& v, const char* what) {
    if (v.is_int64()) {
        return v.as_int64();
    }
    if (v.is_uint64()) {
        return static_cast<std::int64_t>(v.as_uint64());
    }
    throw std::invalid_argument(std::string(what) + " must be an integer");
}

template <class T>
std::vector<T> ints(const json::object& o, const char* key) {
    std::vector<T> out;
    if (const auto* v = o.if_contains(key)) {
        for (const auto& x : v->as_array()) {
            out.push_back(static_cast<T>(integer(x, key)));
        }
    }
    return out;
}

interval span(const json::value& v, const char* what) {
    const auto& a = v.as_array();
    if (a.size() != 2) {
        throw std::invalid_argument(std::string(what) + " must be [start, end]");
    }
    return {integer(a[0], what), integer(a[1], what)};
}

gender sex(const json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return gender::unspecified;
    }
    if (v->as_string() == "female") {
        return gender::female;
    }
    if (v->as_string() == "male") {
        return gender::male;
    }
    throw std::invalid_argument(std::string(key) + " must be female or male");
}

const char* sex_name(gender g) {
    return g == gender::female ? "female" : g == gender::male ? "male" : nullptr;
}

}  // namespace

instance read_instance(const boost::json::value& v) {
    const auto& root = v.as_object();
    instance in;
    in.now = integer(need(root, "now", "instance"), "now");
    if (const auto* w = root.if_contains("weights")) {
        const auto& o = w->as_object();
        auto set = [&](const char* key, double& field) {
            if (const auto* x = o.if_contains(key)) {
                field = num(*x, key);
            }
        };
        set("road_factor", in.w.road_factor);
        set("travel", in.w.travel);
        set("rating_bonus", in.w.rating_bonus);
        set("continuity_bonus", in.w.continuity_bonus);
        set("fairness", in.w.fairness);
        set("unassigned_base", in.w.unassigned_base);
        set("priority_per_level", in.w.priority_per_level);
        set("priority_per_category", in.w.priority_per_category);
        set("priority_per_waited_minute", in.w.priority_per_waited_minute);
        set("priority_bonus", in.w.priority_bonus);
        if (const auto* k = o.if_contains("max_waited_minutes")) {
            in.w.max_waited_minutes = integer(*k, "max_waited_minutes");
        }
        if (const auto* k = o.if_contains("edges_per_order")) {
            in.w.edges_per_order = static_cast<int>(integer(*k, "edges_per_order"));
        }
    }
    if (const auto* kinds = root.if_contains("kinds")) {
        for (const auto& k : kinds->as_array()) {
            const auto& o = k.as_object();
            in.w.kinds.push_back({num(need(o, "speed_kmh", "kind"), "speed_kmh"),
                                  num(need(o, "circle_minutes", "kind"), "circle_minutes")});
        }
    }
    for (const auto& x : need(root, "orders", "instance").as_array()) {
        const auto& o = x.as_object();
        order r;
        r.id = static_cast<std::uint32_t>(integer(need(o, "id", "order"), "id"));
        r.kind = static_cast<kind_id>(integer(need(o, "kind", "order"), "kind"));
        r.skill = static_cast<skill_id>(integer(need(o, "skill", "order"), "skill"));
        r.location = {num(need(o, "lat", "order"), "lat"), num(need(o, "lon", "order"), "lon")};
        r.window = span(need(o, "window", "order"), "window");
        if (const auto* d = o.if_contains("duration")) {
            r.duration = integer(*d, "duration");
        }
        r.credentials = ints<credential_id>(o, "credentials");
        if (const auto* c = o.if_contains("crew")) {
            r.crew = static_cast<int>(integer(*c, "crew"));
            if (r.crew < 1 || r.crew > 2) {
                throw std::invalid_argument("order.crew must be 1 or 2");
            }
        }
        r.wants_gender = sex(o, "gender");
        if (const auto* l = o.if_contains("language"); l && !l->is_null()) {
            r.wants_language = static_cast<language_id>(integer(*l, "language"));
        }
        if (const auto* a = o.if_contains("ability_level")) {
            r.ability_level = static_cast<int>(integer(*a, "ability_level"));
        }
        if (const auto* p = o.if_contains("priority_categories")) {
            r.priority_categories = static_cast<int>(integer(*p, "priority_categories"));
        }
        if (const auto* w = o.if_contains("waited")) {
            r.waited = integer(*w, "waited");
        }
        if (const auto* m = o.if_contains("meal_slot"); m && !m->is_null()) {
            r.meal_slot = static_cast<std::uint32_t>(integer(*m, "meal_slot"));
        }
        r.excluded = ints<std::uint32_t>(o, "excluded");
        r.preferred = ints<std::uint32_t>(o, "preferred");
        in.orders.push_back(std::move(r));
    }
    for (const auto& x : need(root, "workers", "instance").as_array()) {
        const auto& o = x.as_object();
        worker w;
        w.id = static_cast<std::uint32_t>(integer(need(o, "id", "worker"), "id"));
        w.location = {num(need(o, "lat", "worker"), "lat"), num(need(o, "lon", "worker"), "lon")};
        w.skills = ints<skill_id>(o, "skills");
        if (const auto* cs = o.if_contains("credentials")) {
            for (const auto& c : cs->as_array()) {
                const auto& co = c.as_object();
                w.credentials.push_back(
                    {static_cast<credential_id>(integer(need(co, "type", "credential"), "type")),
                     integer(need(co, "expires_at", "credential"), "expires_at")});
            }
        }
        w.sex = sex(o, "gender");
        w.languages = ints<language_id>(o, "languages");
        if (const auto* a = o.if_contains("available")) {
            for (const auto& i : a->as_array()) {
                w.available.push_back(span(i, "available"));
            }
        }
        if (const auto* b = o.if_contains("busy")) {
            for (const auto& i : b->as_array()) {
                w.busy.push_back(span(i, "busy"));
            }
        }
        if (const auto* r = o.if_contains("rating")) {
            w.rating = num(*r, "rating");
        }
        if (const auto* j = o.if_contains("jobs_today")) {
            w.jobs_today = static_cast<int>(integer(*j, "jobs_today"));
        }
        w.meals_left = ints<int>(o, "meals_left");
        in.workers.push_back(std::move(w));
    }
    return in;
}

boost::json::value write_instance(const instance& in) {
    json::array kinds;
    for (const auto& k : in.w.kinds) {
        kinds.push_back(json::object{{"speed_kmh", k.speed_kmh}, {"circle_minutes", k.circle_minutes}});
    }
    json::array orders;
    for (const auto& o : in.orders) {
        json::object x{{"id", o.id},
                       {"kind", o.kind},
                       {"skill", o.skill},
                       {"lat", o.location.lat},
                       {"lon", o.location.lon},
                       {"window", json::array{o.window.start, o.window.end}},
                       {"duration", o.duration},
                       {"credentials", json::value_from(o.credentials)},
                       {"crew", o.crew},
                       {"ability_level", o.ability_level},
                       {"priority_categories", o.priority_categories},
                       {"waited", o.waited},
                       {"excluded", json::value_from(o.excluded)},
                       {"preferred", json::value_from(o.preferred)}};
        if (const char* g = sex_name(o.wants_gender)) {
            x["gender"] = g;
        }
        if (o.wants_language) {
            x["language"] = *o.wants_language;
        }
        if (o.meal_slot) {
            x["meal_slot"] = *o.meal_slot;
        }
        orders.push_back(std::move(x));
    }
    json::array workers;
    for (const auto& w : in.workers) {
        json::array creds;
        for (const auto& c : w.credentials) {
            creds.push_back(json::object{{"type", c.type}, {"expires_at", c.expires_at}});
        }
        json::array available;
        for (const auto& i : w.available) {
            available.push_back(json::array{i.start, i.end});
        }
        json::array busy;
        for (const auto& i : w.busy) {
            busy.push_back(json::array{i.start, i.end});
        }
        json::object x{{"id", w.id},
                       {"lat", w.location.lat},
                       {"lon", w.location.lon},
                       {"skills", json::value_from(w.skills)},
                       {"credentials", std::move(creds)},
                       {"languages", json::value_from(w.languages)},
                       {"available", std::move(available)},
                       {"busy", std::move(busy)},
                       {"rating", w.rating},
                       {"jobs_today", w.jobs_today},
                       {"meals_left", json::value_from(w.meals_left)}};
        if (const char* g = sex_name(w.sex)) {
            x["gender"] = g;
        }
        workers.push_back(std::move(x));
    }
    return json::object{{"now", in.now},
                        {"kinds", std::move(kinds)},
                        {"orders", std::move(orders)},
                        {"workers", std::move(workers)}};
}

boost::json::value write_result(const result& r) {
    json::array assignments;
    for (const auto& a : r.assignments) {
        assignments.push_back(json::object{{"order", a.order_id},
                                           {"workers", json::value_from(a.worker_ids)},
                                           {"cost", a.cost},
                                           {"travel_minutes", a.travel_minutes}});
    }
    return json::object{{"assignments", std::move(assignments)},
                        {"unassigned", json::value_from(r.unassigned)},
                        {"total_cost", r.total_cost}};
}

}  // namespace carematch::match::codec
