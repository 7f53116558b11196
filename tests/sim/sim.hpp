// carematch-sim: what its parts share — the scenario, what the simulator counted, and the reports.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace carematch::sim {

/// A uniform range [lo, hi].
struct range {
    double lo = 0;
    double hi = 0;
};

struct street_spec {
    std::int64_t id = 0;
    double lat = 0;
    double lon = 0;
    double radius_km = 1.5;  // elders and workers live within this of the centre
};

/// An organisation of each street, and its workers.
struct provider_spec {
    std::string org_kind;  // home_care, clinic, canteen
    std::string name;
    int workers = 0;  // per street
    std::vector<std::string> kinds;
    std::vector<std::string> credentials;
    double radius_km = 5;
    std::map<std::string, int> meals;  // canteens: meals per slot (lunch, dinner)
    double delivery_radius_km = 3;
    // Nurseries: their profile.
    std::string nursery_kind = "community";
    int licensed_places = 40;
    int affordable_percent = 30;
    std::vector<std::pair<std::string, int>> classes;  // age band ("12-24") and caregivers
};

/// Orders of one sub-type per hour of the local day, per 100 elders.
struct demand_spec {
    std::string kind;
    std::string sub_type;
    std::array<double, 24> per_hour{};
};

struct scenario {
    std::string name = "default";
    std::uint64_t seed = 1;
    // Time: "compressed" runs `speed` simulated seconds per real second; "wall" runs in real time (speed 1).
    std::string mode = "compressed";
    double speed = 60;
    int start_minute = 8 * 60;  // local time of day the simulated day starts at
    double hours = 2;
    int utc_offset_minutes = 480;
    double drain_s = 300;  // real seconds to let work in flight finish after the last order

    std::vector<street_spec> streets;
    int elders_per_street = 200;
    std::array<double, 5> ability{0.45, 0.25, 0.15, 0.1, 0.05};  // shares of ability levels 0–4
    double living_alone = 0.25;
    std::map<std::string, double> priority;  // other priority categories and their shares
    range age{62, 98};

    std::vector<provider_spec> providers;
    std::vector<demand_spec> demand;

    // Children under three, each of a family of its own that books a nursery place.
    int children_per_street = 0;
    range child_months{8, 34};
    int booking_days = 5;  // consecutive days from tomorrow, full day

    // Workers.
    double accept_probability = 0.85;
    range response_s{10, 90};  // simulated seconds before an offer is answered
    double travel_kmh = 15;
    double no_show = 0.01;         // accepted, never came
    double no_show_wait_min = 60;  // the family waits this long past the expected arrival, then cancels

    // Ratings.
    double rated_share = 0.7;
    double bad_share = 0.05;
    double bad_share_late = 0.4;
    double late_after_min = 45;  // an "as soon as possible" job begun later than this after ordering is late
    range rate_after_min{5, 60};

    // Complaints (per completed order) and staff.
    double complaint_rate = 0.02;
    range complain_after_min{10, 120};
    std::map<std::string, double> categories{
        {"quality", 0.4}, {"attitude", 0.3}, {"fee", 0.1}, {"other", 0.2}};
    double staff_poll_min = 5;
    range claim_after_min{5, 30};
    range resolve_after_min{10, 90};
};

/// Reads a scenario file (JSON); throws std::runtime_error naming the field that is wrong or unknown.
scenario load_scenario(const std::string& path);

/// One order as the simulator saw it. Real times are seconds since the run began (steady clock); simulated
/// times are seconds since the simulated day's start.
struct order_record {
    std::string id;
    std::string kind;
    std::string sub_type;
    std::int64_t community_id = 0;
    bool priority = false;
    bool asap = true;
    double lat = 0;
    double lon = 0;
    double placed_real = -1;
    double placed_sim = -1;
    double offered_real = -1;  // the first offer reached a worker's socket
    double assigned_real = -1;
    double started_sim = -1;  // the worker arrived
    double completed_real = -1;
    double completed_sim = -1;
    double final_sim = -1;
    std::string status = "created";  // as the family last saw it
    std::string worker;              // worker index as text, once assigned
    double travel_min = -1;
    bool late = false;
    bool no_show = false;
};

struct worker_record {
    std::string id;
    double home_lat = 0;
    double home_lon = 0;
    std::vector<std::string> kinds;
    int jobs = 0;
};

struct check {
    std::string name;
    bool ok = true;
    std::string detail;
};

/// Everything the reports are made of.
struct results {
    std::string scenario;
    std::string mode;
    double speed = 1;
    double sim_hours = 0;    // of orders, as the scenario asks
    double sim_seconds = 0;  // until the last work was done
    double real_seconds = 0;
    double setup_seconds = 0;
    double centre_lat = 0;
    double centre_lon = 0;
    double tick_s = 1;
    int start_minute = 0;  // local time of day of the simulated start
    std::vector<order_record> orders;
    std::vector<worker_record> workers;
    std::map<std::string, int> refused;  // orders the platform refused, by status and field
    int offers = 0;
    int accepts = 0;
    int declines = 0;
    int accept_conflicts = 0;
    int retries = 0;  // answers 429 or 503 waited out
    int ratings = 0;
    int bad_reviews = 0;
    int bad_followed_up = 0;
    int complaints_filed = 0;  // by families
    std::map<std::string, int> tickets_by_severity;
    int tickets_closed = 0;
    int sla_breaches = 0;
    int escalated = 0;
    // Nurseries.
    int children = 0;
    int bookings_confirmed = 0;
    int bookings_waitlisted = 0;
    int bookings_refused = 0;
    int child_days_booked = 0;
    int nursery_places = 0;  // licensed, over the simulated nurseries
    int booking_days = 0;
    std::string nursery_month;
    std::optional<double>
        nursery_occupancy;  // the platform's figure for the month, over the streets' communities
    std::vector<check> checks;
};

double percentile(std::vector<double> v, double p);

/// Writes summary.txt, summary.json, latency.svg, timeline.svg and map.svg into `dir`; returns the summary
/// text.
std::string write_reports(const results& r, const std::string& dir);

}  // namespace carematch::sim
