// Beast-based HTTP server: accept loop, per-connection coroutine, limits, shutdown.
#include <carematch/core/log.hpp>
#include <carematch/http/server.hpp>
#include <carematch/http/websocket.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

namespace carematch::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace bws = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// A connection's executor: its own strand when several threads run the io_context; the io_context itself
// when one does (it serialises everything already, and a strand per connection costs a trivial request a
// lock and an executor copy on every completion).
using strand_type = asio::any_io_executor;

// An upgraded connection: the Beast stream, a bounded send queue drained by one writer, and closing.
class ws_session final : public websocket, public std::enable_shared_from_this<ws_session> {
  public:
    ws_session(beast::tcp_stream&& s, strand_type strand, const websocket_upgrade& u)
        : ws(std::move(s)), strand_(std::move(strand)), limit_(u.send_queue), hard_close_(strand_) {}

    bws::stream<beast::tcp_stream> ws;

    asio::awaitable<std::optional<std::string>> read() override {
        auto [ec, n] = co_await ws.async_read(in_, tuple_awaitable);
        (void)n;
        if (ec) {
            open_ = false;
            co_return std::nullopt;
        }
        std::string text = beast::buffers_to_string(in_.data());
        in_.consume(in_.size());
        co_return text;
    }

    bool send(std::string text) override {
        if (!open_) {
            return false;
        }
        // The queue's size is known only on the strand; a full queue closes the socket there.
        asio::post(strand_, [self = shared_from_this(), t = std::move(text)]() mutable {
            self->enqueue(std::move(t));
        });
        return true;
    }

    void close(std::uint16_t code, std::string reason) override {
        asio::post(strand_, [self = shared_from_this(), code, r = std::move(reason)]() mutable {
            self->begin_close(code, std::move(r));
        });
    }

    bool is_open() const noexcept override { return open_; }

  private:
    void enqueue(std::string text) {
        if (closing_) {
            return;
        }
        if (queue_.size() >= limit_) {
            begin_close(1013, "client too slow; reconnect");
            return;
        }
        queue_.push_back(std::move(text));
        if (!writing_) {
            writing_ = true;
            asio::co_spawn(strand_, write_loop(shared_from_this()), asio::detached);
        }
    }

    static asio::awaitable<void> write_loop(std::shared_ptr<ws_session> self) {
        while (!self->queue_.empty() && !self->closing_) {
            self->ws.text(true);
            auto [ec, n] = co_await self->ws.async_write(asio::buffer(self->queue_.front()), tuple_awaitable);
            (void)n;
            self->queue_.pop_front();
            if (ec) {
                self->open_ = false;
                self->queue_.clear();
                break;
            }
        }
        self->writing_ = false;
        if (self->closing_) {
            co_await self->finish_close();
        }
    }

    void begin_close(std::uint16_t code, std::string reason) {
        if (closing_) {
            return;
        }
        closing_ = true;
        open_ = false;
        // The frame being written stays until its write completes; the rest is dropped.
        queue_.erase(writing_ && !queue_.empty() ? queue_.begin() + 1 : queue_.begin(), queue_.end());
        reason_ = bws::close_reason(static_cast<bws::close_code>(code), reason);
        // A peer that reads nothing (its window full, a write pending for ever) gets its connection cut.
        hard_close_.expires_after(std::chrono::seconds(5));
        hard_close_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                boost::system::error_code ignored;
                self->ws.next_layer().socket().close(ignored);
            }
        });
        if (!writing_) {
            asio::co_spawn(
                strand_,
                [self = shared_from_this()]() -> asio::awaitable<void> { co_await self->finish_close(); },
                asio::detached);
        }
    }

    asio::awaitable<void> finish_close() {
        if (close_sent_) {
            co_return;
        }
        close_sent_ = true;
        if (ws.is_open()) {
            auto [ec] = co_await ws.async_close(reason_, tuple_awaitable);
            (void)ec;
        }
        hard_close_.cancel();
    }

    strand_type strand_;
    std::size_t limit_;
    beast::flat_buffer in_;
    std::deque<std::string> queue_;  // on the strand
    bool writing_ = false;           // on the strand
    bool closing_ = false;           // on the strand
    bool close_sent_ = false;        // on the strand
    bws::close_reason reason_;
    asio::steady_timer hard_close_;
    std::atomic<bool> open_{true};
};

