// Feasibility, cost, candidate search over a spatial grid, and the greedy and optimal solvers.
#include <carematch/match/match.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <queue>
#include <unordered_map>

namespace carematch::match {
namespace {

constexpr double earth_radius_km = 6371.0;
constexpr double pi = 3.14159265358979323846;

const kind_profile& profile(const weights& w, kind_id k) {
    static const kind_profile fallback;
    return k < w.kinds.size() ? w.kinds[k] : fallback;
}

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

// std::llround(x × 100) without the library call (a tick rounds millions of costs): half away from zero.
std::int64_t hundredths(double x) {
    const double y = x * 100.0;
    if (!(std::abs(y) < 9.0e18)) {
        return std::llround(y);
    }
    auto whole = static_cast<std::int64_t>(y);           // towards zero
    const double part = y - static_cast<double>(whole);  // exact
    if (part >= 0.5) {
        ++whole;
    } else if (part <= -0.5) {
        --whole;
    }
    return whole;
}

// Whether hundredths(x) > bound surely, without rounding: x lies above the rounding interval of bound.
bool beyond(double x, std::int64_t bound) {
    return x * 100.0 > static_cast<double>(bound) + 0.5;
}

// A place as a point of the unit sphere: the distance between two places is then the chord between them,
// which needs no trigonometry per pair once each place is converted.
struct unit {
    double x = 0;
    double y = 0;
    double z = 0;
};

unit unit_of(geo p) {
    const double to_rad = pi / 180.0;
    const double lat = p.lat * to_rad;
    const double lon = p.lon * to_rad;
    const double c = std::cos(lat);
    return {c * std::cos(lon), c * std::sin(lon), std::sin(lat)};
}

// The great-circle distance from the chord: the haversine formula with h = chord² ÷ 4.
double arc_km(unit a, unit b) {
    const double dx = a.x - b.x;
    const double dy = a.y - b.y;
    const double dz = a.z - b.z;
    return 2 * earth_radius_km * std::asin(std::min(1.0, std::sqrt(dx * dx + dy * dy + dz * dz) / 2));
}

bool is_canteen(const worker& w) {
    return !w.meals_left.empty();
}

}  // namespace

double haversine_km(geo a, geo b) noexcept {
    return arc_km(unit_of(a), unit_of(b));
}

double travel_minutes(const weights& w, kind_id kind, geo a, geo b) noexcept {
    if (w.travel_time) {
        return w.travel_time(kind, a, b);
    }
    return haversine_km(a, b) * w.road_factor / profile(w, kind).speed_kmh * 60.0;
}

namespace {

// The checks that need no travel time but the skill (the candidate grid is per skill already).
bool fits_but_skill(const order& o, const worker& w) noexcept {
    if (!o.excluded.empty() && contains(o.excluded, w.id)) {
        return false;
    }
    if (o.meal_slot.has_value() != is_canteen(w)) {
        return false;  // canteens serve meals, people serve the rest
    }
    if (o.meal_slot && (*o.meal_slot >= w.meals_left.size() || w.meals_left[*o.meal_slot] <= 0)) {
        return false;
    }
    return true;
}

// The checks that need no travel time, cheapest first.
bool fits(const order& o, const worker& w) noexcept {
    return std::find(w.skills.begin(), w.skills.end(), o.skill) != w.skills.end() && fits_but_skill(o, w);
}

// A worker found through the grid (its skill fits) or looked up as known to the elder (lower = −∞).
bool fits_found(const order& o, const worker& w, double lower) noexcept {
    return std::isinf(lower) ? fits(o, w) : fits_but_skill(o, w);
}

// The rest of feasibility, given the pair's travel time (computed once by the caller).
bool feasible_with(const instance& in, const order& o, const worker& w, double travel) noexcept {
    if (travel > profile(in.w, o.kind).circle_minutes) {
        return false;
    }
    const auto travel_min = static_cast<minutes>(std::ceil(travel));
    const minutes start = std::max(o.window.start, in.now + travel_min);
    if (start > o.window.end) {
        return false;
    }
    const interval job{start - travel_min, start + o.duration};
    for (credential_id needed : o.credentials) {
        bool valid = std::any_of(w.credentials.begin(), w.credentials.end(), [&](const credential& c) {
            return c.type == needed && c.expires_at >= job.end;
        });
        if (!valid) {
            return false;
        }
    }
    if (o.wants_gender != gender::unspecified && w.sex != o.wants_gender) {
        return false;
    }
    if (o.wants_language &&
        std::find(w.languages.begin(), w.languages.end(), *o.wants_language) == w.languages.end()) {
        return false;
    }
    if (!is_canteen(w)) {
        if (!w.available.empty() &&
            std::none_of(w.available.begin(), w.available.end(), [&](const interval& a) {
                return a.start <= job.start && job.end <= a.end;
            })) {
            return false;
        }
        if (std::any_of(w.busy.begin(), w.busy.end(), [&](const interval& b) {
                return b.start < job.end && job.start < b.end;
            })) {
            return false;
        }
    }
    return true;
}

double cost_with(const weights& wt, const order& o, const worker& w, double travel) noexcept {
    double c = wt.travel * travel;
    c -= wt.rating_bonus * (w.rating - 3.0);
    if (contains(o.preferred, w.id)) {
        c -= wt.continuity_bonus;
    }
    c += wt.fairness * w.jobs_today;
    return c;
}

}  // namespace

bool feasible(const instance& in, const order& o, const worker& w) noexcept {
    return fits(o, w) && feasible_with(in, o, w, travel_minutes(in.w, o.kind, w.location, o.location));
}

double cost(const weights& wt, const order& o, const worker& w) noexcept {
    return cost_with(wt, o, w, travel_minutes(wt, o.kind, w.location, o.location));
}

double unassigned_penalty(const weights& wt, const order& o) noexcept {
    const bool priority = o.ability_level >= 3 || o.priority_categories > 0;
    return wt.unassigned_base + wt.priority_per_level * o.ability_level +
           wt.priority_per_category * o.priority_categories +
           wt.priority_per_waited_minute * static_cast<double>(std::min(o.waited, wt.max_waited_minutes)) +
           (priority ? wt.priority_bonus : 0.0);
}

// The spatial index a graph keeps: one grid of ~0.55 km cells per skill over the workers, the resources of
// each worker, and a search that scans rings outwards from an order.
struct candidate_index {
    static constexpr double cell_deg = 0.005;
    struct entry {
        std::uint32_t index;  // into instance.workers
        std::uint32_t id;
        geo location;
        double extra;  // the cost terms of the worker alone: rating and fairness
    };
    /// The workers of one skill by cell: a flat array over their bounding box when it is small (a street, a
    /// district), a hash map otherwise.
    struct skill_grid {
        long x0 = 0;
        long y0 = 0;
        long nx = 0;
        long ny = 0;
        bool flat = false;
        std::vector<std::uint32_t> start;  // flat: nx × ny + 1 offsets into entries
        std::vector<entry> entries;
        std::unordered_map<std::int64_t, std::vector<entry>> cells;

