// hiredis async context driven by Asio: the event hooks wait on the socket with a stream_descriptor on the
// client's strand, so hiredis needs no event loop of its own.
#include <carematch/core/log.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <functional>
#include <optional>

namespace carematch::redis {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
using completion = std::function<void(error_code, reply)>;

namespace {

reply copy_reply(const redisReply* r) {
    reply out;
    switch (r->type) {
        case REDIS_REPLY_INTEGER:
            out.type = reply::kind::integer;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_STRING:
            out.type = reply::kind::string;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = reply::kind::status;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = reply::kind::error;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ARRAY:
            out.type = reply::kind::array;
            out.elements.reserve(r->elements);
            for (std::size_t i = 0; i < r->elements; ++i) {
                out.elements.push_back(copy_reply(r->element[i]));
            }
            break;
        default:
            out.type = reply::kind::nil;
    }
    return out;
}

}  // namespace

struct client::impl : std::enable_shared_from_this<client::impl> {
    impl(asio::io_context& io, core::redis_settings w, client_settings s)
        : strand(asio::make_strand(io)),
          where(std::move(w)),
          cfg(s),
          retry_timer(strand),
          backoff(s.backoff_min) {}

    enum class state { disconnected, connecting, connected };

    struct waiting_command {
        std::vector<std::string> args;
        completion done;
        std::chrono::steady_clock::time_point deadline;
    };

    // Per-command context handed to hiredis as privdata.
    struct pending {
        completion done;
        bool persistent = false;  // pub/sub: called for every message
    };

    asio::strand<asio::io_context::executor_type> strand;
    core::redis_settings where;
    client_settings cfg;
    asio::steady_timer retry_timer;
    std::chrono::milliseconds backoff;
    std::chrono::steady_clock::time_point next_attempt{};
    state st = state::disconnected;
    redisAsyncContext* ac = nullptr;
    std::optional<asio::posix::stream_descriptor> sd;
    bool want_read = false;
    bool want_write = false;
    bool read_armed = false;
    bool write_armed = false;
    std::deque<waiting_command> waiting;
    std::atomic<std::uint64_t> connect_count{0};

    // Pub/sub: the channels to (re)subscribe and the message sink.
    std::vector<std::string> channels;
    std::function<void(message)> on_message;

    // ---- hiredis event hooks (called on the strand, from inside hiredis) ----
    static void hook_add_read(void* p) {
        auto* self = static_cast<impl*>(p);
        self->want_read = true;
        self->arm_read();
    }
    static void hook_del_read(void* p) { static_cast<impl*>(p)->want_read = false; }
    static void hook_add_write(void* p) {
        auto* self = static_cast<impl*>(p);
        self->want_write = true;
        self->arm_write();
    }
    static void hook_del_write(void* p) { static_cast<impl*>(p)->want_write = false; }
    static void hook_cleanup(void* p) {
        auto* self = static_cast<impl*>(p);
        self->want_read = self->want_write = false;
        if (self->sd) {
            error_code ignored;
            self->sd->cancel(ignored);
            self->sd->release();  // hiredis closes the descriptor itself
            self->sd.reset();
        }
        self->ac = nullptr;
    }

    void arm_read() {
        if (read_armed || !sd) {
            return;
        }
        read_armed = true;
        sd->async_wait(asio::posix::stream_descriptor::wait_read,
                       asio::bind_executor(strand, [self = shared_from_this()](const error_code& ec) {
                           self->read_armed = false;
                           if (ec || self->ac == nullptr || !self->want_read) {
                               return;
                           }
                           redisAsyncHandleRead(self->ac);  // may free the context (then ac is null)
                           if (self->ac != nullptr && self->want_read) {
                               self->arm_read();
                           }
                       }));
    }

    void arm_write() {
        if (write_armed || !sd) {
            return;
        }
        write_armed = true;
        sd->async_wait(asio::posix::stream_descriptor::wait_write,
                       asio::bind_executor(strand, [self = shared_from_this()](const error_code& ec) {
                           self->write_armed = false;
                           if (ec || self->ac == nullptr || !self->want_write) {
                               return;
                           }
                           redisAsyncHandleWrite(self->ac);
                           if (self->ac != nullptr && self->want_write) {
                               self->arm_write();
                           }
                       }));
    }

