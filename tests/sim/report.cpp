// The simulator's reports: a summary in text and JSON, and three SVG plots (order → offer latency, the day's
// orders and backlog, a map of the district by outcome).
#include "sim.hpp"

#include <carematch/http/message.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace carematch::sim {

namespace json = boost::json;

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

namespace {

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

bool final_status(const std::string& s) {
    return s == "completed" || s == "cancelled" || s == "expired" || s == "failed";
}

const char* colour_of(const std::string& status) {
    if (status == "completed") {
        return "#2e7d32";
    }
    if (status == "expired" || status == "failed") {
        return "#c62828";
    }
    if (status == "cancelled") {
        return "#ef6c00";
    }
    return "#9e9e9e";
}

struct svg {
    std::ostringstream out;
    svg(int w, int h, const std::string& title) {
        out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
            << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
               "fill=\"white\"/>\n<text x=\""
            << w / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << title << "</text>\n";
    }
    void line(double x1, double y1, double x2, double y2, const char* colour, double width = 1) {
        out << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
            << "\" stroke=\"" << colour << "\" stroke-width=\"" << width << "\"/>\n";
    }
    void rect(double x, double y, double w, double h, const char* colour) {
        out << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << h
            << "\" fill=\"" << colour << "\"/>\n";
    }
    void circle(double x, double y, double r, const char* colour) {
        out << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"" << r << "\" fill=\"" << colour
            << "\" fill-opacity=\"0.75\"/>\n";
    }
    void text(double x, double y, const std::string& t, const char* anchor = "start") {
        out << "<text x=\"" << x << "\" y=\"" << y << "\" text-anchor=\"" << anchor << "\">" << t
            << "</text>\n";
    }
    void polyline(const std::vector<std::pair<double, double>>& pts, const char* colour) {
        out << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"";
        for (const auto& [x, y] : pts) {
            out << x << ',' << y << ' ';
        }
        out << "\"/>\n";
    }
    void save(const std::string& path) {
        out << "</svg>\n";
        std::ofstream(path) << out.str();
    }
};

void latency_plot(const std::vector<double>& offer_s, double tick_s, const std::string& path) {
    const int w = 640;
    const int h = 360;
    const double left = 60;
    const double bottom = h - 40;
    const double top = 40;
    const double right = w - 20;
    svg s(w, h, "order → live offer (real seconds)");
    const double high = std::max(tick_s * 2, percentile(offer_s, 0.995) * 1.1);
    const int bins = 40;
    std::vector<int> count(bins, 0);
    for (double v : offer_s) {
        count[static_cast<std::size_t>(std::clamp(static_cast<int>(v / high * bins), 0, bins - 1))]++;
    }
    const int most = std::max(1, *std::max_element(count.begin(), count.end()));
    const double bw = (right - left) / bins;
    for (int b = 0; b < bins; ++b) {
        const double bh = (bottom - top) * count[static_cast<std::size_t>(b)] / most;
        s.rect(left + b * bw + 1, bottom - bh, bw - 2, bh, "#1565c0");
    }
    s.line(left, bottom, right, bottom, "black");
    s.line(left, top, left, bottom, "black");
    for (int k = 0; k <= 4; ++k) {
        const double x = left + (right - left) * k / 4;
        s.text(x, bottom + 16, fmt("%.2f s", high * k / 4), "middle");
    }
    s.text(left - 6, top + 4, std::to_string(most), "end");
    s.text(left - 6, bottom, "0", "end");
    const double tx = left + (right - left) * std::min(1.0, tick_s / high);
    s.line(tx, top, tx, bottom, "#c62828", 1.5);
    s.text(tx + 4, top + 12, "tick");
    for (double p : {0.5, 0.99}) {
        const double v = percentile(offer_s, p);
        const double x = left + (right - left) * std::min(1.0, v / high);
        s.line(x, top + 20, x, bottom, "#2e7d32", 1);
        const bool near_right = x > right - 90;
        s.text(near_right ? x - 4 : x + 4,
               top + 32 + (p > 0.9 ? 14 : 0),
               fmt(p > 0.9 ? "p99 %.2f s" : "p50 %.2f s", v),
               near_right ? "end" : "start");
    }
    s.save(path);
}

void timeline_plot(const results& r, int start_minute, const std::string& path) {
    const int w = 720;
    const int h = 360;
    const double left = 60;
    const double bottom = h - 40;
    const double top = 40;
    const double right = w - 140;
    svg s(w, h, "orders over the simulated day");
    const double span = std::max(60.0, r.sim_seconds);
    const int steps = 120;
    std::vector<std::pair<double, double>> placed;
    std::vector<std::pair<double, double>> completed;
    std::vector<std::pair<double, double>> backlog;
    std::vector<int> p(steps + 1);
    std::vector<int> c(steps + 1);
    std::vector<int> b(steps + 1);
    int most = 1;
    for (int k = 0; k <= steps; ++k) {
        const double t = span * k / steps;
        for (const auto& o : r.orders) {
            if (o.placed_sim <= t) {
                ++p[static_cast<std::size_t>(k)];
                const double end = o.completed_sim >= 0 ? o.completed_sim : o.final_sim;
                if (o.status == "completed" && o.completed_sim >= 0 && o.completed_sim <= t) {
                    ++c[static_cast<std::size_t>(k)];
                }
                if (end < 0 || end > t) {
                    ++b[static_cast<std::size_t>(k)];
                }
            }
        }
        most = std::max(most, p[static_cast<std::size_t>(k)]);
    }
    auto x_of = [&](int k) { return left + (right - left) * k / steps; };
    auto y_of = [&](int v) { return bottom - (bottom - top) * v / most; };
    for (int k = 0; k <= steps; ++k) {
        placed.emplace_back(x_of(k), y_of(p[static_cast<std::size_t>(k)]));
        completed.emplace_back(x_of(k), y_of(c[static_cast<std::size_t>(k)]));
        backlog.emplace_back(x_of(k), y_of(b[static_cast<std::size_t>(k)]));
    }
    s.line(left, bottom, right, bottom, "black");
    s.line(left, top, left, bottom, "black");
    s.polyline(placed, "#1565c0");
    s.polyline(completed, "#2e7d32");
    s.polyline(backlog, "#c62828");
    s.text(right + 10, top + 10, "placed (total)");
    s.text(right + 10, top + 26, "completed (total)");
    s.text(right + 10, top + 42, "open (backlog)");
    s.line(right + 120, top + 6, right + 135, top + 6, "#1565c0", 2);
    s.line(right + 120, top + 22, right + 135, top + 22, "#2e7d32", 2);
    s.line(right + 120, top + 38, right + 135, top + 38, "#c62828", 2);
    for (int k = 0; k <= 4; ++k) {
        const double minute = start_minute + span / 60 * k / 4;
        char label[32];
        std::snprintf(label,
                      sizeof label,
                      "%02d:%02d",
                      static_cast<int>(minute / 60) % 24,
                      static_cast<int>(minute) % 60);
        s.text(left + (right - left) * k / 4, bottom + 16, label, "middle");
    }
    s.text(left - 6, top + 4, std::to_string(most), "end");
    s.text(left - 6, bottom, "0", "end");
    s.save(path);
}

void map_plot(const results& r, const std::string& path) {
    const int w = 600;
    const int h = 600;
    svg s(w, h, "the district: orders by outcome, workers' homes");
    double lat_lo = r.centre_lat;
    double lat_hi = r.centre_lat;
    double lon_lo = r.centre_lon;
    double lon_hi = r.centre_lon;
    auto widen = [&](double lat, double lon) {
        lat_lo = std::min(lat_lo, lat);
        lat_hi = std::max(lat_hi, lat);
        lon_lo = std::min(lon_lo, lon);
        lon_hi = std::max(lon_hi, lon);
    };
    for (const auto& o : r.orders) {
        widen(o.lat, o.lon);
    }
    for (const auto& wk : r.workers) {
        widen(wk.home_lat, wk.home_lon);
    }
    const double cos_lat = std::cos(r.centre_lat * 3.14159265358979 / 180);
    const double span = std::max({(lat_hi - lat_lo), (lon_hi - lon_lo) * cos_lat, 1e-4}) * 1.1;
    const double mid_lat = (lat_hi + lat_lo) / 2;
    const double mid_lon = (lon_hi + lon_lo) / 2;
    auto x_of = [&](double lon) { return w / 2.0 + (lon - mid_lon) * cos_lat / span * (w - 80); };
    auto y_of = [&](double lat) { return h / 2.0 + 10 - (lat - mid_lat) / span * (h - 100); };
    for (const auto& o : r.orders) {
        s.circle(x_of(o.lon), y_of(o.lat), 4, colour_of(o.status));
    }
    for (const auto& wk : r.workers) {
        s.rect(x_of(wk.home_lon) - 4, y_of(wk.home_lat) - 4, 8, 8, "#1565c0");
    }
    const double km = 1.0 / 111.2 / span * (h - 100);
    s.line(20, h - 20, 20 + km, h - 20, "black", 2);
    s.text(24 + km, h - 16, "1 km");
    const char* labels[][2] = {{"completed", "#2e7d32"},
                               {"expired or failed", "#c62828"},
                               {"cancelled", "#ef6c00"},
                               {"still open", "#9e9e9e"}};
    double y = 40;
    for (const auto& l : labels) {
        s.circle(w - 150, y - 4, 4, l[1]);
        s.text(w - 140, y, l[0]);
        y += 16;
    }
    s.rect(w - 154, y - 8, 8, 8, "#1565c0");
    s.text(w - 140, y, "a worker's home");
    s.save(path);
}

}  // namespace