        std::pair<const entry*, const entry*> at(long x, long y) const {
            if (flat) {
                const long ix = x - x0;
                const long iy = y - y0;
                if (ix < 0 || iy < 0 || ix >= nx || iy >= ny) {
                    return {nullptr, nullptr};
                }
                const auto c = static_cast<std::size_t>(ix * ny + iy);
                return {entries.data() + start[c], entries.data() + start[c + 1]};
            }
            auto it = cells.find(cell_key(x, y));
            if (it == cells.end()) {
                return {nullptr, nullptr};
            }
            return {it->second.data(), it->second.data() + it->second.size()};
        }
    };
    std::unordered_map<skill_id, skill_grid> grids;

    static constexpr long flat_cells_max = 1L << 20;

    void add_grid(skill_id skill, std::vector<std::pair<std::pair<long, long>, entry>> items) {
        skill_grid& g = grids[skill];
        long x0 = std::numeric_limits<long>::max();
        long y0 = std::numeric_limits<long>::max();
        long x1 = std::numeric_limits<long>::min();
        long y1 = std::numeric_limits<long>::min();
        for (const auto& [cell, e] : items) {
            x0 = std::min(x0, cell.first);
            y0 = std::min(y0, cell.second);
            x1 = std::max(x1, cell.first);
            y1 = std::max(y1, cell.second);
        }
        const long nx = x1 - x0 + 1;
        const long ny = y1 - y0 + 1;
        if (!items.empty() && nx <= flat_cells_max / std::max(1L, ny)) {
            g.flat = true;
            g.x0 = x0;
            g.y0 = y0;
            g.nx = nx;
            g.ny = ny;
            g.start.assign(static_cast<std::size_t>(nx * ny) + 1, 0);
            for (const auto& [cell, e] : items) {
                ++g.start[static_cast<std::size_t>((cell.first - x0) * ny + (cell.second - y0)) + 1];
            }
            for (std::size_t c = 1; c < g.start.size(); ++c) {
                g.start[c] += g.start[c - 1];
            }
            g.entries.resize(items.size());
            std::vector<std::uint32_t> next(g.start.begin(), g.start.end() - 1);
            for (const auto& [cell, e] : items) {
                g.entries[next[static_cast<std::size_t>((cell.first - x0) * ny + (cell.second - y0))]++] = e;
            }
        } else {
            for (const auto& [cell, e] : items) {
                g.cells[cell_key(cell.first, cell.second)].push_back(e);
            }
        }
    }
    /// A worker's resources, numbered in a row: one for a person, one per meal slot for a canteen.
    struct resource_span {
        std::uint32_t first = 0;
        std::uint32_t count = 0;
    };
    std::vector<resource_span> resources_of;
    static constexpr std::uint32_t no_resource = std::numeric_limits<std::uint32_t>::max();

    /// The resource of worker `wi` that serves `slot` (0 for a person), or no_resource.
    std::uint32_t resource_for(std::uint32_t wi, std::size_t slot) const {
        const resource_span span = resources_of[wi];
        return slot < span.count ? span.first + static_cast<std::uint32_t>(slot) : no_resource;
    }
    std::unordered_map<std::uint32_t, std::uint32_t> index_of;  // worker id → index
    std::vector<unit> units;                                    // per worker
    std::vector<double> extras;                                 // per worker: entry::extra
    double max_bonus = 0;  // the largest discount a worker's own terms give (continuity aside)

    /// travel_minutes(in.w, o.kind, worker, o.location), from the worker's and the order's points.
    double travel(const instance& in, const order& o, const unit& at, std::uint32_t wi) const {
        if (in.w.travel_time) {
            return in.w.travel_time(o.kind, in.workers[wi].location, o.location);
        }
        return arc_km(units[wi], at) * in.w.road_factor / profile(in.w, o.kind).speed_kmh * 60.0;
    }