struct connection {
    explicit connection(strand_type s) : strand(std::move(s)) {}

    strand_type strand;
    beast::tcp_stream* stream = nullptr;  // valid while the session coroutine runs; touched only on strand
    bool idle = true;                     // waiting for the next request
    bool timed_out = false;               // the request deadline fired
    std::uint64_t generation = 0;         // which request a deadline belongs to
    std::weak_ptr<ws_session> ws;         // set once upgraded
    asio::cancellation_signal cancel;     // bound to the session: a passed handler deadline emits it
};

// A handler's deadline on the connection's strand: one timer per connection, re-armed for each request. When
// it passes, the session's cancellation signal cancels whatever the handler waits for; a generation keeps a
// completion that was already queued from touching a later request.
class handler_deadline final : public request_deadline {
  public:
    explicit handler_deadline(connection& c) : conn_(c), timer_(c.strand) {}
    ~handler_deadline() = default;
    handler_deadline(const handler_deadline&) = delete;
    handler_deadline& operator=(const handler_deadline&) = delete;

    void arm(std::chrono::milliseconds after) override {
        const std::uint64_t generation = ++generation_;
        armed_ = true;
        passed_ = false;
        timer_.expires_after(after);
        timer_.async_wait([this, generation](const boost::system::error_code& ec) {
            if (!ec && armed_ && generation == generation_) {
                passed_ = true;
                conn_.cancel.emit(asio::cancellation_type::terminal);
            }
        });
    }
    bool disarm() override {
        armed_ = false;
        timer_.cancel();
        return passed_;
    }

  private:
    connection& conn_;
    asio::steady_timer timer_;
    std::uint64_t generation_ = 0;
    bool armed_ = false;
    bool passed_ = false;
};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// The request as handlers see it, from what Beast parsed.
request from_beast(bhttp::request<bhttp::string_body>& breq, std::string remote) {
    request req;
    req.method = std::string(breq.method_string());
    req.target = std::string(breq.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) {
        req.query = req.target.substr(q + 1);
    }
    for (const auto& f : breq) {
        req.headers.emplace_back(lower(f.name_string()), std::string(f.value()));
    }
    req.body = std::move(breq.body());
    req.remote_address = std::move(remote);
    return req;
}

// The status a read error is answered with (0: none, the connection just ends).
int refusal_of(const boost::system::error_code& ec) {
    if (ec == bhttp::error::body_limit) {
        return 413;
    }
    if (ec == bhttp::error::header_limit) {
        return 431;
    }
    if (ec.category() == make_error_code(bhttp::error::bad_method).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        return 400;
    }
    return 0;
}

// A response on the wire, as Beast's serializer of a string-bodied response writes it after set(),
// keep_alive() and prepare_payload(), built in one string: that serializer's buffer views cost an eighth of a
// trivial request. Each header name once (its last value, case-insensitively), CR and LF dropped from names
// and values; then Server, Content-Length (none where a status admits no body, and then no body either) and
// Connection.
struct wire_response {
    std::string head;
    std::string body;
};

wire_response on_the_wire(response&& r, unsigned version, bool keep_alive) {
    auto append_clean = [](std::string& out, std::string_view text) {
        for (char ch : text) {
            if (ch != '\r' && ch != '\n') {
                out += ch;
            }
        }
    };
    wire_response w;
    std::string& h = w.head;
    h.reserve(256);
    h += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    h += std::to_string(r.status);
    h += ' ';
    h += bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
    h += "\r\n";
    for (std::size_t i = 0; i < r.headers.size(); ++i) {
        const std::string& name = r.headers[i].first;  // (no structured binding: clang 14 cannot capture one)
        const std::string& value = r.headers[i].second;
        if (iequals(name, "Server") || iequals(name, "Content-Length") || iequals(name, "Connection") ||
            iequals(name, "Transfer-Encoding") ||
            std::any_of(r.headers.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        r.headers.end(),
                        [&](const auto& later) { return iequals(later.first, name); })) {
            continue;
        }
        append_clean(h, name);
        h += ": ";
        append_clean(h, value);
        h += "\r\n";
    }
    h += "Server: carematch\r\n";
    const bool bodiless = (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
    if (!bodiless) {
        h += "Content-Length: ";
        h += std::to_string(r.body.size());
        h += "\r\n";
        w.body = std::move(r.body);
    }
    if (version >= 11 && !keep_alive) {
        h += "Connection: close\r\n";
    } else if (version < 11 && keep_alive) {
        h += "Connection: keep-alive\r\n";
    }
    h += "\r\n";
    return w;
}

}  // namespace

