// Matching: candidate search, feasibility, cost, and the two solvers (greedy baseline and optimal).
#pragma once

#include <carematch/match/model.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace carematch::match {

/// Straight-line distance in km.
double haversine_km(geo a, geo b) noexcept;

/// Travel time in minutes for `kind` from a to b: weights.travel_time when set, else haversine × road factor
/// ÷ speed.
double travel_minutes(const weights& w, kind_id kind, geo a, geo b) noexcept;

/// Whether `w` may serve `o` at all: skill, credentials valid through the job, service circle, free for the
/// window including travel, gender and language preferences, not excluded, a meal left for the slot.
bool feasible(const instance& in, const order& o, const worker& w) noexcept;

/// The cost of giving `o` to `w` (feasibility is not checked).
double cost(const weights& wt, const order& o, const worker& w) noexcept;

/// The penalty for leaving `o` unassigned: grows with ability level, priority categories and waiting.
double unassigned_penalty(const weights& wt, const order& o) noexcept;

/// A feasible pair with its cost (integer hundredths, so that solvers compare exactly).
struct edge {
    std::uint32_t order = 0;     // index into instance.orders
    std::uint32_t resource = 0;  // index into the resource list
    std::int64_t cost = 0;
};

/// A unit of supply: a person (capacity 1), or one meal slot of a canteen (capacity = meals left).
struct resource {
    std::uint32_t worker = 0;  // index into instance.workers
    std::int32_t slot = -1;    // meal slot, or -1
    int capacity = 1;
};

struct candidate_index;  // the spatial grid the graph was built with (match.cpp)

/// The sparse graph a tick starts from: each order's k cheapest feasible edges, found through a spatial grid
/// that the graph keeps, so that the solvers can look farther when that could help.
struct graph {
    std::vector<resource> resources;
    std::vector<std::vector<edge>> by_order;  // sorted by cost
    std::vector<std::int64_t> penalty;        // per order, hundredths
    std::vector<bool> complete;               // per order: by_order holds every feasible edge
    std::shared_ptr<const candidate_index> index;
};

graph build_graph(const instance& in);

/// Orders longest waiting first, each taking the nearest free feasible worker(s) among all workers in range
/// (not only its k edges). The baseline.
result solve_greedy(const instance& in, const graph& g);

/// Minimum total cost (assignments plus unassigned penalties) over every feasible pair, not only the graph's
/// k edges per order: successive shortest paths with potentials and early exit on the graph, then, while the
/// potentials say a feasible pair left out would lower the cost (a negative reduced cost), those pairs are
/// added and the graph is solved again. A two-worker order gets two distinct workers or none.
result solve_optimal(const instance& in, const graph& g);

}  // namespace carematch::match