    static std::pair<long, long> cell_of(geo p) {
        return {std::lround(std::floor(p.lat / cell_deg)), std::lround(std::floor(p.lon / cell_deg))};
    }
    static std::int64_t cell_key(long ix, long iy) {
        return (static_cast<std::int64_t>(ix) << 32) ^ (iy & 0xffffffff);
    }

    /// Visits the workers of `o`'s skill ring by ring outwards, the known ones first. `visit(wi, lower)` gets
    /// each worker with a lower bound of its travel cost term; `bound()` is the cost beyond which nothing
    /// more is wanted (rings whose every worker is farther are not scanned).
    template <class Visit, class Bound>
    void scan(const instance& in, const order& o, Visit visit, Bound bound) const {
        scan(in, o, visit, bound, [](long, long, double) { return true; });
    }

    /// The same, skipping the cells `cell_ok(x, y, lower)` turns down, where `lower` bounds the cost term of
    /// every worker in that cell.
    template <class Visit, class Bound, class CellOk>
    void scan(const instance& in, const order& o, Visit visit, Bound bound, CellOk cell_ok) const {
        auto grid = grids.find(o.skill);
        if (grid == grids.end()) {
            return;
        }
        const kind_profile& kp = profile(in.w, o.kind);
        const double minutes_per_km = in.w.road_factor / kp.speed_kmh * 60.0;
        // A cell's narrower side (east-west) anywhere the search can reach: cells narrow towards the pole, so
        // the ring bounds use the width at the farthest latitude of the service circle from the equator.
        const double reach_km = kp.circle_minutes / minutes_per_km;
        const double far_lat = std::min(89.0, std::abs(o.location.lat) + reach_km / 111.2 + 2 * cell_deg);
        const double cell_km = cell_deg * 111.2 * std::cos(far_lat * pi / 180.0);
        const long max_ring = static_cast<long>(std::ceil(reach_km / cell_km)) + 1;
        auto [cx, cy] = cell_of(o.location);
        // A cheap lower bound on the travel cost (flat-earth distance never exceeds haversine by more than a
        // hair at city scale; 0.99 covers it) skips most far workers before the full check.
        const double km_per_deg_lon = 111.2 * std::cos(o.location.lat * pi / 180.0);
        auto lower_of = [&](geo w) {
            const double dy = (w.lat - o.location.lat) * 111.2;
            const double dx = (w.lon - o.location.lon) * km_per_deg_lon;
            return in.w.travel * 0.99 * std::sqrt(dx * dx + dy * dy) * minutes_per_km;
        };
        const bool knows_some = !o.preferred.empty();
        for (std::uint32_t id : o.preferred) {
            if (auto it = index_of.find(id); it != index_of.end()) {
                visit(it->second, -std::numeric_limits<double>::infinity());
            }
        }
        for (long ring = 0; ring <= max_ring; ++ring) {
            // Every worker in this ring is at least (ring − 1) cells away.
            const double ring_lower =
                in.w.travel * std::max(0L, ring - 1) * cell_km * minutes_per_km - max_bonus;
            if (ring >= 2 && beyond(ring_lower, bound())) {
                break;
            }
            for (long x = cx - ring; x <= cx + ring; ++x) {
                const bool edge_row = x == cx - ring || x == cx + ring;
                for (long y = cy - ring; y <= cy + ring; y += edge_row ? 1 : 2 * ring) {
                    auto [first, last] = grid->second.at(x, y);
                    if (first != last && cell_ok(x, y, ring_lower)) {
                        for (const entry* e = first; e != last; ++e) {
                            if (!knows_some || !contains(o.preferred, e->id)) {
                                visit(e->index, lower_of(e->location) + e->extra);
                            }
                        }
                    }
                    if (ring == 0) {
                        break;
                    }
                }
            }
        }
    }

    /// The feasible edges of order `oi` cheaper than `below`, at most the `k` cheapest of them, by cost.
    std::vector<edge> edges(const instance& in, std::uint32_t oi, std::size_t k, std::int64_t below) const {
        const order& o = in.orders[oi];
        const unit at = unit_of(o.location);
        auto by_cost = [](const edge& a, const edge& b) {
            return a.cost != b.cost ? a.cost < b.cost : a.resource < b.resource;
        };
        std::vector<edge> best;  // a max-heap of the k best so far
        auto bound = [&]() -> std::int64_t { return best.size() >= k ? best.front().cost : below - 1; };
        auto visit = [&](std::uint32_t wi, double lower) {
            if (!std::isinf(lower) && beyond(lower, bound())) {
                return;
            }
            const worker& w = in.workers[wi];
            if (!fits_found(o, w, lower)) {
                return;
            }
            const double travel = this->travel(in, o, at, wi);
            if (!feasible_with(in, o, w, travel)) {
                return;
            }
            const std::uint32_t r = resource_for(wi, o.meal_slot ? *o.meal_slot : 0);
            edge e{oi, r, hundredths(cost_with(in.w, o, w, travel))};
            if (e.cost >= below) {
                return;
            }
            if (best.size() < k) {
                best.push_back(e);
                std::push_heap(best.begin(), best.end(), by_cost);
            } else if (by_cost(e, best.front())) {
                std::pop_heap(best.begin(), best.end(), by_cost);
                best.back() = e;
                std::push_heap(best.begin(), best.end(), by_cost);
            }
        };
        scan(in, o, visit, bound);
        std::sort_heap(best.begin(), best.end(), by_cost);
        return best;
    }

