// Google Benchmark of candidate search and the two solvers on the synthetic city.
#include <carematch/match/city.hpp>
#include <carematch/match/match.hpp>

#include <benchmark/benchmark.h>

#include <map>

namespace m = carematch::match;

namespace {

const m::instance& city(std::size_t orders, std::size_t workers) {
    static std::map<std::pair<std::size_t, std::size_t>, m::instance> cache;
    auto key = std::pair{orders, workers};
    auto it = cache.find(key);
    if (it == cache.end()) {
        m::city_settings s;
        s.orders = orders;
        s.workers = workers;
        it = cache.emplace(key, m::generate_city(s)).first;
    }
    return it->second;
}

void candidates(benchmark::State& state) {
    const auto& in = city(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(m::build_graph(in));
    }
}

void greedy(benchmark::State& state) {
    const auto& in = city(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    auto g = m::build_graph(in);
    for (auto _ : state) {
        benchmark::DoNotOptimize(m::solve_greedy(in, g));
    }
}

void optimal(benchmark::State& state) {
    const auto& in = city(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    auto g = m::build_graph(in);
    for (auto _ : state) {
        benchmark::DoNotOptimize(m::solve_optimal(in, g));
    }
}

// A whole tick as the service runs it: candidate search and the exact solver (pricing included).
void tick(benchmark::State& state) {
    const auto& in = city(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    for (auto _ : state) {
        auto g = m::build_graph(in);
        benchmark::DoNotOptimize(m::solve_optimal(in, g));
    }
}

}  // namespace

BENCHMARK(candidates)->Args({1000, 5000})->Args({5000, 20000})->Unit(benchmark::kMillisecond);
BENCHMARK(greedy)->Args({1000, 5000})->Args({5000, 20000})->Unit(benchmark::kMillisecond);
BENCHMARK(optimal)->Args({1000, 5000})->Args({5000, 20000})->Unit(benchmark::kMillisecond);
BENCHMARK(tick)
    ->Args({1000, 1000})
    ->Args({1000, 2000})
    ->Args({5000, 5000})
    ->Args({5000, 20000})
    ->Unit(benchmark::kMillisecond);