struct server::impl : std::enable_shared_from_this<server::impl> {
    impl(asio::io_context& io, core::http_settings s, handler h)
        : io(io), settings(std::move(s)), root(std::move(h)), acceptor(asio::make_strand(io)) {}

    asio::io_context& io;
    core::http_settings settings;
    handler root;
    tcp::acceptor acceptor;
    std::atomic<std::uint16_t> bound_port{0};
    std::atomic<bool> stopping{false};

    mutable std::mutex mutex;
    std::list<std::shared_ptr<connection>> connections;

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        for (;;) {
            strand_type strand =
                settings.io_threads > 1 ? strand_type(asio::make_strand(io)) : strand_type(io.get_executor());
            auto [ec, socket] = co_await acceptor.async_accept(strand, tuple_awaitable);
            if (ec) {
                if (stopping || ec == asio::error::operation_aborted) {
                    co_return;
                }
                core::log::warn("accept failed", {{"error", ec.message()}});
                continue;
            }
            auto conn = std::make_shared<connection>(strand);
            {
                std::lock_guard lock(mutex);
                connections.push_back(conn);
            }
            asio::co_spawn(
                strand,
                session(std::move(socket), conn),
                asio::bind_cancellation_slot(conn->cancel.slot(), [self, conn](std::exception_ptr e) {
                    if (e) {
                        try {
                            std::rethrow_exception(e);
                        } catch (const std::exception& ex) {
                            core::log::error("connection failed", {{"error", ex.what()}});
                        }
                    }
                    self->forget(conn);
                }));
        }
    }

    void forget(const std::shared_ptr<connection>& conn) {
        std::lock_guard lock(mutex);
        connections.remove(conn);
    }

    // Answers a protocol-level error, then closes gracefully so the client can read the answer.
    asio::awaitable<void> reject(beast::tcp_stream& stream, int status, std::string detail) {
        response r = problem_response(status, std::move(detail));
        auto msg = on_the_wire(std::move(r), 11, false);
        stream.expires_after(std::chrono::seconds(5));
        std::array<asio::const_buffer, 2> parts{asio::buffer(msg.head), asio::buffer(msg.body)};
        auto [ec, n] = co_await asio::async_write(stream, parts, tuple_awaitable);
        (void)n;
        if (ec) {
            co_return;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        // Drain what the client still sends (e.g. the rest of an oversized body) so that closing does not
        // reset the connection before it has read our answer.
        std::array<char, 64 * 1024> sink{};
        std::size_t drained = 0;
        stream.expires_after(std::chrono::seconds(2));
        while (drained < 8 * settings.body_limit) {
            auto [rec, got] = co_await stream.async_read_some(asio::buffer(sink), tuple_awaitable);
            if (rec) {
                break;
            }
            drained += got;
        }
    }

    asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<connection> conn) {
        beast::tcp_stream stream(std::move(socket));
        conn->stream = &stream;
        std::string remote;
        {
            boost::system::error_code ec;
            auto ep = stream.socket().remote_endpoint(ec);
            if (!ec) {
                remote = ep.address().to_string();
            }
        }
        beast::flat_buffer buffer;
        handler_deadline handler_clock(*conn);
        asio::steady_timer read_timer(conn->strand);  // the request's read deadline, re-armed per request
        std::shared_ptr<websocket_upgrade> upgrade;   // set when the connection became a WebSocket
        std::shared_ptr<ws_session> upgraded;         // … and its handshake succeeded
        struct detach_guard {
            connection& c;
            ~detach_guard() { c.stream = nullptr; }
        } guard{*conn};

        for (;;) {
            conn->idle = true;
            if (stopping) {
                break;
            }
            if (buffer.size() == 0) {
                // Idle keep-alive: wait for the first byte of the next request.
                stream.expires_after(settings.idle_timeout);
                auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), tuple_awaitable);
                if (ec) {
                    break;
                }
                buffer.commit(n);
            }
            conn->idle = false;
            bhttp::request_parser<bhttp::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(settings.header_limit));
            parser.body_limit(settings.body_limit);
            // A deadline of our own that cancels (rather than closes, as tcp_stream's expiry would) so that
            // a slow client still gets its 408.
            stream.expires_never();
            conn->timed_out = false;
            const std::uint64_t generation = ++conn->generation;
            read_timer.expires_after(settings.request_timeout);
            // The session owns `conn` for as long as the timer can fire without an error.
            read_timer.async_wait([c = conn.get(), generation](const boost::system::error_code& tec) {
                if (!tec && c->generation == generation && c->stream != nullptr) {
                    c->timed_out = true;
                    c->stream->cancel();
                }
            });
            auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, tuple_awaitable);
            read_timer.cancel();
            (void)n;
            if (ec) {
                const int refusal = refusal_of(ec);
                if (conn->timed_out) {
                    co_await reject(stream, 408, "request not received in time");
                } else if (refusal == 413) {
                    co_await reject(stream, 413, "request body exceeds the limit");
                } else if (refusal == 431) {
                    co_await reject(stream, 431, "request header fields exceed the limit");
                } else if (refusal == 400) {
                    co_await reject(stream, 400, "malformed request");
                }
                break;
            }
            auto& breq = parser.get();
            request req = from_beast(breq, remote);
            req.deadline = &handler_clock;
            bool keep_alive = breq.keep_alive();
            unsigned version = breq.version();

            response res = co_await root(req);
            if (res.upgrade) {
                if (bws::is_upgrade(breq) && !stopping) {
                    upgrade = res.upgrade;
                    upgraded = co_await accept_websocket(std::move(stream), breq, *upgrade, conn);
                    break;
                }
                res = problem_response(426, "this endpoint speaks WebSocket only: send an upgrade request");
                res.set_header("Upgrade", "websocket");
            }
            keep_alive = keep_alive && !stopping;
            auto msg = on_the_wire(std::move(res), version, keep_alive);
            stream.expires_after(settings.request_timeout);
            std::array<asio::const_buffer, 2> parts{asio::buffer(msg.head), asio::buffer(msg.body)};
            auto [wec, wn] = co_await asio::async_write(stream, parts, tuple_awaitable);
            (void)wn;
            if (wec || !keep_alive) {
                break;
            }
        }
        if (upgrade) {
            // The request, its parser and buffer are gone before the socket's long life begins.
            buffer = beast::flat_buffer();
            if (upgraded) {
                co_await run_websocket(std::move(upgraded), *upgrade);
            }
            co_return;
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
    }

    // The WebSocket handshake on an upgrade request; null when it failed.
    asio::awaitable<std::shared_ptr<ws_session>> accept_websocket(beast::tcp_stream&& stream,
                                                                  bhttp::request<bhttp::string_body>& breq,
                                                                  const websocket_upgrade& u,
                                                                  std::shared_ptr<connection> conn) {
        stream.expires_never();  // the WebSocket's own timeouts take over
        auto s = std::make_shared<ws_session>(std::move(stream), conn->strand, u);
        conn->stream = &s->ws.next_layer();
        conn->ws = s;
        conn->idle = false;
        bws::stream_base::timeout t{};
        t.handshake_timeout = std::chrono::seconds(10);
        t.idle_timeout = 2 * u.ping_interval;  // a ping after half of it; closed when nothing came back
        t.keep_alive_pings = true;
        s->ws.set_option(t);
        s->ws.read_message_max(u.message_limit);
        // Frames go out whole from the caller's buffer; the stream's own write buffer serves only masking and
        // compression, which a server without permessage-deflate does not do: keep it small.
        s->ws.auto_fragment(false);
        s->ws.write_buffer_bytes(256);
        s->ws.set_option(bws::stream_base::decorator([proto = u.subprotocol](bws::response_type& r) {
            r.set(bhttp::field::server, "carematch");
            if (!proto.empty()) {
                r.set(bhttp::field::sec_websocket_protocol, proto);
            }
        }));
        auto [ec] = co_await s->ws.async_accept(breq, tuple_awaitable);
        if (ec) {
            co_return nullptr;
        }
        co_return s;
    }

    // Runs the upgrade's coroutine on the open socket; the socket is closed after it.
    static asio::awaitable<void> run_websocket(std::shared_ptr<ws_session> s, const websocket_upgrade& u) {
        try {
            co_await u.run(s);
        } catch (const std::exception& e) {
            core::log::error("websocket handler failed", {{"error", e.what()}});
        }
        if (s->is_open()) {
            s->close(1000, "");
        }
    }

    void close_idle(bool all) {
        std::lock_guard lock(mutex);
        for (const auto& c : connections) {
            asio::post(c->strand, [c, all] {
                if (auto ws = c->ws.lock(); ws && !all) {
                    ws->close(1001, "server shutting down");
                    return;
                }
                if (c->stream != nullptr && (all || c->idle)) {
                    c->stream->cancel();
                    boost::system::error_code ignored;
                    c->stream->socket().close(ignored);
                }
            });
        }
    }
};