    /// The feasible worker nearest to order `oi` (by travel time) among those `usable` accepts, with its
    /// travel minutes; `skip` workers already taken for this order.
    template <class Usable>
    std::optional<std::pair<std::uint32_t, double>> nearest(const instance& in,
                                                            std::uint32_t oi,
                                                            Usable usable,
                                                            const std::vector<std::uint32_t>& skip) const {
        const order& o = in.orders[oi];
        const unit at = unit_of(o.location);
        std::optional<std::pair<std::uint32_t, double>> found;
        const double bonus = max_bonus;
        auto bound = [&]() -> std::int64_t {
            return found ? hundredths(in.w.travel * found->second - bonus)
                         : std::numeric_limits<std::int64_t>::max();
        };
        auto visit = [&](std::uint32_t wi, double lower) {
            // The bound is on travel alone: the worker's own terms come off its lower bound.
            if (found && !std::isinf(lower) && beyond(lower - extras[wi] - bonus, bound())) {
                return;
            }
            if (std::find(skip.begin(), skip.end(), wi) != skip.end() || !usable(wi)) {
                return;
            }
            const worker& w = in.workers[wi];
            if (!fits_found(o, w, lower)) {
                return;
            }
            const double travel = this->travel(in, o, at, wi);
            if ((found && travel >= found->second) || !feasible_with(in, o, w, travel)) {
                return;
            }
            found.emplace(wi, travel);
        };
        scan(in, o, visit, bound);
        return found;
    }
};

graph build_graph(const instance& in) {
    graph g;
    auto index = std::make_shared<candidate_index>();
    // Resources: one per person, one per canteen meal slot.
    index->resources_of.resize(in.workers.size());
    for (std::uint32_t wi = 0; wi < in.workers.size(); ++wi) {
        const worker& w = in.workers[wi];
        index->resources_of[wi].first = static_cast<std::uint32_t>(g.resources.size());
        if (is_canteen(w)) {
            for (std::size_t s = 0; s < w.meals_left.size(); ++s) {
                g.resources.push_back({wi, static_cast<std::int32_t>(s), w.meals_left[s]});
            }
        } else {
            g.resources.push_back({wi, -1, 1});
        }
        index->resources_of[wi].count =
            static_cast<std::uint32_t>(g.resources.size()) - index->resources_of[wi].first;
    }
    // One grid per skill: an order looks only at workers with its skill, ring by ring outwards, and stops
    // once no farther ring can hold a cheaper edge than its k-th best.
    std::unordered_map<skill_id, std::vector<std::pair<std::pair<long, long>, candidate_index::entry>>>
        by_skill;
    // A worker's own cost terms (rating, fairness) tighten the lower bound of every pair it is in; the
    // largest discount among them bounds whole rings.
    index->units.reserve(in.workers.size());
    for (std::uint32_t wi = 0; wi < in.workers.size(); ++wi) {
        const worker& w = in.workers[wi];
        const double extra = -in.w.rating_bonus * (w.rating - 3.0) + in.w.fairness * w.jobs_today;
        index->max_bonus = std::max(index->max_bonus, -extra);
        index->units.push_back(unit_of(w.location));
        index->extras.push_back(extra);
        const auto cell = candidate_index::cell_of(w.location);
        for (skill_id s : w.skills) {
            by_skill[s].push_back({cell, {wi, w.id, w.location, extra}});
        }
    }
    for (auto& [skill, items] : by_skill) {
        index->add_grid(skill, std::move(items));
    }
    // Workers the elder knows get the continuity bonus: they are looked up directly, so the bounds need only
    // the workers' own terms.
    index->index_of.reserve(in.workers.size());
    for (std::uint32_t wi = 0; wi < in.workers.size(); ++wi) {
        index->index_of.emplace(in.workers[wi].id, wi);
    }
    g.by_order.resize(in.orders.size());
    g.penalty.resize(in.orders.size());
    g.complete.resize(in.orders.size());
    const auto k = static_cast<std::size_t>(std::max(1, in.w.edges_per_order));
    for (std::uint32_t oi = 0; oi < in.orders.size(); ++oi) {
        g.penalty[oi] = hundredths(unassigned_penalty(in.w, in.orders[oi]));
        g.by_order[oi] = index->edges(in, oi, k, std::numeric_limits<std::int64_t>::max());
        g.complete[oi] = g.by_order[oi].size() < k;  // fewer than k: every feasible edge is there
    }
    g.index = std::move(index);
    return g;
}

namespace {

result make_result(const instance& in,
                   const graph& g,
                   const std::vector<std::vector<std::uint32_t>>& chosen,  // resources per order
                   const std::vector<std::vector<std::int64_t>>& costs) {
    result res;
    std::int64_t total = 0;
    for (std::uint32_t oi = 0; oi < in.orders.size(); ++oi) {
        const order& o = in.orders[oi];
        if (static_cast<int>(chosen[oi].size()) < o.crew) {
            res.unassigned.push_back(o.id);
            total += g.penalty[oi] * o.crew;
            continue;
        }
        assignment a;
        a.order_id = o.id;
        std::int64_t c = 0;
        for (std::size_t i = 0; i < chosen[oi].size(); ++i) {
            const worker& w = in.workers[g.resources[chosen[oi][i]].worker];
            a.worker_ids.push_back(w.id);
            c += costs[oi][i];
        }
        a.cost = static_cast<double>(c) / 100.0;
        a.travel_minutes =
            travel_minutes(in.w, o.kind, in.workers[g.resources[chosen[oi][0]].worker].location, o.location);
        total += c;
        res.assignments.push_back(std::move(a));
    }
    res.total_cost = static_cast<double>(total) / 100.0;
    return res;
}

}  // namespace

result solve_greedy(const instance& in, const graph& g) {
    std::vector<std::uint32_t> sequence(in.orders.size());
    std::iota(sequence.begin(), sequence.end(), 0);
    std::stable_sort(sequence.begin(), sequence.end(), [&](std::uint32_t a, std::uint32_t b) {
        return in.orders[a].waited > in.orders[b].waited;
    });
    std::vector<int> left(g.resources.size());
    for (std::size_t r = 0; r < g.resources.size(); ++r) {
        left[r] = g.resources[r].capacity;
    }
    std::vector<std::vector<std::uint32_t>> chosen(in.orders.size());
    std::vector<std::vector<std::int64_t>> costs(in.orders.size());
    for (std::uint32_t oi : sequence) {
        const order& o = in.orders[oi];
        const std::size_t slot = o.meal_slot ? *o.meal_slot : 0;
        auto usable = [&](std::uint32_t wi) {
            const std::uint32_t r = g.index->resource_for(wi, slot);
            return r != candidate_index::no_resource && left[r] > 0;
        };
        std::vector<std::uint32_t> crew;
        while (static_cast<int>(crew.size()) < o.crew) {
            auto found = g.index->nearest(in, oi, usable, crew);
            if (!found) {
                break;
            }
            crew.push_back(found->first);
        }
        if (static_cast<int>(crew.size()) < o.crew) {
            continue;  // a crew is complete or not sent
        }
        for (std::uint32_t wi : crew) {
            const std::uint32_t r = g.index->resource_for(wi, slot);
            --left[r];
            chosen[oi].push_back(r);
            costs[oi].push_back(hundredths(cost(in.w, o, in.workers[wi])));
        }
    }
    return make_result(in, g, chosen, costs);
}

namespace {

// Min-cost flow by successive shortest paths on the bipartite graph orders → resources, where every order
// also has a private "unassigned" sink priced at its penalty. Dijkstra on reduced costs with potentials,
// stopping at the first sink with room; potentials of settled nodes are lowered by (D − d), which keeps every
// reduced cost non-negative without touching the rest of the graph.
class flow_solver {
  public:
    flow_solver(const instance& in, const graph& g, const std::vector<bool>& forced_unassigned)
        : in_(in), g_(g), n_(in.orders.size()), m_(g.resources.size()) {
        std::int64_t min_cost = 0;
        for (const auto& edges : g.by_order) {
            for (const edge& e : edges) {
                min_cost = std::min(min_cost, e.cost);
            }
        }
        offset_ = -min_cost;  // every forward cost + offset_ ≥ 0, so zero potentials start valid
        q_.assign(n_ + m_ + n_, 0);
        left_.resize(m_);
        for (std::size_t r = 0; r < m_; ++r) {
            left_[r] = g.resources[r].capacity;
        }
        chosen_.resize(n_);
        costs_.resize(n_);
        unassigned_units_.assign(n_, 0);
        holders_.resize(m_);
        forced_ = forced_unassigned;
        dist_.assign(n_ + m_ + n_, inf);
        pred_.assign(n_ + m_ + n_, none);
    }

