// The matching report: greedy and optimal side by side on seeded synthetic cities (1k×5k, 5k×20k, 20k×50k):
// candidate search and solve times, total and p95 travel, priority elders served, unassigned, and the ratios.
// Run: build/release/tests/bench/match-report [seed]
#include <carematch/match/city.hpp>
#include <carematch/match/match.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

namespace m = carematch::match;

namespace {

struct figures {
    double solve_ms = 0;
    double total_travel = 0;
    double p95_travel = 0;
    double priority_served = 0;  // share of priority elders (ability ≥ 3 or a priority category) served
    std::size_t unassigned = 0;
    double cost = 0;
};

bool is_priority(const m::order& o) {
    return o.ability_level >= 3 || o.priority_categories > 0;
}

figures measure(const m::instance& in, const m::graph& g, bool optimal) {
    auto start = std::chrono::steady_clock::now();
    auto r = optimal ? m::solve_optimal(in, g) : m::solve_greedy(in, g);
    figures f;
    f.solve_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::vector<double> travel;
    for (const auto& a : r.assignments) {
        travel.push_back(a.travel_minutes);
        f.total_travel += a.travel_minutes;
    }
    std::sort(travel.begin(), travel.end());
    f.p95_travel = travel.empty() ? 0 : travel[static_cast<std::size_t>(0.95 * (travel.size() - 1))];
    std::unordered_map<std::uint32_t, const m::order*> by_id;
    std::size_t priority = 0;
    for (const auto& o : in.orders) {
        by_id[o.id] = &o;
        priority += is_priority(o) ? 1 : 0;
    }
    std::size_t served = 0;
    for (const auto& a : r.assignments) {
        served += is_priority(*by_id[a.order_id]) ? 1 : 0;
    }
    f.priority_served = priority ? static_cast<double>(served) / priority : 1;
    f.unassigned = r.unassigned.size();
    f.cost = r.total_cost;
    return f;
}

void report(std::uint64_t seed, bool travel_only) {
    const std::pair<std::size_t, std::size_t> sizes[] = {{1000, 5000}, {5000, 20000}, {20000, 50000}};
    std::printf("\n%s\n\n",
                travel_only ? "Weights: travel only (no rating, continuity or fairness terms)"
                            : "Weights: the defaults");
    std::printf(
        "| orders × workers | solver | candidates ms | solve ms | total travel min | p95 travel min | "
        "priority served | unassigned | total cost |\n|---|---|---|---|---|---|---|---|---|\n");
    for (auto [orders, workers] : sizes) {
        m::city_settings s;
        s.seed = seed;
        s.orders = orders;
        s.workers = workers;
        auto in = m::generate_city(s);
        if (travel_only) {
            in.w.rating_bonus = 0;
            in.w.continuity_bonus = 0;
            in.w.fairness = 0;
        }
        auto start = std::chrono::steady_clock::now();
        auto g = m::build_graph(in);
        double graph_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        auto greedy = measure(in, g, false);
        auto optimal = measure(in, g, true);
        for (auto [name, f] : {std::pair{"greedy", greedy}, std::pair{"optimal", optimal}}) {
            std::printf("| %zuk × %zuk | %s | %.1f | %.1f | %.0f | %.1f | %.1f %% | %zu | %.0f |\n",
                        orders / 1000,
                        workers / 1000,
                        name,
                        graph_ms,
                        f.solve_ms,
                        f.total_travel,
                        f.p95_travel,
                        100 * f.priority_served,
                        f.unassigned,
                        f.cost);
        }
        std::printf("| | optimal ÷ greedy | | %.2f | %.3f | %.3f | | | |\n",
                    optimal.solve_ms / greedy.solve_ms,
                    optimal.total_travel / greedy.total_travel,
                    optimal.p95_travel / greedy.p95_travel);
    }
}

// Supply short: priority elders who could be reached by some worker, and how many of them one tick's solve
// serves (the service's figure: ≥ 99 % offered within one tick), against everyone else reachable.
void short_supply(std::uint64_t seed) {
    std::printf(
        "\nSupply short: one tick's solve (optimal), 2,000 orders, priority = ability ≥ 3 or a priority "
        "category\n\n| orders : workers | priority reachable | priority served in the tick | others "
        "reachable | others served | priority left while a worker in reach served another |\n"
        "|---|---|---|---|---|---|\n");
    for (std::size_t workers : {200, 500, 1000, 2000}) {
        std::size_t p_reach = 0, p_served = 0, o_reach = 0, o_served = 0, inversions = 0;
        for (std::uint64_t k = 0; k < 5; ++k) {
            m::city_settings s;
            s.seed = seed + k;
            s.orders = 2000;
            s.workers = workers;
            auto in = m::generate_city(s);
            auto g = m::build_graph(in);
            auto r = m::solve_optimal(in, g);
            std::vector<bool> served(in.orders.size(), false);
            std::unordered_map<std::uint32_t, std::size_t> index_of;
            for (std::size_t i = 0; i < in.orders.size(); ++i) {
                index_of[in.orders[i].id] = i;
            }
            // Which order each worker serves (by worker id).
            std::unordered_map<std::uint32_t, std::size_t> serving;
            for (const auto& a : r.assignments) {
                served[index_of[a.order_id]] = true;
                for (auto w : a.worker_ids) {
                    serving[w] = index_of[a.order_id];
                }
            }
            for (std::size_t i = 0; i < in.orders.size(); ++i) {
                if (g.by_order[i].empty()) {
                    continue;  // nobody could reach it this tick
                }
                auto& reach = is_priority(in.orders[i]) ? p_reach : o_reach;
                auto& got = is_priority(in.orders[i]) ? p_served : o_served;
                ++reach;
                got += served[i] ? 1 : 0;
                if (!served[i] && is_priority(in.orders[i])) {
                    // A priority inversion: a worker who could reach it serves an order that is not a
                    // priority.
                    for (const auto& e : g.by_order[i]) {
                        const auto w = in.workers[g.resources[e.resource].worker].id;
                        if (auto it = serving.find(w);
                            it != serving.end() && !is_priority(in.orders[it->second])) {
                            ++inversions;
                            break;
                        }
                    }
                }
            }
        }
        std::printf("| %.0f : 1 | %zu | %.1f %% | %zu | %.1f %% | %zu |\n",
                    2000.0 / static_cast<double>(workers),
                    p_reach,
                    p_reach ? 100.0 * static_cast<double>(p_served) / static_cast<double>(p_reach) : 100.0,
                    o_reach,
                    o_reach ? 100.0 * static_cast<double>(o_served) / static_cast<double>(o_reach) : 100.0,
                    inversions);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
    std::printf("seed %llu; single-threaded\n", static_cast<unsigned long long>(seed));
    report(seed, false);
    report(seed, true);
    short_supply(seed);
    return 0;
}