bool is_websocket_request(const request& req) {
    auto contains = [](std::string_view h, std::string_view token) {
        return lower(h).find(token) != std::string::npos;
    };
    auto up = req.header("upgrade");
    auto conn = req.header("connection");
    return req.method == "GET" && up && contains(*up, "websocket") && conn && contains(*conn, "upgrade");
}

response upgrade_response(websocket_upgrade u) {
    response r;
    r.status = 101;
    r.upgrade = std::make_shared<websocket_upgrade>(std::move(u));
    return r;
}

server::server(asio::io_context& io, core::http_settings settings, handler root)
    : impl_(std::make_shared<impl>(io, std::move(settings), std::move(root))) {}

server::~server() = default;

void server::start() {
    auto& a = impl_->acceptor;
    tcp::endpoint ep(asio::ip::make_address(impl_->settings.host), impl_->settings.port);
    a.open(ep.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
    impl_->bound_port = a.local_endpoint().port();
    asio::co_spawn(a.get_executor(), impl_->accept_loop(), asio::detached);
}

std::uint16_t server::port() const noexcept {
    return impl_->bound_port;
}

void server::stop() {
    if (impl_->stopping.exchange(true)) {
        return;
    }
    // Idle connections are closed once the listener is: a client that sees its connection closed finds nobody
    // accepting either.
    asio::post(impl_->acceptor.get_executor(), [i = impl_] {
        boost::system::error_code ignored;
        i->acceptor.close(ignored);
        i->close_idle(false);
    });
}

asio::awaitable<void> server::drained() {
    auto i = impl_;
    auto deadline = std::chrono::steady_clock::now() + i->settings.shutdown_grace;
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (connections() > 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            i->close_idle(true);  // grace period over: close what is still open
            co_return;
        }
        tick.expires_after(std::chrono::milliseconds(20));
        co_await tick.async_wait(tuple_awaitable);
    }
}

