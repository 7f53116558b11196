// carematch-overload: an open-loop load of POST /v1/orders against a running service, to see how it
// answers more than it can serve. Requests go out at a fixed rate whatever the answers (a closed loop would
// slow down with the server and hide its queueing); each has a unique Idempotency-Key. Latency counts from
// the moment a request was due, so that client-side waiting is not hidden either.
//
//   carematch-overload capacity HOST PORT TOKEN RECIPIENT SECONDS CONNECTIONS
//       closed loop with CONNECTIONS workers: prints the rate of 201s (the capacity)
//   carematch-overload open HOST PORT TOKEN RECIPIENT SECONDS RATE
//       open loop at RATE requests/s: prints goodput, refusals and latencies
//   carematch-overload get HOST PORT PATH - SECONDS CONNECTIONS
//       closed loop of GET PATH with CONNECTIONS workers: prints the rate of 200s (tests/bench/intake.sh sets
//       a trivial endpoint against nginx's `return 200` with it)
//
// Prints figures only; it asserts nothing (tests/load, not a test).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

struct target {
    std::string host;
    std::string port;
    std::string token;
    std::string recipient;
};

struct outcome {
    int status = 0;  // 0: no answer (connection failed)
    double ms = 0;
};

struct run_state {
    target t;
    std::deque<std::unique_ptr<beast::tcp_stream>> idle;
    std::vector<outcome> outcomes;
    std::uint64_t next_key = 0;
    std::string key_prefix;
    std::string get_path;  // "get" mode: GET this path instead of placing orders
    int ok_status = 201;
    std::size_t in_flight = 0;
    clock_type::time_point started = clock_type::now();
    clock_type::time_point last_answer = clock_type::now();
};

asio::awaitable<int> post_order(run_state& s, beast::tcp_stream& stream) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/v1/orders", 11};
    if (!s.get_path.empty()) {
        req.method(bhttp::verb::get);
        req.target(s.get_path);
    }
    req.set(bhttp::field::host, s.t.host);
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::authorization, "Bearer " + s.t.token);
    req.set("Idempotency-Key", s.key_prefix + std::to_string(s.next_key++));
    // An "as soon as possible" bath: a service with no serving hours, so the load runs at any time of day.
    if (s.get_path.empty()) {
        req.body() = R"({"recipient_id":")" + s.t.recipient + R"(","kind":"bath","sub_type":"home_bath"})";
    }
    req.keep_alive(true);
    req.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(stream, req, tuple);
    (void)wn;
    if (wec) {
        co_return 0;
    }
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, res, tuple);
    (void)rn;
    if (rec) {
        co_return 0;
    }
    co_return res.result_int();
}

asio::awaitable<std::unique_ptr<beast::tcp_stream>> take(run_state& s) {
    if (!s.idle.empty()) {
        auto c = std::move(s.idle.front());
        s.idle.pop_front();
        co_return c;
    }
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [ec, eps] = co_await resolver.async_resolve(s.t.host, s.t.port, tuple);
    auto c = std::make_unique<beast::tcp_stream>(ex);
    if (!ec) {
        auto [cec, ep] = co_await c->async_connect(eps, tuple);
        (void)ep;
        if (cec) {
            co_return nullptr;
        }
    }
    co_return c;
}

// One request due at `due`; its latency runs from then.
asio::awaitable<void> one(run_state& s, clock_type::time_point due) {
    ++s.in_flight;
    auto c = co_await take(s);
    int status = 0;
    if (c) {
        status = co_await post_order(s, *c);
    }
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - due).count();
    s.last_answer = std::max(s.last_answer, clock_type::now());
    outcome o;  // no braced initialiser inside a coroutine: GCC 12 miscompiles some
    o.status = status;
    o.ms = ms;
    s.outcomes.push_back(o);
    if (c && status != 0) {
        s.idle.push_back(std::move(c));
    }
    --s.in_flight;
}

asio::awaitable<void> open_loop(run_state& s, double rate, double seconds) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto start = clock_type::now();
    const auto n = static_cast<std::uint64_t>(rate * seconds);
    for (std::uint64_t k = 0; k < n; ++k) {
        const auto due =
            start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(k / rate));
        timer.expires_at(due);
        co_await timer.async_wait(tuple);
        asio::co_spawn(co_await asio::this_coro::executor, one(s, due), asio::detached);
    }
    while (s.in_flight > 0) {  // the stragglers
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(tuple);
    }
}

asio::awaitable<void> closed_worker(run_state& s, clock_type::time_point end) {
    while (clock_type::now() < end) {
        co_await one(s, clock_type::now());
    }
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Goodput counts answers over the time until the last one came, not over the time spent sending.
void report(const run_state& s, const char* mode, double rate) {
    const double seconds = std::chrono::duration<double>(s.last_answer - s.started).count();
    std::map<int, std::size_t> by_status;
    std::vector<double> accepted, refused;
    for (const auto& o : s.outcomes) {
        ++by_status[o.status];
        if (o.status == s.ok_status) {
            accepted.push_back(o.ms);
        } else if (o.status == 503 || o.status == 429) {
            refused.push_back(o.ms);
        }
    }
    std::printf(
        "mode=%s offered_rate=%.0f duration_s=%.1f sent=%zu accepted_share=%.4f goodput=%.1f/s "
        "accepted_p50_ms=%.1f "
        "accepted_p99_ms=%.1f "
        "refused=%zu refused_p99_ms=%.1f refused_max_ms=%.1f",
        mode,
        rate,
        seconds,
        s.outcomes.size(),
        s.outcomes.empty() ? 0.0
                           : static_cast<double>(accepted.size()) / static_cast<double>(s.outcomes.size()),
        static_cast<double>(accepted.size()) / seconds,
        percentile(accepted, 0.50),
        percentile(accepted, 0.99),
        refused.size(),
        percentile(refused, 0.99),
        refused.empty() ? 0.0 : *std::max_element(refused.begin(), refused.end()));
    for (const auto& [status, n] : by_status) {
        std::printf(" status_%d=%zu", status, n);
    }
    std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 8) {
        std::fprintf(
            stderr,
            "usage: %s capacity|open|get HOST PORT TOKEN|PATH RECIPIENT|- SECONDS CONNECTIONS|RATE\n",
            argv[0]);
        return 2;
    }
    const std::string mode = argv[1];
    asio::io_context io(1);  // before the state: its connections must close while the io_context lives
    run_state s;
    s.t = target{argv[2], argv[3], argv[4], argv[5]};
    const double seconds = std::stod(argv[6]);
    const double arg = std::stod(argv[7]);
    std::random_device rd;
    s.key_prefix = "load-" + std::to_string(rd()) + "-";
    if (mode == "get") {
        s.get_path = argv[4];
        s.ok_status = 200;
    }
    if (mode == "capacity" || mode == "get") {
        const auto end = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                 std::chrono::duration<double>(seconds));
        for (int w = 0; w < static_cast<int>(arg); ++w) {
            asio::co_spawn(io, closed_worker(s, end), asio::detached);
        }
        s.started = clock_type::now();
        io.run();
        report(s, mode.c_str(), 0);
    } else if (mode == "open") {
        s.started = clock_type::now();
        asio::co_spawn(io, open_loop(s, arg, seconds), asio::detached);
        io.run();
        report(s, "open", arg);
    } else {
        std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
        return 2;
    }
    return 0;
}