    static void on_connect(const redisAsyncContext* c, int status) {
        auto* self = static_cast<impl*>(c->data);
        if (status != REDIS_OK) {
            // hiredis frees the context after this callback; cleanup hook clears ac.
            self->st = state::disconnected;
            self->connect_failed();
            return;
        }
        self->st = state::connected;
        self->backoff = self->cfg.backoff_min;
        ++self->connect_count;
        if (!self->channels.empty()) {
            for (const auto& ch : self->channels) {
                self->send_subscribe(ch, nullptr);
            }
        }
        self->flush();
    }

    static void on_disconnect(const redisAsyncContext* c, int status) {
        auto* self = static_cast<impl*>(c->data);
        self->st = state::disconnected;
        if (status != REDIS_OK) {
            core::log::warn("redis connection lost", {{"error", c->errstr ? c->errstr : "unknown"}});
        }
        if (!self->waiting.empty() || !self->channels.empty()) {
            asio::post(self->strand, [s = self->shared_from_this()] { s->ensure_connected(); });
        }
    }

    static void on_reply(redisAsyncContext*, void* r, void* privdata) {
        auto* p = static_cast<pending*>(privdata);
        if (p->persistent) {
            if (r != nullptr) {
                p->done({}, copy_reply(static_cast<redisReply*>(r)));
            }
            // A persistent (subscribe) context lives until the connection goes away; hiredis calls us with
            // a null reply when it frees the callback.
            if (r == nullptr) {
                delete p;
            }
            return;
        }
        if (r == nullptr) {
            p->done(core::errc::unavailable, {});
        } else {
            p->done({}, copy_reply(static_cast<redisReply*>(r)));
        }
        delete p;
    }

    void ensure_connected() {
        if (st != state::disconnected) {
            return;
        }
        auto now = std::chrono::steady_clock::now();
        if (now < next_attempt) {
            retry_timer.expires_at(next_attempt);
            retry_timer.async_wait(
                asio::bind_executor(strand, [self = shared_from_this()](const error_code& ec) {
                    if (!ec) {
                        self->expire_waiting();
                        self->ensure_connected();
                    }
                }));
            return;
        }
        st = state::connecting;
        ac = redisAsyncConnect(where.host.c_str(), where.port);
        if (ac == nullptr || ac->err) {
            if (ac != nullptr) {
                redisAsyncFree(ac);
                ac = nullptr;
            }
            st = state::disconnected;
            connect_failed();
            return;
        }
        ac->data = this;
        sd.emplace(strand, ac->c.fd);
        ac->ev.data = this;
        ac->ev.addRead = &impl::hook_add_read;
        ac->ev.delRead = &impl::hook_del_read;
        ac->ev.addWrite = &impl::hook_add_write;
        ac->ev.delWrite = &impl::hook_del_write;
        ac->ev.cleanup = &impl::hook_cleanup;
        redisAsyncSetConnectCallback(ac, &impl::on_connect);
        redisAsyncSetDisconnectCallback(ac, &impl::on_disconnect);
        // hiredis waits for writability to learn that the non-blocking connect finished.
        hook_add_write(this);
    }

    void connect_failed() {
        next_attempt = std::chrono::steady_clock::now() + backoff;
        backoff = std::min(backoff * 2, cfg.backoff_max);
        expire_waiting();
        if (!waiting.empty() || !channels.empty()) {
            asio::post(strand, [self = shared_from_this()] { self->ensure_connected(); });
        }
    }

    void expire_waiting() {
        auto now = std::chrono::steady_clock::now();
        while (!waiting.empty() && waiting.front().deadline <= now) {
            auto w = std::move(waiting.front());
            waiting.pop_front();
            w.done(core::errc::unavailable, {});
        }
    }

    void send(std::vector<std::string>& args, completion done, bool persistent) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        argv.reserve(args.size());
        lens.reserve(args.size());
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* p = new pending{std::move(done), persistent};
        if (redisAsyncCommandArgv(
                ac, &impl::on_reply, p, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
            REDIS_OK) {
            auto d = std::move(p->done);
            delete p;
            d(core::errc::unavailable, {});
        }
    }

