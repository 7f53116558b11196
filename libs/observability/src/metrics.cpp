// Metric storage and Prometheus rendering.
#include <carematch/observability/metrics.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace carematch::observability {
namespace {

std::string label_value(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

}  // namespace

const std::vector<double>& metrics::buckets() {
    static const std::vector<double> b{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    return b;
}

void metrics::observe(std::string_view method, std::string_view route, int status, double seconds) {
    std::lock_guard lock(mutex_);
    auto count = requests_.find(std::tuple<std::string_view, std::string_view, int>{method, route, status});
    if (count == requests_.end()) {
        count = requests_.emplace(std::tuple{std::string(method), std::string(route), status}, 0).first;
    }
    ++count->second;
    auto seen = latency_.find(std::tuple<std::string_view, std::string_view>{method, route});
    if (seen == latency_.end()) {
        seen = latency_.emplace(std::tuple{std::string(method), std::string(route)}, histogram{}).first;
    }
    auto& h = seen->second;
    if (h.counts.empty()) {
        h.counts.assign(buckets().size(), 0);
    }
    for (std::size_t i = 0; i < buckets().size(); ++i) {
        if (seconds <= buckets()[i]) {
            ++h.counts[i];
            break;  // per-bucket here; cumulative at render
        }
    }
    ++h.count;
    h.sum += seconds;
}

void metrics::in_flight_add(int delta) noexcept {
    in_flight_ += delta;
}

void metrics::add_gauge(std::string name, std::string help, std::function<double()> read) {
    std::lock_guard lock(mutex_);
    gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string metrics::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    out += "# HELP carematch_http_requests_total HTTP requests by method, route and status.\n";
    out += "# TYPE carematch_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
        const auto& [method, route, status] = key;
        out += "carematch_http_requests_total{method=\"" + label_value(method) + "\",route=\"" +
               label_value(route) + "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) +
               "\n";
    }
    out += "# HELP carematch_http_request_duration_seconds HTTP request latency.\n";
    out += "# TYPE carematch_http_request_duration_seconds histogram\n";
    for (const auto& [key, h] : latency_) {
        std::string labels = "method=\"" + label_value(std::get<0>(key)) + "\",route=\"" +
                             label_value(std::get<1>(key)) + "\"";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < buckets().size(); ++i) {
            cumulative += h.counts[i];
            out += "carematch_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
                   number(buckets()[i]) + "\"} " + std::to_string(cumulative) + "\n";
        }
        out += "carematch_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
               std::to_string(h.count) + "\n";
        out += "carematch_http_request_duration_seconds_sum{" + labels + "} " + number(h.sum) + "\n";
        out +=
            "carematch_http_request_duration_seconds_count{" + labels + "} " + std::to_string(h.count) + "\n";
    }
    out += "# HELP carematch_http_requests_in_flight HTTP requests being handled.\n";
    out += "# TYPE carematch_http_requests_in_flight gauge\n";
    out += "carematch_http_requests_in_flight " + std::to_string(in_flight_.load()) + "\n";
    // A gauge's name may carry labels ("x{service=\"orders\"}"): each metric's samples follow its one HELP
    // and TYPE.
    auto metric_of = [](const gauge& g) { return std::string_view(g.name).substr(0, g.name.find('{')); };
    std::vector<std::string_view> described;
    for (const auto& g : gauges_) {
        const auto metric = metric_of(g);
        if (std::find(described.begin(), described.end(), metric) != described.end()) {
            continue;
        }
        described.push_back(metric);
        out += "# HELP " + std::string(metric) + " " + g.help + "\n";
        out += "# TYPE " + std::string(metric) + " gauge\n";
        for (const auto& same : gauges_) {
            if (metric_of(same) == metric) {
                out += same.name + " " + number(same.read()) + "\n";
            }
        }
    }
    return out;
}

http::middleware measure(metrics& m) {
    return [&m](http::request& req, const http::handler& next) -> boost::asio::awaitable<http::response> {
        auto start = std::chrono::steady_clock::now();
        m.in_flight_add(1);
        struct leave {
            metrics& m;
            ~leave() { m.in_flight_add(-1); }
        } guard{m};
        http::response res = co_await next(req);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        m.observe(req.method, req.route.empty() ? "unmatched" : req.route, res.status, secs);
        co_return res;
    };
}

}  // namespace carematch::observability
