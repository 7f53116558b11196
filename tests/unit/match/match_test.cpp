// Matching: hand-made cases for each rule, optimality against LEMON's min-cost flow, and properties on random
// cities.
#include <carematch/match/city.hpp>
#include <carematch/match/match.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <lemon/list_graph.h>
#include <lemon/network_simplex.h>
#include <map>
#include <set>

namespace carematch::match {
namespace {

using namespace city_catalog;

// A tiny scene: positions in km east/north of a point in Beijing.
geo at(double east_km, double north_km) {
    return {39.90 + north_km / 111.2,
            116.40 + east_km / (111.2 * std::cos(39.90 * 3.14159265358979 / 180.0))};
}

worker caregiver(std::uint32_t id, geo where) {
    worker w;
    w.id = id;
    w.location = where;
    w.skills = {skill(cleaning), skill(bath)};
    w.credentials = {{bathing_certificate, 100'000}};
    w.sex = gender::female;
    w.available = {{0, 24 * 60}};
    return w;
}

order cleaning_order(std::uint32_t id, geo where) {
    order o;
    o.id = id;
    o.kind = cleaning;
    o.skill = skill(cleaning);
    o.location = where;
    o.window = {480, 600};
    o.duration = 60;
    return o;
}

instance scene() {
    instance in;
    in.now = 480;
    in.w.kinds = {kind_profile{15, 20}, kind_profile{15, 15}, kind_profile{20, 15}, kind_profile{15, 15}};
    return in;
}

result solve(const instance& in, bool optimal = true) {
    auto g = build_graph(in);
    return optimal ? solve_optimal(in, g) : solve_greedy(in, g);
}

std::map<std::uint32_t, std::vector<std::uint32_t>> by_order(const result& r) {
    std::map<std::uint32_t, std::vector<std::uint32_t>> m;
    for (const auto& a : r.assignments) {
        m[a.order_id] = a.worker_ids;
    }
    return m;
}

TEST(match, priority_elder_wins_when_supply_is_short) {
    auto in = scene();
    in.workers = {caregiver(1, at(0, 0))};
    auto first = cleaning_order(10, at(0.5, 0));  // arrived first, a little closer
    auto frail = cleaning_order(11, at(0, 0.7));
    frail.ability_level = 4;
    frail.priority_categories = 2;  // 特困, living alone
    in.orders = {first, frail};
    auto optimal = by_order(solve(in));
    EXPECT_EQ(optimal.count(11), 1u);
    EXPECT_EQ(optimal.count(10), 0u);
    auto greedy = by_order(solve(in, false));
    EXPECT_EQ(greedy.count(10), 1u);  // the baseline serves by arrival
}

// "Served first" holds against the other terms at their largest: an ordinary order that has waited for hours,
// next door to the only worker, still yields that worker to a priority elder at the edge of the circle.
TEST(match, a_priority_elder_comes_before_any_other_order_within_reach) {
    auto in = scene();
    in.workers = {caregiver(1, at(0, 0))};
    auto waiting = cleaning_order(10, at(0.1, 0));
    waiting.ability_level = 2;
    waiting.waited = 300;                            // five hours
    auto priority = cleaning_order(11, at(0, 2.2));  // about 12 minutes away
    priority.ability_level = 3;
    in.orders = {waiting, priority};
    auto r = by_order(solve(in));
    EXPECT_EQ(r.count(11), 1u);
    EXPECT_EQ(r.count(10), 0u);
    // Between two ordinary orders, waiting still counts.
    priority.ability_level = 2;
    in.orders = {waiting, priority};
    r = by_order(solve(in));
    EXPECT_EQ(r.count(10), 1u);
}

TEST(match, exclusions_hold) {
    auto in = scene();
    in.workers = {caregiver(1, at(0, 0)), caregiver(2, at(2, 0))};
    auto o = cleaning_order(10, at(0.1, 0));
    o.excluded = {1};
    in.orders = {o};
    EXPECT_EQ(by_order(solve(in))[10], std::vector<std::uint32_t>{2});
    EXPECT_EQ(by_order(solve(in, false))[10], std::vector<std::uint32_t>{2});
}

TEST(match, a_known_caregiver_is_preferred_when_close) {
    auto in = scene();
    in.workers = {caregiver(1, at(0.2, 0)), caregiver(2, at(0.6, 0))};
    auto o = cleaning_order(10, at(0, 0));
    o.preferred = {2};
    in.orders = {o};
    EXPECT_EQ(by_order(solve(in))[10], std::vector<std::uint32_t>{2});
    in.workers[1].location = at(2.5, 0);  // now about ten minutes farther: the nearer stranger wins
    EXPECT_EQ(by_order(solve(in))[10], std::vector<std::uint32_t>{1});
}

TEST(match, the_travel_model_is_replaceable) {
    auto in = scene();
    in.workers = {caregiver(1, at(0.5, 0)), caregiver(2, at(0, 0.6))};
    in.orders = {cleaning_order(10, at(0, 0))};
    EXPECT_EQ(by_order(solve(in))[10], std::vector<std::uint32_t>{1});  // straight line: 1 is nearer
    // A river between the elder and worker 1: going east takes a bridge far away.
    in.w.travel_time = [](kind_id, geo from, geo to) {
        double minutes = haversine_km(from, to) * 1.3 / 15 * 60;
        return std::abs(from.lon - to.lon) > 0.001 ? minutes + 12 : minutes;
    };
    EXPECT_EQ(by_order(solve(in))[10], std::vector<std::uint32_t>{2});
}

TEST(match, an_expired_credential_is_infeasible) {
    auto in = scene();
    auto w = caregiver(1, at(0, 0));
    w.credentials = {{bathing_certificate, 500}};  // expires before the bath would end
    in.workers = {w};
    auto o = cleaning_order(10, at(0.1, 0));
    o.kind = bath;
    o.skill = skill(bath);
    o.credentials = {bathing_certificate};
    in.orders = {o};
    EXPECT_FALSE(feasible(in, o, w));
    auto r = solve(in);
    EXPECT_TRUE(r.assignments.empty());
    EXPECT_EQ(r.unassigned, std::vector<std::uint32_t>{10});
    in.workers[0].credentials[0].expires_at = 10'000;
    EXPECT_EQ(solve(in).assignments.size(), 1u);
}

TEST(match, preferences_availability_and_the_service_circle_hold) {
    auto in = scene();
    auto man = caregiver(1, at(0, 0));
    man.sex = gender::male;
    auto far = caregiver(2, at(6, 0));  // beyond 15 minutes by e-bike
    auto busy = caregiver(3, at(0.1, 0));
    busy.busy = {{470, 700}};
    auto off = caregiver(4, at(0.1, 0));
    off.available = {{900, 1200}};
    in.workers = {man, far, busy, off};
    auto o = cleaning_order(10, at(0, 0));
    o.wants_gender = gender::female;
    in.orders = {o};
    for (const auto& w : in.workers) {
        EXPECT_FALSE(feasible(in, o, w)) << w.id;
    }
    o.wants_gender = gender::unspecified;
    EXPECT_TRUE(feasible(in, o, man));
    o.wants_language = 3;
    EXPECT_FALSE(feasible(in, o, man));
}

TEST(match, a_two_worker_bath_gets_two_distinct_workers_or_none) {
    auto in = scene();
    in.workers = {caregiver(1, at(0, 0))};
    auto o = cleaning_order(10, at(0.1, 0));
    o.kind = bath;
    o.skill = skill(bath);
    o.credentials = {bathing_certificate};
    o.crew = 2;
    auto single = cleaning_order(11, at(1, 0));
    in.orders = {o, single};
    for (bool optimal : {true, false}) {
        auto m = by_order(solve(in, optimal));
        EXPECT_EQ(m.count(10), 0u);
        EXPECT_EQ(m[11], std::vector<std::uint32_t>{1});  // the lone worker goes where one suffices
    }
    in.workers.push_back(caregiver(2, at(0.3, 0)));
    in.workers.push_back(caregiver(3, at(1.1, 0)));
    for (bool optimal : {true, false}) {
        auto m = by_order(solve(in, optimal));
        ASSERT_EQ(m[10].size(), 2u);
        EXPECT_NE(m[10][0], m[10][1]);
        EXPECT_EQ(m[11].size(), 1u);
    }
}

TEST(match, canteen_capacity_is_never_exceeded) {
    auto in = scene();
    worker canteen;
    canteen.id = 1;
    canteen.location = at(0, 0);
    canteen.skills = {skill(meal)};
    canteen.meals_left = {3, 0};
    in.workers = {canteen};
    for (std::uint32_t i = 0; i < 5; ++i) {
        order o;
        o.id = 10 + i;
        o.kind = meal;
        o.skill = skill(meal);
        o.location = at(0.2 * i, 0.1);
        o.window = {480, 600};
        o.duration = 10;
        o.meal_slot = 0;
        in.orders.push_back(o);
    }
    order dinner = in.orders[0];
    dinner.id = 20;
    dinner.meal_slot = 1;  // no dinners left
    in.orders.push_back(dinner);
    for (bool optimal : {true, false}) {
        auto r = solve(in, optimal);
        EXPECT_EQ(r.assignments.size(), 3u);
        EXPECT_EQ(by_order(r).count(20), 0u);
    }
}

// ---- optimality against an independent min-cost flow (LEMON's network simplex) ----

std::int64_t oracle_cost(const instance& in, const graph& g) {
    using digraph = lemon::ListDigraph;
    digraph net;
    std::vector<digraph::Node> orders;
    std::vector<digraph::Node> resources;
    for (std::size_t i = 0; i < in.orders.size(); ++i) {
        orders.push_back(net.addNode());
    }
    for (std::size_t r = 0; r < g.resources.size(); ++r) {
        resources.push_back(net.addNode());
    }
    auto sink = net.addNode();
    digraph::ArcMap<std::int64_t> cap(net);
    digraph::ArcMap<std::int64_t> cost(net);
    digraph::NodeMap<std::int64_t> supply(net, 0);
    std::int64_t total = 0;
    for (std::size_t i = 0; i < in.orders.size(); ++i) {
        supply[orders[i]] = in.orders[i].crew;
        total += in.orders[i].crew;
        for (const auto& e : g.by_order[i]) {
            auto a = net.addArc(orders[i], resources[e.resource]);
            cap[a] = 1;
            cost[a] = e.cost;
        }
        auto u = net.addArc(orders[i], sink);
        cap[u] = in.orders[i].crew;
        cost[u] = g.penalty[i];
    }
    for (std::size_t r = 0; r < g.resources.size(); ++r) {
        auto a = net.addArc(resources[r], sink);
        cap[a] = g.resources[r].capacity;
        cost[a] = 0;
    }
    supply[sink] = -total;
    using simplex = lemon::NetworkSimplex<digraph, std::int64_t, std::int64_t>;
    simplex ns(net);
    ns.upperMap(cap).costMap(cost).supplyMap(supply);
    EXPECT_EQ(ns.run(), simplex::OPTIMAL);
    return ns.totalCost();
}

instance random_city(std::uint64_t seed, std::size_t orders, std::size_t workers) {
    city_settings s;
    s.seed = seed;
    s.orders = orders;
    s.workers = workers;
    s.size_km = 4;  // dense enough that orders compete for workers
    s.communities = 4;
    return generate_city(s);
}

// Every feasible pair, by brute force: what "optimal" is measured against.
graph full_graph(const instance& in) {
    graph g = build_graph(in);
    for (std::uint32_t oi = 0; oi < in.orders.size(); ++oi) {
        g.by_order[oi].clear();
        for (std::uint32_t r = 0; r < g.resources.size(); ++r) {
            const worker& w = in.workers[g.resources[r].worker];
            const order& o = in.orders[oi];
            if (g.resources[r].slot != (o.meal_slot ? static_cast<std::int32_t>(*o.meal_slot) : -1)) {
                continue;  // a canteen's other slots
            }
            if (feasible(in, o, w)) {
                g.by_order[oi].push_back({oi, r, std::llround(cost(in.w, o, w) * 100.0)});
            }
        }
    }
    return g;
}

// LEMON's optimum over every feasible pair, at supply 1 : 1, demand twice the supply and demand clustered in
// a few communities with local shortages, starting from 10, 1 or 3 edges per order.
TEST(match, optimal_equals_the_oracle_on_the_full_feasible_graph) {
    int compared = 0;
    for (std::uint64_t seed = 1; seed <= 45; ++seed) {
        const std::size_t orders = 40 + (seed * 37) % 261;  // 40 … 300
        std::size_t workers = orders;                       // 1 : 1
        if (seed % 3 == 1) {
            workers = orders / 2;  // 2 : 1
        }
        city_settings cs;
        cs.seed = seed;
        cs.orders = orders;
        cs.workers = workers;
        cs.size_km = seed % 3 == 2 ? 10 : 4;  // wide and clustered: shortages in some communities only
        cs.communities = seed % 3 == 2 ? 3 : 4;
        auto in = generate_city(cs);
        for (auto& o : in.orders) {
            o.crew = 1;  // the oracle's flow may split a crew; the exact all-or-nothing case is tested above
        }
        // Fewer edges to start from leave more to pricing, which must still reach the optimum.
        const int start_edges[] = {10, 1, 3};
        in.w.edges_per_order = start_edges[(seed / 3) % 3];
        auto g = build_graph(in);
        auto r = solve_optimal(in, g);
        EXPECT_EQ(std::llround(r.total_cost * 100), oracle_cost(in, full_graph(in)))
            << "seed " << seed << ", " << orders << " × " << workers;
        EXPECT_LE(r.total_cost, solve_greedy(in, g).total_cost + 1e-9) << "seed " << seed;
        ++compared;
    }
    EXPECT_EQ(compared, 45);
}

// Greedy looks at every worker in range, not only an order's k edges: with one edge per order it still finds
// the free worker farther out.
TEST(match, greedy_takes_the_nearest_free_worker_in_range_beyond_the_k_edges) {
    instance in = scene();
    in.w.edges_per_order = 1;
    in.workers.push_back(caregiver(1, at(0.2, 0)));
    in.workers.push_back(caregiver(2, at(1.5, 0)));
    in.orders.push_back(cleaning_order(1, at(0, 0)));
    in.orders.push_back(cleaning_order(2, at(0.1, 0)));
    in.orders[0].waited = 10;  // served first, takes worker 1
    auto r = solve(in, false);
    auto m = by_order(r);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[1], std::vector<std::uint32_t>{1});
    EXPECT_EQ(m[2], std::vector<std::uint32_t>{2});
}

TEST(match, every_assignment_is_feasible_and_no_worker_is_over_capacity) {
    for (std::uint64_t seed = 100; seed < 110; ++seed) {
        auto in = random_city(seed, 300, 150);
        std::map<std::uint32_t, const worker*> workers;
        for (const auto& w : in.workers) {
            workers[w.id] = &w;
        }
        std::map<std::uint32_t, const order*> orders;
        for (const auto& o : in.orders) {
            orders[o.id] = &o;
        }
        for (bool optimal : {true, false}) {
            auto r = solve(in, optimal);
            std::map<std::pair<std::uint32_t, std::uint32_t>, int> load;  // (worker, slot) → orders
            std::set<std::uint32_t> seen;
            for (const auto& a : r.assignments) {
                const order& o = *orders.at(a.order_id);
                EXPECT_TRUE(seen.insert(a.order_id).second);
                ASSERT_EQ(static_cast<int>(a.worker_ids.size()), o.crew);
                EXPECT_EQ(std::set<std::uint32_t>(a.worker_ids.begin(), a.worker_ids.end()).size(),
                          a.worker_ids.size());
                for (auto wid : a.worker_ids) {
                    EXPECT_TRUE(feasible(in, o, *workers.at(wid))) << "order " << o.id << " worker " << wid;
                    ++load[{wid, o.meal_slot.value_or(0)}];
                }
            }
            for (const auto& [key, n] : load) {
                const worker& w = *workers.at(key.first);
                int capacity = w.meals_left.empty() ? 1 : w.meals_left.at(key.second);
                EXPECT_LE(n, capacity) << "worker " << key.first;
            }
            EXPECT_EQ(r.assignments.size() + r.unassigned.size(), in.orders.size());
        }
    }
}

// The grid search against brute force from Hainan to Heilongjiang: each order's edges are exactly the k
// cheapest feasible pairs, wherever the cells are narrow.
TEST(match, the_candidate_search_equals_brute_force_at_every_latitude_of_china) {
    for (double lat : {18.0, 30.0, 40.0, 45.0, 45.75, 50.0, 52.97, 53.5}) {
        instance in = scene();
        in.w.edges_per_order = 5;
        const double km_per_deg_lon = 111.2 * std::cos(lat * 3.14159265358979 / 180.0);
        auto near = [&](double east_km, double north_km) {
            return geo{lat + north_km / 111.2, 126.0 + east_km / km_per_deg_lon};
        };
        std::uint32_t seed = static_cast<std::uint32_t>(lat * 100);
        auto next = [&seed] {
            seed = seed * 1664525u + 1013904223u;
            return static_cast<double>(seed >> 8) / static_cast<double>(1u << 24);
        };
        // Few workers, east and west of the orders out to the edge of the service circle, where narrow cells
        // used to hide them.
        for (std::uint32_t id = 1; id <= 12; ++id) {
            in.workers.push_back(caregiver(id, near((next() - 0.5) * 7.0, (next() - 0.5) * 0.4)));
        }
        for (std::uint32_t id = 1; id <= 40; ++id) {
            in.orders.push_back(cleaning_order(id, near((next() - 0.5) * 0.6, (next() - 0.5) * 0.4)));
        }
        // And one worker due east at the very edge of the circle, alone: it must be found.
        {
            instance edge_case = scene();
            edge_case.w.kinds[cleaning] = kind_profile{30, 15};  // a wide circle: many cells to the edge
            edge_case.orders.push_back(cleaning_order(1, near(0, 0)));
            const double per_km = travel_minutes(edge_case.w, cleaning, near(0, 0), near(1, 0));
            const double reach_km = edge_case.w.kinds[cleaning].circle_minutes / per_km;
            edge_case.workers.push_back(caregiver(1, near(0.99 * reach_km, 0)));
            ASSERT_TRUE(feasible(edge_case, edge_case.orders[0], edge_case.workers[0])) << "latitude " << lat;
            EXPECT_EQ(build_graph(edge_case).by_order[0].size(), 1u) << "latitude " << lat;
        }
        const graph g = build_graph(in);
        for (std::size_t oi = 0; oi < in.orders.size(); ++oi) {
            std::vector<std::int64_t> brute;
            for (const auto& w : in.workers) {
                if (feasible(in, in.orders[oi], w)) {
                    brute.push_back(std::llround(cost(in.w, in.orders[oi], w) * 100.0));
                }
            }
            std::sort(brute.begin(), brute.end());
            brute.resize(std::min<std::size_t>(brute.size(), 5));
            std::vector<std::int64_t> found;
            for (const auto& e : g.by_order[oi]) {
                found.push_back(e.cost);
            }
            std::sort(found.begin(), found.end());
            ASSERT_EQ(found.size(), brute.size()) << "latitude " << lat << ", order " << oi;
            for (std::size_t k = 0; k < found.size(); ++k) {
                EXPECT_NEAR(found[k], brute[k], 1)
                    << "latitude " << lat << ", order " << oi << ", edge " << k;
            }
        }
    }
}

}  // namespace
}  // namespace carematch::match
