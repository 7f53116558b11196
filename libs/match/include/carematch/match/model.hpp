// The matching model: orders, workers, weights and the result of a tick. Pure data, no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace carematch::match {

/// Minutes since an arbitrary epoch shared by one instance.
using minutes = std::int64_t;

struct geo {
    double lat = 0;
    double lon = 0;
};

struct interval {
    minutes start = 0;
    minutes end = 0;  // exclusive
};

enum class gender : std::uint8_t { unspecified, female, male };

/// Service kinds and their sub-types are catalog data: the caller maps names to small integers.
using kind_id = std::uint32_t;
using skill_id = std::uint32_t;       // a (kind, sub-type) the worker may serve
using credential_id = std::uint32_t;  // nurse licence, bathing certificate, …
using language_id = std::uint32_t;

struct credential {
    credential_id type = 0;
    minutes expires_at = 0;  // valid while the job ends before this
};

struct order {
    std::uint32_t id = 0;
    kind_id kind = 0;
    skill_id skill = 0;
    geo location;
    interval window;  // the service must start inside it
    minutes duration = 60;
    std::vector<credential_id> credentials;  // all required
    int crew = 1;                            // two for a bath when the elder's ability level is 2 or worse
    gender wants_gender = gender::unspecified;
    std::optional<language_id> wants_language;
    int ability_level = 0;        // 0 intact … 4 total disability
    int priority_categories = 0;  // how many priority categories apply (特困, 低保, 80+, …)
    minutes waited = 0;
    std::optional<std::uint32_t> meal_slot;  // meal orders: the slot the canteen serves
    std::vector<std::uint32_t> excluded;     // workers who declined or were blocked
    std::vector<std::uint32_t> preferred;    // workers who served this elder before
};

struct worker {
    std::uint32_t id = 0;
    geo location;
    std::vector<skill_id> skills;
    std::vector<credential> credentials;
    gender sex = gender::unspecified;
    std::vector<language_id> languages;
    std::vector<interval> available;  // when the worker works
    std::vector<interval> busy;       // jobs already held (travel included)
    double rating = 4.0;              // 1–5
    int jobs_today = 0;
    /// A canteen: meals left per slot (index = slot); people have none and take one order per tick.
    std::vector<int> meals_left;
};

/// Per kind: how fast one moves and how far the service circle reaches.
struct kind_profile {
    double speed_kmh = 15;  // e-bike in a city
    double circle_minutes = 15;
};

/// Travel time in minutes for a kind from one point to another. The default (empty) is haversine × road
/// factor ÷ the kind's speed. A replacement (a road graph, a routing table) must never be faster than the
/// straight line at the kind's speed × road factor: the candidate search prunes with that bound.
using travel_model = std::function<double(kind_id kind, geo from, geo to)>;

/// Every weight of the cost, in one place. Costs are in "minutes of travel" equivalents.
struct weights {
    travel_model travel_time;                 // empty: the haversine default
    double road_factor = 1.3;                 // road distance ÷ straight-line distance
    double travel = 1.0;                      // per minute of travel
    double rating_bonus = 2.0;                // per rating point above 3
    double continuity_bonus = 6.0;            // a worker the elder already knows
    double fairness = 0.5;                    // per job already done today
    double unassigned_base = 60.0;            // leaving an order unserved costs at least this much…
    double priority_per_level = 15.0;         // …plus this per ability level…
    double priority_per_category = 10.0;      // …per priority category…
    double priority_per_waited_minute = 0.5;  // …and per minute waited (counted up to max_waited_minutes)…
    minutes max_waited_minutes = 120;
    double priority_bonus =
        100.0;  // …and a priority elder's order (ability ≥ 3 or a priority category) this much
                // more: above any travel, waiting and bonus terms, so that where supply is
                // short a priority elder is served before any other order within reach
    int edges_per_order = 10;         // k best feasible edges kept per order
    std::vector<kind_profile> kinds;  // indexed by kind_id; missing kinds use the default profile
};

struct instance {
    minutes now = 0;
    std::vector<order> orders;
    std::vector<worker> workers;
    weights w;
};

struct assignment {
    std::uint32_t order_id = 0;
    std::vector<std::uint32_t> worker_ids;  // crew size, distinct
    double cost = 0;
    double travel_minutes = 0;  // of the first worker
};

struct result {
    std::vector<assignment> assignments;
    std::vector<std::uint32_t> unassigned;
    double total_cost = 0;  // assignments' costs plus the unassigned penalties
};

}  // namespace carematch::match