    void flush() {
        while (st == state::connected && !waiting.empty()) {
            auto w = std::move(waiting.front());
            waiting.pop_front();
            send(w.args, std::move(w.done), false);
        }
    }

    void issue(std::vector<std::string> args, completion done) {
        if (st == state::connected && ac != nullptr) {
            send(args, std::move(done), false);
            return;
        }
        waiting.push_back(
            {std::move(args), std::move(done), std::chrono::steady_clock::now() + cfg.connect_timeout});
        ensure_connected();
        if (st != state::connected) {
            // Fail this command at its deadline even if connecting hangs.
            auto t = std::make_shared<asio::steady_timer>(strand, cfg.connect_timeout);
            t->async_wait(asio::bind_executor(
                strand, [self = shared_from_this(), t](const error_code&) { self->expire_waiting(); }));
        }
    }

    void send_subscribe(const std::string& channel, completion confirmed) {
        std::vector<std::string> args{"SUBSCRIBE", channel};
        auto confirmed_shared = std::make_shared<completion>(std::move(confirmed));
        send(
            args,
            [self = shared_from_this(), confirmed_shared](error_code ec, reply r) {
                if (ec) {
                    return;
                }
                if (r.type == reply::kind::array && r.elements.size() == 3) {
                    const std::string& what = r.elements[0].str;
                    if (what == "message" && self->on_message) {
                        self->on_message(message{r.elements[1].str, r.elements[2].str});
                    } else if (what == "subscribe" && *confirmed_shared) {
                        auto c = std::move(*confirmed_shared);
                        *confirmed_shared = nullptr;
                        c({}, std::move(r));
                    }
                }
            },
            true);
    }

    // Completes `handler` (an Asio completion handler) on its own executor.
    template <class Handler>
    static completion make_completion(Handler&& handler) {
        auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
        auto ex = asio::get_associated_executor(*h);
        auto work = std::make_shared<asio::executor_work_guard<decltype(ex)>>(ex);
        return [h, ex, work](error_code ec, reply r) {
            asio::post(ex, [h, ec, r = std::move(r), work]() mutable {
                (*h)(ec, std::move(r));
                work->reset();
            });
        };
    }

