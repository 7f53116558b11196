// Scenario files: JSON, every field optional but checked — an unknown key or a wrong type names its path.
#include "sim.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace carematch::sim {

namespace json = boost::json;

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) {
    throw std::runtime_error("scenario: " + path + ": " + what);
}

void only(const json::object& o, const std::string& path, const std::set<std::string>& keys) {
    for (const auto& [k, v] : o) {
        if (!keys.contains(std::string(k))) {
            bad(path + "." + std::string(k), "unknown key");
        }
    }
}

const json::object& object_at(const json::value& v, const std::string& path) {
    if (!v.is_object()) {
        bad(path, "must be an object");
    }
    return v.as_object();
}

double number(const json::value& v, const std::string& path, double lo, double hi) {
    if (!v.is_number()) {
        bad(path, "must be a number");
    }
    const double d = v.to_number<double>();
    if (d < lo || d > hi) {
        bad(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    return d;
}

void read(
    const json::object& o, const char* key, const std::string& path, double& out, double lo, double hi) {
    if (const auto* v = o.if_contains(key)) {
        out = number(*v, path + "." + key, lo, hi);
    }
}

void read(const json::object& o, const char* key, const std::string& path, int& out, int lo, int hi) {
    if (const auto* v = o.if_contains(key)) {
        out = static_cast<int>(number(*v, path + "." + key, lo, hi));
    }
}

void read(const json::object& o, const char* key, const std::string& path, std::string& out) {
    if (const auto* v = o.if_contains(key)) {
        if (!v->is_string()) {
            bad(path + "." + key, "must be a string");
        }
        out = std::string(v->as_string());
    }
}

void read(const json::object& o, const char* key, const std::string& path, range& out, double lo, double hi) {
    if (const auto* v = o.if_contains(key)) {
        const std::string p = path + "." + key;
        if (!v->is_array() || v->as_array().size() != 2) {
            bad(p, "must be [low, high]");
        }
        out.lo = number(v->as_array()[0], p + "[0]", lo, hi);
        out.hi = number(v->as_array()[1], p + "[1]", out.lo, hi);
    }
}

std::vector<std::string> strings(const json::value& v, const std::string& path) {
    if (!v.is_array()) {
        bad(path, "must be an array of strings");
    }
    std::vector<std::string> out;
    for (const auto& s : v.as_array()) {
        if (!s.is_string()) {
            bad(path, "must be an array of strings");
        }
        out.emplace_back(s.as_string());
    }
    return out;
}

std::map<std::string, double> shares(const json::value& v, const std::string& path) {
    std::map<std::string, double> out;
    for (const auto& [k, x] : object_at(v, path)) {
        out[std::string(k)] = number(x, path + "." + std::string(k), 0, 1);
    }
    return out;
}

int clock_minute(const std::string& text, const std::string& path) {
    int h = 0;
    int m = 0;
    char colon = 0;
    std::istringstream in(text);
    if (!(in >> h >> colon >> m) || colon != ':' || h < 0 || h > 23 || m < 0 || m > 59) {
        bad(path, "must be HH:MM");
    }
    return h * 60 + m;
}

}  // namespace

scenario load_scenario(const std::string& file) {
    std::ifstream in(file);
    if (!in) {
        throw std::runtime_error("scenario: cannot read " + file);
    }
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto root = json::parse(text.str(), ec);
    if (ec) {
        throw std::runtime_error("scenario: " + file + " is not JSON: " + ec.message());
    }
    scenario s;
    const auto& o = object_at(root, "$");
    only(o,
         "$",
         {"name",
          "description",
          "seed",
          "time",
          "streets",
          "elders",
          "children",
          "providers",
          "demand",
          "workers",
          "ratings",
          "complaints",
          "staff"});
    read(o, "name", "$", s.name);
    if (const auto* v = o.if_contains("seed")) {
        s.seed = static_cast<std::uint64_t>(number(*v, "$.seed", 0, 9e15));
    }
    if (const auto* v = o.if_contains("time")) {
        const auto& t = object_at(*v, "$.time");
        only(t, "$.time", {"mode", "speed", "start", "hours", "utc_offset_minutes", "drain_s"});
        read(t, "mode", "$.time", s.mode);
        if (s.mode != "compressed" && s.mode != "wall") {
            bad("$.time.mode", "must be compressed or wall");
        }
        read(t, "speed", "$.time", s.speed, 1, 3600);
        if (s.mode == "wall") {
            s.speed = 1;
        }
        std::string start;
        read(t, "start", "$.time", start);
        if (!start.empty()) {
            s.start_minute = clock_minute(start, "$.time.start");
        }
        read(t, "hours", "$.time", s.hours, 0.01, 24 * 7);
        read(t, "utc_offset_minutes", "$.time", s.utc_offset_minutes, -720, 840);
        read(t, "drain_s", "$.time", s.drain_s, 0, 86400);
    }
    if (const auto* v = o.if_contains("streets")) {
        if (!v->is_array() || v->as_array().empty()) {
            bad("$.streets", "must be a non-empty array");
        }
        int i = 0;
        for (const auto& e : v->as_array()) {
            const std::string p = "$.streets[" + std::to_string(i++) + "]";
            const auto& so = object_at(e, p);
            only(so, p, {"id", "lat", "lon", "radius_km"});
            street_spec st;
            if (!so.contains("id") || !so.contains("lat") || !so.contains("lon")) {
                bad(p, "needs id, lat and lon");
            }
            st.id = static_cast<std::int64_t>(number(so.at("id"), p + ".id", 1, 9e12));
            read(so, "lat", p, st.lat, -90, 90);
            read(so, "lon", p, st.lon, -180, 180);
            read(so, "radius_km", p, st.radius_km, 0.1, 50);
            s.streets.push_back(st);
        }
    }
    if (s.streets.empty()) {
        bad("$.streets", "required");
    }
    if (const auto* v = o.if_contains("elders")) {
        const auto& e = object_at(*v, "$.elders");
        only(e, "$.elders", {"per_street", "ability_levels", "living_alone", "priority", "age"});
        read(e, "per_street", "$.elders", s.elders_per_street, 1, 100000);
        if (const auto* a = e.if_contains("ability_levels")) {
            if (!a->is_array() || a->as_array().size() != 5) {
                bad("$.elders.ability_levels", "must be five shares, levels 0 to 4");
            }
            for (std::size_t i = 0; i < 5; ++i) {
                s.ability[i] = number(a->as_array()[i], "$.elders.ability_levels", 0, 1);
            }
        }
        read(e, "living_alone", "$.elders", s.living_alone, 0, 1);
        if (const auto* p = e.if_contains("priority")) {
            s.priority = shares(*p, "$.elders.priority");
        }
        read(e, "age", "$.elders", s.age, 60, 110);
    }
    if (const auto* v = o.if_contains("children")) {
        const auto& c = object_at(*v, "$.children");
        only(c, "$.children", {"per_street", "age_months", "booking_days"});
        read(c, "per_street", "$.children", s.children_per_street, 0, 100000);
        read(c, "age_months", "$.children", s.child_months, 6, 35);
        read(c, "booking_days", "$.children", s.booking_days, 1, 62);
    }
    if (const auto* v = o.if_contains("providers")) {
        if (!v->is_array()) {
            bad("$.providers", "must be an array");
        }
        int i = 0;
        for (const auto& e : v->as_array()) {
            const std::string p = "$.providers[" + std::to_string(i++) + "]";
            const auto& po = object_at(e, p);
            only(po,
                 p,
                 {"kind",
                  "name",
                  "workers",
                  "worker_kinds",
                  "credentials",
                  "radius_km",
                  "canteen",
                  "nursery"});
            provider_spec ps;
            read(po, "kind", p, ps.org_kind);
            if (ps.org_kind != "home_care" && ps.org_kind != "clinic" && ps.org_kind != "canteen" &&
                ps.org_kind != "nursery") {
                bad(p + ".kind", "must be home_care, clinic, canteen or nursery");
            }
            if (const auto* n = po.if_contains("nursery")) {
                const std::string np = p + ".nursery";
                const auto& no = object_at(*n, np);
                only(no, np, {"kind", "licensed_places", "affordable_percent", "classes"});
                read(no, "kind", np, ps.nursery_kind);
                read(no, "licensed_places", np, ps.licensed_places, 1, 10000);
                read(no, "affordable_percent", np, ps.affordable_percent, 0, 100);
                if (const auto* cl = no.if_contains("classes")) {
                    if (!cl->is_array()) {
                        bad(np + ".classes", "must be an array of {band, caregivers}");
                    }
                    for (const auto& k : cl->as_array()) {
                        const auto& ko = object_at(k, np + ".classes[]");
                        only(ko, np + ".classes[]", {"band", "caregivers"});
                        std::string band;
                        int caregivers = 1;
                        read(ko, "band", np + ".classes[]", band);
                        read(ko, "caregivers", np + ".classes[]", caregivers, 1, 100);
                        if (band != "6-12" && band != "12-24" && band != "24-36") {
                            bad(np + ".classes[].band", "must be 6-12, 12-24 or 24-36");
                        }
                        ps.classes.emplace_back(band, caregivers);
                    }
                }
            }
            if (ps.org_kind == "nursery" && ps.classes.empty()) {
                bad(p + ".nursery.classes", "a nursery needs at least one class");
            }
            read(po, "name", p, ps.name);
            read(po, "workers", p, ps.workers, 0, 10000);
            if (const auto* k = po.if_contains("worker_kinds")) {
                ps.kinds = strings(*k, p + ".worker_kinds");
            }
            if (const auto* c = po.if_contains("credentials")) {
                ps.credentials = strings(*c, p + ".credentials");
            }
            read(po, "radius_km", p, ps.radius_km, 0.1, 50);
            if (const auto* c = po.if_contains("canteen")) {
                const auto& co = object_at(*c, p + ".canteen");
                only(co, p + ".canteen", {"delivery_radius_km", "lunch", "dinner"});
                read(co, "delivery_radius_km", p + ".canteen", ps.delivery_radius_km, 0.1, 50);
                for (const char* slot : {"lunch", "dinner"}) {
                    int n = 0;
                    read(co, slot, p + ".canteen", n, 0, 100000);
                    if (n > 0) {
                        ps.meals[slot] = n;
                    }
                }
            }
            s.providers.push_back(std::move(ps));
        }
    }
    if (const auto* v = o.if_contains("demand")) {
        if (!v->is_array()) {
            bad("$.demand", "must be an array");
        }
        int i = 0;
        for (const auto& e : v->as_array()) {
            const std::string p = "$.demand[" + std::to_string(i++) + "]";
            const auto& d = object_at(e, p);
            only(d, p, {"kind", "sub_type", "per_100_elders_per_hour"});
            demand_spec ds;
            read(d, "kind", p, ds.kind);
            read(d, "sub_type", p, ds.sub_type);
            const auto* h = d.if_contains("per_100_elders_per_hour");
            if (ds.kind.empty() || ds.sub_type.empty() || h == nullptr || !h->is_array() ||
                h->as_array().size() != 24) {
                bad(p, "needs kind, sub_type and per_100_elders_per_hour (24 numbers, one per local hour)");
            }
            for (std::size_t k = 0; k < 24; ++k) {
                ds.per_hour[k] = number(h->as_array()[k], p + ".per_100_elders_per_hour", 0, 1000);
            }
            s.demand.push_back(std::move(ds));
        }
    }
    if (const auto* v = o.if_contains("workers")) {
        const auto& w = object_at(*v, "$.workers");
        only(w,
             "$.workers",
             {"accept_probability", "response_s", "travel_kmh", "no_show", "no_show_wait_min"});
        read(w, "accept_probability", "$.workers", s.accept_probability, 0, 1);
        read(w, "response_s", "$.workers", s.response_s, 0, 3600);
        read(w, "travel_kmh", "$.workers", s.travel_kmh, 1, 200);
        read(w, "no_show", "$.workers", s.no_show, 0, 1);
        read(w, "no_show_wait_min", "$.workers", s.no_show_wait_min, 1, 1440);
    }
    if (const auto* v = o.if_contains("ratings")) {
        const auto& r = object_at(*v, "$.ratings");
        only(r,
             "$.ratings",
             {"rated_share", "bad_share", "bad_share_late", "late_after_min", "rate_after_min"});
        read(r, "rated_share", "$.ratings", s.rated_share, 0, 1);
        read(r, "bad_share", "$.ratings", s.bad_share, 0, 1);
        read(r, "bad_share_late", "$.ratings", s.bad_share_late, 0, 1);
        read(r, "late_after_min", "$.ratings", s.late_after_min, 0, 1440);
        read(r, "rate_after_min", "$.ratings", s.rate_after_min, 0, 1440);
    }
    if (const auto* v = o.if_contains("complaints")) {
        const auto& c = object_at(*v, "$.complaints");
        only(c, "$.complaints", {"rate", "after_min", "categories"});
        read(c, "rate", "$.complaints", s.complaint_rate, 0, 1);
        read(c, "after_min", "$.complaints", s.complain_after_min, 0, 10080);
        if (const auto* k = c.if_contains("categories")) {
            s.categories = shares(*k, "$.complaints.categories");
            static const std::set<std::string> known{
                "safety", "no_show", "quality", "fee", "privacy", "attitude", "other"};
            for (const auto& [name, share] : s.categories) {
                if (!known.contains(name)) {
                    bad("$.complaints.categories." + name, "unknown category");
                }
            }
        }
    }
    if (const auto* v = o.if_contains("staff")) {
        const auto& st = object_at(*v, "$.staff");
        only(st, "$.staff", {"poll_min", "claim_after_min", "resolve_after_min"});
        read(st, "poll_min", "$.staff", s.staff_poll_min, 0.1, 1440);
        read(st, "claim_after_min", "$.staff", s.claim_after_min, 0, 10080);
        read(st, "resolve_after_min", "$.staff", s.resolve_after_min, 0, 10080);
    }
    return s;
}

}  // namespace carematch::sim
