// carematch-realtime-load: the realtime figures. Opens idle WebSockets as distinct families (tokens minted
// with the platform's signing key, given on the command line), reads the server's RSS before and after, then
// puts order events on a street's streams open-loop at a rate, one in ten an offer to a connected worker, and
// prints the event → delivered latency and the share of offers delivered before their expiry. Asserts
// nothing.
//
// Usage: carematch-realtime-load PORT SIGNING_KEY REDIS_PORT STREET SERVER_PID IDLE LIVE RATE SECONDS
#include <carematch/auth/caller.hpp>
#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using namespace carematch;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

long rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

struct results {
    std::mutex mutex;
    std::vector<double> latency_ms;
    std::atomic<long> connected{0}, failed{0}, frames{0}, offers{0}, offers_in_time{0};
};

asio::awaitable<void> client(std::uint16_t port, std::string token, results& r) {
    auto ex = co_await asio::this_coro::executor;
    beast::websocket::stream<beast::tcp_stream> ws(ex);
    auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), tuple_awaitable);
    if (cec) {
        ++r.failed;
        co_return;
    }
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(beast::websocket::stream_base::decorator([token](beast::websocket::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, "carematch.v1, bearer." + token);
    }));
    auto [hec] = co_await ws.async_handshake("127.0.0.1", "/v1/ws", tuple_awaitable);
    if (hec) {
        ++r.failed;
        co_return;
    }
    ++r.connected;
    beast::flat_buffer b;
    for (;;) {
        auto [ec, n] = co_await ws.async_read(b, tuple_awaitable);
        if (ec) {
            co_return;
        }
        const auto at = now_us();
        boost::system::error_code pec;
        auto v = json::parse(beast::buffers_to_string(b.data()), pec);
        b.consume(b.size());
        if (pec || !v.is_object() || !v.as_object().contains("data")) {
            continue;
        }
        ++r.frames;
        const auto& d = v.at("data").as_object();
        if (const auto* sent = d.if_contains("at"); sent != nullptr && sent->is_string()) {
            const double ms = (at - std::stoll(std::string(sent->as_string()))) / 1000.0;
            std::lock_guard lock(r.mutex);
            r.latency_ms.push_back(ms);
        }
        if (const auto* exp = d.if_contains("expires_at"); exp != nullptr && exp->is_string()) {
            ++r.offers;
            // expires_at carries the expiry in µs since the epoch (this tool's own events).
            if (at < std::stoll(std::string(exp->as_string()))) {
                ++r.offers_in_time;
            }
        }
    }
}