    ~impl() {
        if (ac != nullptr) {
            redisAsyncContext* c = ac;
            c->onDisconnect = nullptr;
            redisAsyncFree(c);
        }
    }
};

client::client(asio::io_context& io, core::redis_settings where, client_settings s)
    : impl_(std::make_shared<impl>(io, std::move(where), s)) {}

client::~client() {
    // Free the hiredis context on the calling thread: no command may be running when a client is destroyed.
    if (impl_->ac != nullptr) {
        redisAsyncContext* c = impl_->ac;
        c->onDisconnect = nullptr;
        redisAsyncFree(c);
    }
}

std::uint64_t client::connects() const noexcept {
    return impl_->connect_count.load();
}

asio::awaitable<core::result<reply>> client::command(std::vector<std::string> args) {
    auto i = impl_;
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [ec, r] = co_await asio::async_initiate<decltype(token), void(error_code, reply)>(
        // The initiation captures nothing: GCC 12 may destroy a lambda temporary of a co_await expression
        // twice, so non-trivial state travels as arguments instead.
        [](auto handler, std::shared_ptr<impl> i, std::vector<std::string> a) {
            // Completes once: with the reply, or with unavailable when none came in time.
            auto once = std::make_shared<std::atomic<bool>>(false);
            completion done = [once, inner = impl::make_completion(std::move(handler))](error_code ec,
                                                                                        reply r) {
                if (!once->exchange(true)) {
                    inner(ec, std::move(r));
                }
            };
            auto timeout = i->cfg.connect_timeout + i->cfg.reply_timeout;
            for (std::size_t k = 0; k + 1 < a.size(); ++k) {
                if (a[k] == "BLOCK") {
                    timeout += std::chrono::milliseconds(std::atoll(a[k + 1].c_str()));
                }
            }
            auto timer = std::make_shared<asio::steady_timer>(i->strand, timeout);
            timer->async_wait([done, timer](const error_code& ec) {
                if (!ec) {
                    done(make_error_code(core::errc::unavailable), reply{});
                }
            });
            asio::post(i->strand, [i, a = std::move(a), done, timer]() mutable {
                i->issue(std::move(a), [done, timer](error_code ec, reply r) {
                    timer->cancel();
                    done(ec, std::move(r));
                });
            });
        },
        token,
        i,
        std::move(args));
    if (ec) {
        co_return ec;
    }
    co_return std::move(r);
}

// ---- subscriber ----

struct subscriber::inbox_state {
    std::deque<message> queued;
    completion reader;     // at most one next() waiting
    bool stopped = false;  // next() answers at once with an empty message
};

subscriber::subscriber(asio::io_context& io, core::redis_settings where, client_settings s)
    : conn_(std::make_unique<client>(io, std::move(where), s)), inbox_(std::make_shared<inbox_state>()) {
    conn_->impl_->on_message = [box = inbox_](message m) {
        if (box->reader) {
            auto r = std::move(box->reader);
            box->reader = nullptr;
            reply rp;
            rp.type = reply::kind::array;
            rp.elements.resize(2);
            rp.elements[0].str = std::move(m.channel);
            rp.elements[1].str = std::move(m.payload);
            r({}, std::move(rp));
        } else {
            box->queued.push_back(std::move(m));
        }
    };
}

subscriber::~subscriber() = default;

asio::awaitable<core::result<void>> subscriber::subscribe(std::string channel) {
    auto i = conn_->impl_;
    if (i->channels.empty()) {
        // Connect in normal mode first; once subscribed, reconnects resubscribe by themselves.
        std::vector<std::string> args{"PING"};
        auto ping = co_await conn_->command(std::move(args));
        if (!ping) {
            co_return ping.error();
        }
    }
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [ec, r] = co_await asio::async_initiate<decltype(token), void(error_code, reply)>(
        [](auto handler, std::shared_ptr<client::impl> i, std::string ch) {
            auto done = client::impl::make_completion(std::move(handler));
            asio::post(i->strand, [i, ch = std::move(ch), done = std::move(done)]() mutable {
                i->channels.push_back(ch);
                if (i->st != client::impl::state::connected) {
                    done(core::errc::unavailable, {});
                    return;
                }
                i->send_subscribe(ch, std::move(done));
            });
        },
        token,
        i,
        std::move(channel));
    (void)r;
    if (ec) {
        co_return ec;
    }
    co_return core::result<void>{};
}

asio::awaitable<message> subscriber::next() {
    auto i = conn_->impl_;
    auto box = inbox_;
    auto token = asio::as_tuple(asio::use_awaitable);
    auto [ec, r] = co_await asio::async_initiate<decltype(token), void(error_code, reply)>(
        [](auto handler, std::shared_ptr<client::impl> i, std::shared_ptr<inbox_state> box) {
            auto done = client::impl::make_completion(std::move(handler));
            asio::post(i->strand, [box, done = std::move(done)]() mutable {
                if (box->stopped) {
                    reply rp;
                    rp.type = reply::kind::array;
                    rp.elements.resize(2);
                    done({}, std::move(rp));
                } else if (!box->queued.empty()) {
                    message m = std::move(box->queued.front());
                    box->queued.pop_front();
                    reply rp;
                    rp.type = reply::kind::array;
                    rp.elements.resize(2);
                    rp.elements[0].str = std::move(m.channel);
                    rp.elements[1].str = std::move(m.payload);
                    done({}, std::move(rp));
                } else {
                    box->reader = std::move(done);
                }
            });
        },
        token,
        i,
        box);
    (void)ec;
    co_return message{std::move(r.elements.at(0).str), std::move(r.elements.at(1).str)};
}

void subscriber::stop() {
    auto i = conn_->impl_;
    asio::post(i->strand, [box = inbox_] {
        box->stopped = true;
        if (box->reader) {
            auto r = std::move(box->reader);
            box->reader = nullptr;
            reply rp;
            rp.type = reply::kind::array;
            rp.elements.resize(2);
            r({}, std::move(rp));
        }
    });
}

}  // namespace carematch::redis