std::string write_reports(const results& r, const std::string& dir) {
    // Orders by kind and outcome.
    std::map<std::string, std::map<std::string, int>> table;
    std::vector<double> offer_s;
    std::vector<double> assigned_s;
    std::vector<double> travel;
    int priority = 0;
    int priority_served = 0;
    int completed = 0;
    int expired = 0;
    int failed = 0;
    for (const auto& o : r.orders) {
        const std::string kind = o.kind.empty() ? "?" : o.kind + "/" + o.sub_type;
        const std::string outcome = final_status(o.status) ? o.status : "open";
        table[kind][outcome]++;
        table[kind]["placed"]++;
        table["total"][outcome]++;
        table["total"]["placed"]++;
        if (o.offered_real >= 0 && o.placed_real >= 0) {
            offer_s.push_back(o.offered_real - o.placed_real);
        }
        if (o.assigned_real >= 0 && o.placed_real >= 0) {
            assigned_s.push_back(o.assigned_real - o.placed_real);
        }
        if (o.travel_min >= 0) {
            travel.push_back(o.travel_min);
        }
        priority += o.priority ? 1 : 0;
        priority_served += o.priority && o.status == "completed" ? 1 : 0;
        completed += o.status == "completed" ? 1 : 0;
        expired += o.status == "expired" ? 1 : 0;
        failed += o.status == "failed" ? 1 : 0;
    }
    const int settled = completed + expired + failed;
    std::ostringstream t;
    t << "CareMatch simulation: scenario " << r.scenario << " (" << r.mode;
    if (r.mode == "compressed") {
        t << ", " << fmt("%g", r.speed) << "x";
    }
    t << "): " << fmt("%.1f", r.sim_hours) << " simulated hours of orders, the last work done "
      << fmt("%.1f", r.sim_seconds / 3600) << " h after the start; " << fmt("%.0f", r.real_seconds)
      << " s in all (setup " << fmt("%.0f", r.setup_seconds) << " s)\n\n";
    char line[256];
    std::snprintf(line,
                  sizeof line,
                  "%-24s %7s %9s %9s %8s %7s\n",
                  "orders",
                  "placed",
                  "completed",
                  "cancelled",
                  "expired",
                  "open");
    t << line;
    for (const auto& [kind, row] : table) {
        auto n = [&](const char* k) {
            auto it = row.find(k);
            return it == row.end() ? 0 : it->second;
        };
        std::snprintf(line,
                      sizeof line,
                      "%-24s %7d %9d %9d %8d %7d\n",
                      kind.c_str(),
                      n("placed"),
                      n("completed"),
                      n("cancelled"),
                      n("expired") + n("failed"),
                      n("open"));
        t << line;
    }
    t << "\nfulfilment (completed ÷ completed, expired and failed): "
      << (settled == 0 ? std::string("n/a") : fmt("%.1f %%", 100.0 * completed / settled)) << "\n";
    t << "order → live offer, real s:  p50 " << fmt("%.2f", percentile(offer_s, 0.5)) << "  p95 "
      << fmt("%.2f", percentile(offer_s, 0.95)) << "  p99 " << fmt("%.2f", percentile(offer_s, 0.99))
      << "  (p99 ÷ tick " << fmt("%.2f", percentile(offer_s, 0.99) / r.tick_s) << ", " << offer_s.size()
      << " orders)\n";
    t << "order → assigned, real s:    p50 " << fmt("%.2f", percentile(assigned_s, 0.5)) << "  p95 "
      << fmt("%.2f", percentile(assigned_s, 0.95)) << "  p99 " << fmt("%.2f", percentile(assigned_s, 0.99))
      << "  (includes the worker's time to answer)\n";
    double travel_sum = 0;
    for (double v : travel) {
        travel_sum += v;
    }
    t << "travel per job, simulated min: mean "
      << fmt("%.1f", travel.empty() ? 0 : travel_sum / static_cast<double>(travel.size())) << "  p95 "
      << fmt("%.1f", percentile(travel, 0.95)) << "\n";
    t << "priority elders: " << priority << " orders, " << priority_served << " served"
      << (priority == 0 ? std::string() : fmt(" (%.1f %%)", 100.0 * priority_served / priority)) << "\n";
    t << "offers " << r.offers << ", accepted " << r.accepts << ", declined " << r.declines
      << ", answered too late " << r.accept_conflicts << "\n";
    t << "ratings " << r.ratings << ", bad " << r.bad_reviews << ", followed up (ticket closed) "
      << r.bad_followed_up << "\n";
    t << "complaints filed by families " << r.complaints_filed << "; tickets by severity:";
    for (const auto& [sev, n] : r.tickets_by_severity) {
        t << " " << sev << " " << n;
    }
    t << "; closed " << r.tickets_closed << ", past their time limit " << r.sla_breaches << ", escalated "
      << r.escalated << "\n";
    if (r.children > 0 || r.nursery_places > 0) {
        t << "nursery: " << r.children << " children; bookings confirmed " << r.bookings_confirmed
          << ", waitlisted " << r.bookings_waitlisted << ", refused " << r.bookings_refused << "; "
          << r.child_days_booked << " child-days booked of " << r.nursery_places << " places x "
          << r.booking_days << " days ("
          << (r.nursery_places == 0
                  ? std::string("n/a")
                  : fmt("%.1f %%", 100.0 * r.child_days_booked / (r.nursery_places * r.booking_days)))
          << "); the platform's occupancy for " << r.nursery_month << ": "
          << (r.nursery_occupancy ? fmt("%.1f %%", 100.0 * *r.nursery_occupancy) : std::string("n/a"))
          << "\n";
    }
    if (!r.refused.empty()) {
        t << "refused:";
        for (const auto& [why, n] : r.refused) {
            t << " [" << why << "] " << n;
        }
        t << "\n";
    }
    t << "answers 429/503 waited out: " << r.retries << "\n\nchecks\n";
    for (const auto& c : r.checks) {
        t << (c.ok ? "  ok      " : "  BROKEN  ") << c.name << (c.detail.empty() ? "" : ": " + c.detail)
          << "\n";
    }

    json::object j;
    j["scenario"] = r.scenario;
    j["mode"] = r.mode;
    j["speed"] = r.speed;
    j["simulated_hours"] = r.sim_hours;
    j["simulated_hours_until_done"] = r.sim_seconds / 3600;
    j["real_seconds"] = r.real_seconds;
    j["setup_seconds"] = r.setup_seconds;
    json::object orders;
    for (const auto& [kind, row] : table) {
        json::object o;
        for (const auto& [k, n] : row) {
            o[k] = n;
        }
        orders[kind] = std::move(o);
    }
    j["orders"] = std::move(orders);
    j["fulfilment_rate"] =
        settled == 0 ? json::value(nullptr) : json::value(static_cast<double>(completed) / settled);
    auto pcts = [](const std::vector<double>& v) {
        return json::object{{"p50", percentile(v, 0.5)},
                            {"p95", percentile(v, 0.95)},
                            {"p99", percentile(v, 0.99)},
                            {"n", v.size()}};
    };
    j["order_to_offer_s"] = pcts(offer_s);
    j["order_to_assigned_s"] = pcts(assigned_s);
    j["tick_s"] = r.tick_s;
    j["travel_min"] = pcts(travel);
    j["priority"] = json::object{{"orders", priority}, {"served", priority_served}};
    j["offers"] = json::object{{"made", r.offers},
                               {"accepted", r.accepts},
                               {"declined", r.declines},
                               {"too_late", r.accept_conflicts}};
    j["ratings"] =
        json::object{{"count", r.ratings}, {"bad", r.bad_reviews}, {"bad_followed_up", r.bad_followed_up}};
    json::object sev;
    for (const auto& [k, n] : r.tickets_by_severity) {
        sev[k] = n;
    }
    j["complaints"] = json::object{{"filed_by_families", r.complaints_filed},
                                   {"tickets_by_severity", std::move(sev)},
                                   {"closed", r.tickets_closed},
                                   {"past_time_limit", r.sla_breaches},
                                   {"escalated", r.escalated}};
    j["nursery"] = json::object{
        {"children", r.children},
        {"confirmed", r.bookings_confirmed},
        {"waitlisted", r.bookings_waitlisted},
        {"refused", r.bookings_refused},
        {"child_days_booked", r.child_days_booked},
        {"places", r.nursery_places},
        {"booking_days", r.booking_days},
        {"occupancy_of_booked_days",
         r.nursery_places == 0
             ? json::value(nullptr)
             : json::value(static_cast<double>(r.child_days_booked) / (r.nursery_places * r.booking_days))},
        {"month", r.nursery_month},
        {"platform_occupancy_of_month",
         r.nursery_occupancy ? json::value(*r.nursery_occupancy) : json::value(nullptr)}};
    json::object refused;
    for (const auto& [k, n] : r.refused) {
        refused[k] = n;
    }
    j["refused"] = std::move(refused);
    j["retries"] = r.retries;
    json::array checks;
    for (const auto& c : r.checks) {
        checks.push_back(json::object{{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    }
    j["checks"] = std::move(checks);

    std::ofstream csv(dir + "/orders.csv");
    csv << "order_id,kind,sub_type,community_id,priority,asap,placed_s,offered_s,assigned_s,completed_s,"
           "status,"
           "worker,travel_min,late,no_show\n";
    for (const auto& o : r.orders) {
        csv << o.id << ',' << o.kind << ',' << o.sub_type << ',' << o.community_id << ',' << o.priority << ','
            << o.asap << ',' << fmt("%.3f", o.placed_real) << ',' << fmt("%.3f", o.offered_real) << ','
            << fmt("%.3f", o.assigned_real) << ',' << fmt("%.3f", o.completed_real) << ',' << o.status << ','
            << o.worker << ',' << fmt("%.1f", o.travel_min) << ',' << o.late << ',' << o.no_show << '\n';
    }
    std::ofstream(dir + "/summary.txt") << t.str();
    std::ofstream(dir + "/summary.json") << http::plain_numbers(json::serialize(j)) << "\n";
    latency_plot(offer_s, r.tick_s, dir + "/latency.svg");
    timeline_plot(r, r.start_minute, dir + "/timeline.svg");
    map_plot(r, dir + "/map.svg");
    return t.str();
}

}  // namespace carematch::sim