double pct(std::vector<double>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
    return v[i];
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    if (argc != 10) {
        std::fprintf(stderr,
                     "usage: %s PORT SIGNING_KEY REDIS_PORT STREET SERVER_PID IDLE LIVE RATE SECONDS\n",
                     argv[0]);
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
    const auto key = auth::parse_signing_key(argv[2]);
    const int redis_port = std::stoi(argv[3]);
    const std::string street = argv[4];
    const int server_pid = std::stoi(argv[5]);
    const int idle = std::stoi(argv[6]);
    const int live = std::min(std::stoi(argv[7]), idle);
    const int rate = std::stoi(argv[8]);
    const int seconds = std::stoi(argv[9]);

    core::system_clock clock;
    auth::token_settings ts;
    ts.access_ttl = std::chrono::hours(1);
    auth::token_issuer issuer(key, ts, clock);
    std::vector<std::string> users(static_cast<std::size_t>(idle));
    for (auto& u : users) {
        u = core::new_uuid();
    }

    asio::io_context io(1);
    results r;
    const long before = rss_kib(server_pid);
    std::thread runner([&] {
        auto guard = asio::make_work_guard(io);
        io.run();
    });
    // In waves of 200, as clients arrive in the morning: 10,000 connects at once only overflow the backlog.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
    for (int i = 0; i < idle; ++i) {
        auth::caller who;
        who.id = users[static_cast<std::size_t>(i)];
        who.role = i % 10 == 0 ? auth::role::worker : auth::role::family;
        asio::post(io,
                   [&, t = issuer.issue(who)] { asio::co_spawn(io, client(port, t, r), asio::detached); });
        while (r.connected + r.failed < i + 1 - 200 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    while (r.connected + r.failed < idle && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let the server settle its buffers before reading
    const long after = rss_kib(server_pid);
    std::printf(
        "idle connections: %ld open, %ld failed; server RSS %ld → %ld KiB: %.1f KiB per connection\n",
        r.connected.load(),
        r.failed.load(),
        before,
        after,
        r.connected > 0 ? static_cast<double>(after - before) / static_cast<double>(r.connected) : 0.0);

    // Open loop: `rate` events a second to the first `live` users, one in ten an offer to a worker.
    asio::io_context pub_io(1);
    core::redis_settings where;
    where.host = "127.0.0.1";
    where.port = static_cast<std::uint16_t>(redis_port);
    redis::client redis(pub_io, where);
    long sent = 0, offers_sent = 0, pending = 0;
    asio::co_spawn(
        pub_io,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer t(pub_io);
            const auto start = std::chrono::steady_clock::now();
            const long total = static_cast<long>(rate) * seconds;
            for (long i = 0; i < total; ++i) {
                t.expires_at(start + std::chrono::microseconds(i * 1'000'000 / rate));
                co_await t.async_wait(tuple_awaitable);
                const auto u = static_cast<std::size_t>(i % live);
                const bool offer = u % 10 == 0;
                json::object p{{"order_id", core::new_uuid()}, {"at", std::to_string(now_us())}};
                std::string stream = "carematch:{region:" + street + "}:orders";
                std::string type = "order.cancelled";
                if (offer) {
                    stream = "carematch:{region:" + street + "}:matching";
                    type = "order.offered";
                    p["worker_id"] = users[u];
                    p["offer_id"] = core::new_uuid();
                    p["expires_at"] = std::to_string(now_us() + 60'000'000);
                    ++offers_sent;
                } else {
                    p["family_id"] = users[u];
                    p["status"] = "cancelled";
                }
                std::vector<std::string> args{"XADD",
                                              stream,
                                              "*",
                                              "id",
                                              core::new_uuid(),
                                              "type",
                                              type,
                                              "payload",
                                              json::serialize(p),
                                              "occurred_at",
                                              "2026-01-01T00:00:00Z"};
                ++pending;
                asio::co_spawn(
                    pub_io,
                    [&redis, &pending, a = std::move(args)]() mutable -> asio::awaitable<void> {
                        co_await redis.command(std::move(a));
                        --pending;
                    },
                    asio::detached);
                ++sent;
            }
            while (pending > 0) {
                t.expires_after(std::chrono::milliseconds(10));
                co_await t.async_wait(tuple_awaitable);
            }
            pub_io.stop();  // the Redis client would keep it running
        },
        asio::detached);
    pub_io.run();
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the last events' delivery
    io.stop();
    runner.join();

    std::lock_guard lock(r.mutex);
    auto& v = r.latency_ms;
    std::printf("events: %ld sent at %d/s over %d s to %d users; %zu delivered\n",
                sent,
                rate,
                seconds,
                live,
                v.size());
    std::printf("event → delivered ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n",
                pct(v, 0.5),
                pct(v, 0.9),
                pct(v, 0.99),
                pct(v, 1.0));
    std::printf("offers: %ld sent, %ld delivered, %ld before their expiry (%.1f %%)\n",
                offers_sent,
                r.offers.load(),
                r.offers_in_time.load(),
                offers_sent > 0
                    ? 100.0 * static_cast<double>(r.offers_in_time) / static_cast<double>(offers_sent)
                    : 0.0);
    return 0;
}