    void run() {
        for (std::uint32_t oi = 0; oi < n_; ++oi) {
            for (int unit = 0; unit < in_.orders[oi].crew; ++unit) {
                augment_from(oi);
            }
        }
    }

    const std::vector<std::vector<std::uint32_t>>& chosen() const { return chosen_; }
    const std::vector<std::vector<std::int64_t>>& costs() const { return costs_; }

    /// Potentials for pricing: the solver's own. They stay valid for every residual arc, the super sink's
    /// included (T at 0: a resource or unassigned sink with room at 0, a full one at or below it, since a
    /// node's potential only falls), so a feasible pair o → r left out of the graph can lower the total only
    /// if c + offset() + order_pi[o] − resource_pi[r] < 0; when no pair is, they prove the flow optimal over
    /// every feasible pair. (The shortest distances from T are valid too, but they are the highest potentials
    /// a resource can have: far more left-out pairs look negative under them, and they cost a Dijkstra.)
    void potentials(std::vector<std::int64_t>& order_pi, std::vector<std::int64_t>& resource_pi) const {
        order_pi.assign(q_.begin(), q_.begin() + static_cast<long>(n_));
        resource_pi.assign(q_.begin() + static_cast<long>(n_), q_.begin() + static_cast<long>(n_ + m_));
    }
    std::int64_t offset() const { return offset_; }

  private:
    static constexpr std::int64_t inf = std::numeric_limits<std::int64_t>::max() / 4;
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

    // Node numbering: orders [0, n), resources [n, n+m), unassigned sinks [n+m, n+m+n).
    std::uint32_t res_node(std::uint32_t r) const { return static_cast<std::uint32_t>(n_ + r); }
    std::uint32_t sink_node(std::uint32_t o) const { return static_cast<std::uint32_t>(n_ + m_ + o); }

