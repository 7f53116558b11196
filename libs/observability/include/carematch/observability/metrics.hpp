// Request metrics (counts by route and status, a latency histogram, in-flight) and gauges, in Prometheus
// text.
#pragma once

#include <carematch/http/middleware.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace carematch::observability {

class metrics {
  public:
    /// Records one finished request.
    void observe(std::string_view method, std::string_view route, int status, double seconds);

    void in_flight_add(int delta) noexcept;

    /// A gauge whose value is read each time the metrics are rendered; `name` may carry labels
    /// (`name{service="orders"}`).
    void add_gauge(std::string name, std::string help, std::function<double()> read);

    /// The Prometheus text exposition (version 0.0.4).
    std::string render() const;

    /// Upper bounds of the latency histogram, in seconds.
    static const std::vector<double>& buckets();

  private:
    struct histogram {
        std::vector<std::uint64_t> counts;  // cumulative per bucket, filled at render
        std::uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    // Transparent: a request is counted by string_views, so that only a route's first request allocates.
    struct by_view {
        using is_transparent = void;
        template <class A, class B>
        bool operator()(const A& a, const B& b) const {
            return view(a) < view(b);
        }
        template <class... T>
        static auto view(const std::tuple<T...>& t) {
            return std::apply([](const auto&... x) { return std::tuple{as_view(x)...}; }, t);
        }
        static std::string_view as_view(const std::string& s) { return s; }
        static std::string_view as_view(std::string_view s) { return s; }
        static int as_view(int i) { return i; }
    };
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t, by_view> requests_;
    std::map<std::tuple<std::string, std::string>, histogram, by_view> latency_;
    std::atomic<long> in_flight_{0};
    struct gauge {
        std::string name, help;
        std::function<double()> read;
    };
    std::vector<gauge> gauges_;
};

/// Counts each request into `m` by method, matched route (not the raw path) and status.
http::middleware measure(metrics& m);

}  // namespace carematch::observability