std::size_t server::connections() const noexcept {
    std::lock_guard lock(impl_->mutex);
    return impl_->connections.size();
}

void run_until_signal(asio::io_context& io, int threads, server& srv, std::function<void()> on_stop) {
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) {
            return;
        }
        core::log::info("shutting down", {{"signal", sig}});
        srv.stop();
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await srv.drained();
                if (on_stop) {
                    on_stop();
                }
                io.stop();
            },
            asio::detached);
    });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) {
        pool.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& t : pool) {
        t.join();
    }
}

parsed_request parse_request(std::string_view bytes, std::size_t header_limit, std::size_t body_limit) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(header_limit, UINT32_MAX)));
    parser.body_limit(body_limit);
    parser.eager(true);
    parsed_request out;
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < bytes.size()) {
        const std::size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
        if (ec == bhttp::error::need_more) {
            ec = {};
            if (n == 0) {
                break;  // the rest is an incomplete piece the parser waits to see whole
            }
        } else if (ec) {
            out.refusal = refusal_of(ec);
            return out;
        }
        used += n;
    }
    if (!parser.is_done()) {
        return out;  // the bytes end before the request does: the server would wait, then answer 408
    }
    out.req = from_beast(parser.get(), "127.0.0.1");
    return out;
}

}  // namespace carematch::http