    bool holds(std::uint32_t o, std::uint32_t r) const {
        return std::find(chosen_[o].begin(), chosen_[o].end(), r) != chosen_[o].end();
    }

    std::int64_t edge_cost(std::uint32_t o, std::uint32_t r) const {
        for (const edge& e : g_.by_order[o]) {
            if (e.resource == r) {
                return e.cost;
            }
        }
        return inf;
    }

    void augment_from(std::uint32_t source) {
        using item = std::pair<std::int64_t, std::uint32_t>;
        std::priority_queue<item, std::vector<item>, std::greater<>> heap;
        settled_.clear();
        touched_.clear();
        auto relax = [&](std::uint32_t from, std::uint32_t to, std::int64_t reduced) {
            std::int64_t d = dist_[from] + reduced;
            if (d < dist_[to]) {
                if (dist_[to] == inf) {
                    touched_.push_back(to);
                }
                dist_[to] = d;
                pred_[to] = from;
                heap.emplace(d, to);
            }
        };
        dist_[source] = 0;
        touched_.push_back(source);
        heap.emplace(0, source);
        std::uint32_t target = none;
        std::int64_t target_dist = 0;
        while (!heap.empty()) {
            auto [d, v] = heap.top();
            heap.pop();
            if (d != dist_[v]) {
                continue;
            }
            settled_.push_back(v);
            if (v < n_) {
                // An order: to its candidate resources, and to its own unassigned sink.
                for (const edge& e : forced_[v] ? no_edges_ : g_.by_order[v]) {
                    if (!holds(v, e.resource)) {
                        std::uint32_t to = res_node(e.resource);
                        relax(v, to, e.cost + offset_ + q_[v] - q_[to]);
                    }
                }
                if (unassigned_units_[v] < in_.orders[v].crew) {
                    std::uint32_t to = sink_node(v);
                    relax(v, to, g_.penalty[v] + offset_ + q_[v] - q_[to]);
                }
            } else if (v < n_ + m_) {
                std::uint32_t r = v - static_cast<std::uint32_t>(n_);
                if (left_[r] > 0) {
                    target = v;
                    target_dist = d;
                    break;
                }
                // A full resource: take it back from one of its holders.
                for (const auto& [o, c] : holders_[r]) {
                    relax(v, o, -(c + offset_) + q_[v] - q_[o]);
                }
            } else {
                target = v;  // an unassigned sink with room (checked when relaxed)
                target_dist = d;
                break;
            }
        }
        // Potentials: settled nodes move by d − D; the rest keep theirs (a uniform shift cancels out).
        for (std::uint32_t v : settled_) {
            q_[v] += dist_[v] - target_dist;
        }
        // Walk the path back: forward edges become assignments, backward edges release them.
        std::uint32_t v = target;
        while (v != source) {
            std::uint32_t u = pred_[v];
            if (u < n_) {
                if (v >= n_ + m_) {
                    ++unassigned_units_[u];
                } else {
                    std::uint32_t r = v - static_cast<std::uint32_t>(n_);
                    std::int64_t c = edge_cost(u, r);
                    chosen_[u].push_back(r);
                    costs_[u].push_back(c);
                    holders_[r].emplace_back(u, c);
                    if (v == target) {
                        --left_[r];
                    }
                }
            } else {
                std::uint32_t r = u - static_cast<std::uint32_t>(n_);
                auto& h = holders_[r];
                h.erase(std::find_if(h.begin(), h.end(), [&](const auto& x) { return x.first == v; }));
                auto pos = std::find(chosen_[v].begin(), chosen_[v].end(), r) - chosen_[v].begin();
                chosen_[v].erase(chosen_[v].begin() + pos);
                costs_[v].erase(costs_[v].begin() + pos);
            }
            v = u;
        }
        for (std::uint32_t t : touched_) {
            dist_[t] = inf;
            pred_[t] = none;
        }
    }

    const instance& in_;
    const graph& g_;
    std::size_t n_;
    std::size_t m_;
    std::int64_t offset_ = 0;
    std::vector<std::int64_t> q_;
    std::vector<int> left_;
    std::vector<std::vector<std::uint32_t>> chosen_;
    std::vector<std::vector<std::int64_t>> costs_;
    std::vector<int> unassigned_units_;
    std::vector<std::vector<std::pair<std::uint32_t, std::int64_t>>> holders_;
    std::vector<bool> forced_;
    std::vector<edge> no_edges_;
    std::vector<std::int64_t> dist_;
    std::vector<std::uint32_t> pred_;
    std::vector<std::uint32_t> settled_;
    std::vector<std::uint32_t> touched_;
};

}  // namespace

namespace {

// Highest values over the workers' area on a flat grid of the candidate search's cells (or of a multiple of
// them when the area is wide), and the same spread over every cell within reach, so that one lookup bounds
// what an order can reach and one the cells a search opens.
class reach_max {
  public:
    static constexpr std::int64_t none = std::numeric_limits<std::int64_t>::min();

