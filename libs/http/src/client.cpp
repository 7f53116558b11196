// Keep-alive HTTP client over Beast with a per-host pool of idle connections.
#include <carematch/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

namespace carematch::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct client::impl {
    impl(asio::io_context& io, settings s) : io(io), cfg(s) {}

    asio::io_context& io;
    settings cfg;
    mutable std::mutex mutex;
    std::map<std::string, std::vector<std::unique_ptr<beast::tcp_stream>>> idle;

    std::unique_ptr<beast::tcp_stream> take(const std::string& key) {
        std::lock_guard lock(mutex);
        auto it = idle.find(key);
        if (it == idle.end() || it->second.empty()) {
            return nullptr;
        }
        auto s = std::move(it->second.back());
        it->second.pop_back();
        return s;
    }

    void give_back(const std::string& key, std::unique_ptr<beast::tcp_stream> s) {
        std::lock_guard lock(mutex);
        auto& v = idle[key];
        if (v.size() < cfg.max_idle_per_host) {
            v.push_back(std::move(s));
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

    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::unique_ptr<beast::tcp_stream> stream = i->take(key);
        const bool reused = stream != nullptr;
        if (!stream) {
            stream = std::make_unique<beast::tcp_stream>(co_await asio::this_coro::executor);
            tcp::resolver resolver(co_await asio::this_coro::executor);
            auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), tuple);
            if (rec) {
                co_return core::errc::unavailable;
            }
            stream->expires_after(i->cfg.timeout);
            auto [cec, ep] = co_await stream->async_connect(endpoints, tuple);
            (void)ep;
            if (cec) {
                co_return core::errc::unavailable;
            }
        }
        stream->expires_after(i->cfg.timeout);
        auto [wec, wn] = co_await bhttp::async_write(*stream, msg, tuple);
        (void)wn;
        beast::flat_buffer buffer;
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        boost::system::error_code rec;
        if (!wec) {
            auto [e, rn] = co_await bhttp::async_read(*stream, buffer, parser, tuple);
            (void)rn;
            rec = e;
        }
        if (wec || rec) {
            // A kept-alive connection the peer closed meanwhile: try once more on a fresh one.
            bool stale = reused && (wec || rec == bhttp::error::end_of_stream || rec == asio::error::eof ||
                                    rec == asio::error::connection_reset);
            if (stale && repeatable && attempt == 0) {
                continue;
            }
            co_return core::errc::unavailable;
        }
        auto& bres = parser.get();
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
