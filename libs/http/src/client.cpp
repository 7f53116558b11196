// Keep-alive HTTP client over Beast with a per-host pool of idle connections.
#include <carematch/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace carematch::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

using stream_ptr = std::unique_ptr<beast::tcp_stream>;

struct exchange_result {
    bool connect_failed = false;
    boost::system::error_code write_error;
    boost::system::error_code read_error;
    std::optional<bhttp::response<bhttp::string_body>> answer;
};

// One request and its answer on `stream`, run on the stream's own strand (a pooled stream is used by
// coroutines of many connections, never by two strands' handlers at once).
asio::awaitable<exchange_result> exchange(beast::tcp_stream& stream,
                                          std::string host,
                                          std::uint16_t port,
                                          const bhttp::request<bhttp::string_body>& msg,
                                          std::chrono::milliseconds timeout,
                                          bool connect) {
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    exchange_result out;
    if (connect) {
        tcp::resolver resolver(co_await asio::this_coro::executor);
        auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), tuple);
        if (rec) {
            out.connect_failed = true;
            co_return out;
        }
        stream.expires_after(timeout);
        auto [cec, ep] = co_await stream.async_connect(endpoints, tuple);
        (void)ep;
        if (cec) {
            out.connect_failed = true;
            co_return out;
        }
    }
    stream.expires_after(timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, msg, tuple);
    (void)wn;
    out.write_error = wec;
    if (wec) {
        co_return out;
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, tuple);
    (void)rn;
    out.read_error = rec;
    if (!rec) {
        out.answer = parser.release();
    }
    co_return out;
}

}  // namespace

struct client::impl {
    impl(asio::io_context& io, settings s) : io(io), cfg(s) {}

    asio::io_context& io;
    settings cfg;
    mutable std::mutex mutex;
    struct idle_stream {
        stream_ptr stream;
        std::chrono::steady_clock::time_point since;
    };
    std::map<std::string, std::vector<idle_stream>> idle;

    // The most recently returned idle connection that is young enough; older ones are closed (the peer's own
    // keep-alive timeout may already have closed them).
    stream_ptr take(const std::string& key) {
        std::lock_guard lock(mutex);
        auto it = idle.find(key);
        if (it == idle.end()) {
            return nullptr;
        }
        const auto now = std::chrono::steady_clock::now();
        auto& v = it->second;
        std::erase_if(v, [&](const idle_stream& s) { return now - s.since > cfg.max_idle_age; });
        if (v.empty()) {
            return nullptr;
        }
        auto s = std::move(v.back().stream);
        v.pop_back();
        return s;
    }

    void give_back(const std::string& key, stream_ptr s) {
        std::lock_guard lock(mutex);
        auto& v = idle[key];
        if (v.size() < cfg.max_idle_per_host) {
            v.push_back({std::move(s), std::chrono::steady_clock::now()});
        }
    }
};

client::client(asio::io_context& io) : client(io, settings{}) {}
client::client(asio::io_context& io, settings s) : impl_(std::make_shared<impl>(io, s)) {}
client::~client() = default;

std::size_t client::idle_connections() const {
    std::lock_guard lock(impl_->mutex);
    std::size_t n = 0;
    for (const auto& [k, v] : impl_->idle) {
        n += v.size();
    }
    return n;
}

asio::awaitable<core::result<response>> client::send(std::string host, std::uint16_t port, outgoing req) {
    auto i = impl_;
    const std::string key = host + ":" + std::to_string(port);
    const bool repeatable = req.method == "GET" || req.method == "HEAD" || req.method == "PUT" ||
                            req.method == "DELETE" ||
                            std::any_of(req.headers.begin(), req.headers.end(), [](const auto& h) {
                                return h.first == "Idempotency-Key" || h.first == "idempotency-key";
                            });

    bhttp::request<bhttp::string_body> msg{bhttp::string_to_verb(req.method), req.target, 11};
    msg.set(bhttp::field::host, host);
    for (const auto& [k, v] : req.headers) {
        msg.set(k, v);
    }
    msg.body() = req.body;
    msg.keep_alive(true);
    msg.prepare_payload();

    for (int attempt = 0; attempt < 2; ++attempt) {
        // The second attempt never takes another pooled connection: it may be as stale as the first.
        stream_ptr stream = attempt == 0 ? i->take(key) : nullptr;
        const bool reused = stream != nullptr;
        if (!stream) {
            stream = std::make_unique<beast::tcp_stream>(asio::make_strand(i->io));
        }
        auto r = co_await asio::co_spawn(stream->get_executor(),
                                         exchange(*stream, host, port, msg, i->cfg.timeout, !reused),
                                         asio::use_awaitable);
        if (r.connect_failed) {
            co_return core::errc::unavailable;
        }
        if (r.write_error || r.read_error) {
            // A kept-alive connection the peer closed meanwhile: try once more on a fresh one.
            const auto rec = r.read_error;
            bool stale =
                reused && (r.write_error || rec == bhttp::error::end_of_stream || rec == asio::error::eof ||
                           rec == asio::error::connection_reset || rec == asio::error::broken_pipe);
            if (stale && repeatable && attempt == 0) {
                continue;
            }
            co_return core::errc::unavailable;
        }
        auto& bres = *r.answer;
        response out;
        out.status = static_cast<int>(bres.result_int());
        for (const auto& f : bres) {
            out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        }
        out.body = std::move(bres.body());
        if (bres.keep_alive()) {
            i->give_back(key, std::move(stream));
        }
        co_return out;
    }
    co_return core::errc::unavailable;
}

}  // namespace carematch::http