    reach_max(const instance& in) {
        double reach_km = 0;
        double far_lat = 0;
        for (const order& o : in.orders) {
            const kind_profile& kp = profile(in.w, o.kind);
            const double r_km = kp.circle_minutes / (in.w.road_factor / kp.speed_kmh * 60.0);
            reach_km = std::max(reach_km, r_km);
            far_lat = std::max(far_lat, std::abs(o.location.lat) + r_km / 111.2);
        }
        long x1 = std::numeric_limits<long>::min();
        long y1 = std::numeric_limits<long>::min();
        for (const worker& w : in.workers) {
            auto [x, y] = candidate_index::cell_of(w.location);
            x0_ = std::min(x0_, x);
            y0_ = std::min(y0_, y);
            x1 = std::max(x1, x);
            y1 = std::max(y1, y);
        }
        if (in.workers.empty()) {
            return;
        }
        step_ = std::max(1L, (std::max(x1 - x0_, y1 - y0_) + 1 + side_max - 1) / side_max);
        nx_ = (x1 - x0_) / step_ + 1;
        ny_ = (y1 - y0_) / step_ + 1;
        // Cells of a grid step tall (north-south) and, at the farthest latitude reachable, wide (east-west);
        // a pair within reach is at most this many cells apart on each axis (one more for rounding).
        const double cell_km = candidate_index::cell_deg * static_cast<double>(step_) * 111.2;
        rx_ = static_cast<long>(std::ceil(reach_km / cell_km)) + 1;
        ry_ = static_cast<long>(
                  std::ceil(reach_km / (cell_km * std::cos(std::min(89.0, far_lat) * pi / 180.0)))) +
              1;
        value_.assign(static_cast<std::size_t>(nx_ * ny_), none);
    }

    void clear() { std::fill(value_.begin(), value_.end(), none); }

    void raise(geo where, std::int64_t v) {
        auto [x, y] = candidate_index::cell_of(where);
        auto& h = value_[index((x - x0_) / step_, (y - y0_) / step_)];
        h = std::max(h, v);
    }

    /// After the last raise: the highest value within reach of each cell.
    void spread() {
        std::vector<std::int64_t> along(value_.size(), none);
        for (long x = 0; x < nx_; ++x) {
            for (long y = 0; y < ny_; ++y) {
                std::int64_t h = none;
                for (long d = std::max(0L, x - rx_); d <= std::min(nx_ - 1, x + rx_); ++d) {
                    h = std::max(h, value_[index(d, y)]);
                }
                along[index(x, y)] = h;
            }
        }
        within_.assign(value_.size(), none);
        for (long x = 0; x < nx_; ++x) {
            for (long y = 0; y < ny_; ++y) {
                std::int64_t h = none;
                for (long d = std::max(0L, y - ry_); d <= std::min(ny_ - 1, y + ry_); ++d) {
                    h = std::max(h, along[index(x, d)]);
                }
                within_[index(x, y)] = h;
            }
        }
    }

    /// The highest value in the candidate cell (x, y) (a cell of `step` × `step` of them).
    std::int64_t in_cell(long x, long y) const {
        if (value_.empty() || x < x0_ || y < y0_) {
            return none;
        }
        const long ix = (x - x0_) / step_;
        const long iy = (y - y0_) / step_;
        return ix < nx_ && iy < ny_ ? value_[index(ix, iy)] : none;
    }

    /// The highest value within reach of p. A point outside the grid looks from the nearest cell, whose
    /// reach holds everything p's reach holds.
    std::int64_t within_reach(geo p) const {
        if (within_.empty()) {
            return none;
        }
        auto [x, y] = candidate_index::cell_of(p);
        const long ix = std::clamp(x - x0_ < 0 ? -1 : (x - x0_) / step_, 0L, nx_ - 1);
        const long iy = std::clamp(y - y0_ < 0 ? -1 : (y - y0_) / step_, 0L, ny_ - 1);
        return within_[index(ix, iy)];
    }

  private:
    static constexpr long side_max = 1024;
    std::size_t index(long ix, long iy) const { return static_cast<std::size_t>(ix * ny_ + iy); }

    long x0_ = std::numeric_limits<long>::max();
    long y0_ = std::numeric_limits<long>::max();
    long step_ = 1;
    long nx_ = 0;
    long ny_ = 0;
    long rx_ = 0;
    long ry_ = 0;
    std::vector<std::int64_t> value_;
    std::vector<std::int64_t> within_;
};

}  // namespace

result solve_optimal(const instance& in, const graph& start) {
    // The graph grows: k edges per order to begin with, then whatever pricing says could help.
    graph g = start;
    std::vector<bool> forced(in.orders.size(), false);
    // What pricing knows of each order from earlier rounds: a lower bound (`slack`) on the reduced cost of
    // every feasible pair left out of the graph, as of the last round's potentials and the order's base then
    // (`last_base`). A pair's reduced cost changes by the change of the base minus the rise of its
    // resource's potential, so an order whose slack stays non-negative under the highest rise within reach
    // has no negative pair and is not searched again. `unknown`: search.
    constexpr std::int64_t unknown = std::numeric_limits<std::int64_t>::min();
    constexpr std::int64_t clear = std::numeric_limits<std::int64_t>::max() / 8;  // nothing within reach
    std::vector<std::int64_t> slack(in.orders.size(), unknown);
    std::vector<std::int64_t> last_base(in.orders.size(), 0);
    std::vector<std::int64_t> last_resource_pi;
    reach_max high(in);  // resource potentials
    reach_max rise(in);  // their rise since the last round
    for (;;) {
        flow_solver s(in, g, forced);
        s.run();
        // A two-worker order that got one worker is not served: leave it out and solve again without it.
        bool partial = false;
        for (std::uint32_t oi = 0; oi < in.orders.size(); ++oi) {
            const auto served = static_cast<int>(s.chosen()[oi].size());
            if (served > 0 && served < in.orders[oi].crew) {
                forced[oi] = true;
                partial = true;
            }
        }
        if (partial) {
            continue;
        }
        // Pricing with the solver's potentials: a feasible pair left out of the graph with a negative
        // reduced cost could lower the total; one with a non-negative one cannot. Pairs left out of an
        // order's start all cost at least its k-th edge, so most orders need no search.
        bool grown = false;
        if (g.index) {
            std::vector<std::int64_t> order_pi;
            std::vector<std::int64_t> resource_pi;
            s.potentials(order_pi, resource_pi);
            const auto per_round = static_cast<std::size_t>(std::max(1, in.w.edges_per_order));
            std::vector<std::pair<std::int64_t, edge>> found;
            // The highest resource potential, and its highest rise since the last round, within reach of each
            // place.
            high.clear();
            rise.clear();
            for (std::uint32_t r = 0; r < g.resources.size(); ++r) {
                const geo where = in.workers[g.resources[r].worker].location;
                high.raise(where, resource_pi[r]);
                if (!last_resource_pi.empty()) {
                    rise.raise(where, resource_pi[r] - last_resource_pi[r]);
                }
            }
            high.spread();
            if (!last_resource_pi.empty()) {
                rise.spread();
            }
            for (std::uint32_t oi = 0; oi < in.orders.size(); ++oi) {
                if (g.complete[oi] || forced[oi]) {
                    continue;
                }
                const order& o = in.orders[oi];
                const std::int64_t base = s.offset() + order_pi[oi];
                const std::int64_t highest = high.within_reach(o.location);
                // With the slack known, a pair left out can have turned negative only if its resource's
                // potential rose by more than `margin`: the search looks at those alone.
                std::int64_t margin = unknown;
                if (slack[oi] != unknown) {
                    margin = std::min(clear, slack[oi] + (base - last_base[oi]));
                    const std::int64_t risen = rise.within_reach(o.location);
                    if (risen == reach_max::none || risen <= margin) {
                        slack[oi] = risen == reach_max::none ? clear : margin - risen;
                        last_base[oi] = base;
                        continue;
                    }
                }
                last_base[oi] = base;
                if (highest == reach_max::none) {
                    slack[oi] = clear;
                    continue;
                }
                const std::int64_t below = highest - base;  // a pair must cost less than this to help
                const auto& first = start.by_order[oi];
                if (!first.empty() && below <= first.back().cost) {
                    slack[oi] = first.back().cost - below;  // every pair left out costs at least the k-th
                    continue;
                }
                auto& edges = g.by_order[oi];
                const std::size_t slot = o.meal_slot ? *o.meal_slot : 0;
                const unit at = unit_of(o.location);
                auto visit = [&](std::uint32_t wi, double lower) {
                    const std::uint32_t r = g.index->resource_for(wi, slot);
                    if (r == candidate_index::no_resource) {
                        return;
                    }
                    if ((margin != unknown && resource_pi[r] - last_resource_pi[r] <= margin) ||
                        (!std::isinf(lower) && beyond(lower, resource_pi[r] - base - 1))) {
                        return;
                    }
                    const worker& w = in.workers[wi];
                    if (!fits_found(o, w, lower)) {
                        return;
                    }
                    const double travel = g.index->travel(in, o, at, wi);
                    if (!feasible_with(in, o, w, travel)) {
                        return;
                    }
                    const std::int64_t c = hundredths(cost_with(in.w, o, w, travel));
                    const std::int64_t reduced = c + base - resource_pi[r];
                    if (reduced >= 0 || std::any_of(edges.begin(), edges.end(), [&](const edge& x) {
                            return x.resource == r;
                        })) {
                        return;
                    }
                    found.push_back({reduced, edge{oi, r, c}});
                };
                auto bound = [&]() -> std::int64_t { return below - 1; };
                // A cell helps only if its highest resource potential can beat the cheapest cost in it.
                auto cell_ok = [&](long x, long y, double lower) {
                    const std::int64_t h = high.in_cell(x, y);
                    return h != reach_max::none && !beyond(lower, h - base - 1) &&
                           (margin == unknown || rise.in_cell(x, y) > margin);
                };
                found.clear();
                g.index->scan(in, o, visit, bound, cell_ok);
                // The most negative few per order and round: a contested street would otherwise add its whole
                // service circle at once, most of which the next solve never uses. Every pair the search did
                // not find has a non-negative reduced cost; those found but not kept are searched for again.
                const std::size_t keep = std::min<std::size_t>(found.size(), per_round);
                slack[oi] = keep < found.size() ? unknown : 0;
                std::partial_sort(found.begin(),
                                  found.begin() + static_cast<long>(keep),
                                  found.end(),
                                  [](const auto& a, const auto& b) { return a.first < b.first; });
                for (std::size_t i = 0; i < keep; ++i) {
                    edges.push_back(found[i].second);
                }
                if (keep > 0) {
                    std::sort(edges.begin(), edges.end(), [](const edge& a, const edge& b) {
                        return a.cost != b.cost ? a.cost < b.cost : a.resource < b.resource;
                    });
                    grown = true;
                }
            }
            last_resource_pi = std::move(resource_pi);
        }
        if (!grown) {
            return make_result(in, g, s.chosen(), s.costs());  // optimal over every feasible pair
        }
    }
}

}  // namespace carematch::match
