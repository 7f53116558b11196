// The connection pool: a thread pool of `size` threads sharing `size` connections, with retry policy.
#include "outbox_wake.hpp"

#include <carematch/core/error.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/pool.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace carematch::db {

namespace asio = boost::asio;

struct pool::impl {
    explicit impl(core::db_settings s)
        : settings(std::move(s)), threads(static_cast<std::size_t>(settings.pool_size)) {}

    core::db_settings settings;
    asio::thread_pool threads;
    std::mutex mutex;
    std::vector<std::unique_ptr<pqxx::connection>> idle;
    std::atomic<int> in_use{0};
    std::atomic<int> waiting{0};
    std::atomic<std::uint64_t> retries{0};
    std::atomic<std::uint64_t> transactions{0};
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<std::uint64_t> shed{0};
    core::queue_delay waits;     // transactions waiting for a connection
    core::queue_delay upstream;  // writes waiting in a scheduler before it posts them (group_commit)

    // The URL with libpq's connect_timeout, unless it names one itself.
    std::string conninfo() const {
        const std::string& url = settings.url;
        if (url.find("connect_timeout") != std::string::npos) {
            return url;
        }
        const std::string t = std::to_string(settings.connect_timeout.count());
        if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
            return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=" + t;
        }
        return url + " connect_timeout=" + t;
    }

    std::unique_ptr<pqxx::connection> open() {
        auto c = std::make_unique<pqxx::connection>(conninfo());
        pqxx::nontransaction n(*c);
        // Short transactions only: compiling a query with JIT costs more (~170 ms seen on a street's working
        // hours) than running it.
        n.exec("SET jit = off");
        if (settings.statement_timeout.count() > 0) {
            n.exec("SET statement_timeout = " + std::to_string(settings.statement_timeout.count()));
        }
        if (!settings.schema.empty()) {
            n.exec("SET search_path TO " + n.quote_name(settings.schema) + ", public");
        }
        return c;
    }

    std::unique_ptr<pqxx::connection> acquire() {
        {
            std::lock_guard lock(mutex);
            if (!idle.empty()) {
                auto c = std::move(idle.back());
                idle.pop_back();
                if (c->is_open()) {
                    return c;
                }
            }
        }
        return open();
    }

    void release(std::unique_ptr<pqxx::connection> c) {
        if (!c || !c->is_open()) {
            return;
        }
        std::lock_guard lock(mutex);
        idle.push_back(std::move(c));
    }

    // A statement or lock timeout (SQLSTATE 57014, 55P03): the database is too slow now, not the request
    // wrong; answered 503 with Retry-After like any overload. Null for any other error.
    static std::exception_ptr timed_out(const pqxx::sql_error& e) {
        const std::string& state = e.sqlstate();
        if (state == "57014") {
            return std::make_exception_ptr(core::overloaded_error("database: statement timeout"));
        }
        if (state == "55P03") {
            return std::make_exception_ptr(core::overloaded_error("database: lock timeout"));
        }
        return nullptr;
    }

    std::exception_ptr run_queued(const std::function<void(pqxx::work&)>& body,
                                  isolation level,
                                  std::chrono::steady_clock::time_point queued_at,
                                  std::chrono::steady_clock::time_point give_up_at);

    // Runs body with the retry policy; returns the failure, if any. Runs on a pool thread.
    std::exception_ptr execute(const std::function<void(pqxx::work&)>& body, isolation level) {
        ++transactions;
        constexpr int max_attempts = 8;
        auto backoff = std::chrono::milliseconds(20);
        for (int attempt = 1;; ++attempt) {
            std::unique_ptr<pqxx::connection> conn;
            std::exception_ptr failure;  // the retryable error of this attempt, rethrown when it was the last
            try {
                conn = acquire();
                pqxx::work tx(*conn);
                if (level == isolation::serializable) {
                    tx.exec0("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
                } else if (level == isolation::repeatable_read) {
                    tx.exec0("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                }
                detail::transaction_began();
                body(tx);
                tx.commit();
                detail::transaction_committed();
                release(std::move(conn));
                return nullptr;
            } catch (const pqxx::in_doubt_error&) {
                return std::current_exception();  // the commit may or may not have happened: never repeat
            } catch (const pqxx::serialization_failure&) {
                failure = std::current_exception();
                release(std::move(conn));
            } catch (const pqxx::deadlock_detected&) {
                failure = std::current_exception();
                release(std::move(conn));
            } catch (const pqxx::broken_connection& e) {
                conn.reset();
                ++reconnects;  // the next attempt opens a fresh connection
                if (attempt >= max_attempts) {
                    return std::make_exception_ptr(
                        core::unavailable_error(std::string("database: ") + e.what()));
                }
                failure = std::current_exception();
            } catch (const pqxx::sql_error& e) {
                release(std::move(conn));
                if (auto busy = timed_out(e)) {
                    return busy;
                }
                return std::current_exception();
            } catch (...) {
                release(std::move(conn));
                return std::current_exception();
            }
            if (failure) {
                if (attempt >= max_attempts) {
                    // Retries exhausted: never a success, and a conflict that outlived them is the database's
                    // load, answered 503 like a timeout.
                    try {
                        std::rethrow_exception(failure);
                    } catch (const pqxx::transaction_rollback& e) {
                        return std::make_exception_ptr(core::overloaded_error(
                            std::string("database: transaction conflicts outlived the retries: ") +
                            e.what()));
                    } catch (...) {
                        return failure;
                    }
                }
                ++retries;
                std::this_thread::sleep_for(backoff);
                backoff = std::min(backoff * 2, std::chrono::milliseconds(1'000));
            }
        }
    }
};

// Runs a queued transaction on this pool thread (`waiting` counted it when it was queued); its caller has
// waited too long after `give_up_at`, and then it is not started.
std::exception_ptr pool::impl::run_queued(const std::function<void(pqxx::work&)>& body,
                                          isolation level,
                                          std::chrono::steady_clock::time_point queued_at,
                                          std::chrono::steady_clock::time_point give_up_at) {
    --waiting;
    const auto now = std::chrono::steady_clock::now();
    waits.record(now - queued_at, now);
    if (now > give_up_at) {
        ++shed;
        return std::make_exception_ptr(core::overloaded_error("database busy: no connection in time"));
    }
    ++in_use;
    auto failure = execute(body, level);
    --in_use;
    return failure;
}

pool::pool(core::db_settings settings) : impl_(std::make_shared<impl>(std::move(settings))) {}

pool::~pool() {
    impl_->threads.join();
}

void pool::check() {
    try {
        impl_->release(impl_->open());
    } catch (const std::exception& e) {
        throw core::unavailable_error(std::string("database unreachable: ") + e.what());
    }
}

void pool::post(std::function<void(pqxx::work&)> body,
                std::function<void(std::exception_ptr)> done,
                isolation level) {
    auto i = impl_;
    ++i->waiting;
    const auto queued_at = std::chrono::steady_clock::now();
    asio::post(i->threads, [i, level, queued_at, body = std::move(body), done = std::move(done)]() {
        done(i->run_queued(body, level, queued_at, std::chrono::steady_clock::time_point::max()));
    });
}

const core::db_settings& pool::settings() const noexcept {
    return impl_->settings;
}

pool_stats pool::stats() const noexcept {
    pool_stats s;
    s.size = impl_->settings.pool_size;
    s.in_use = impl_->in_use.load();
    s.waiting = impl_->waiting.load();
    s.retries = impl_->retries.load();
    s.transactions = impl_->transactions.load();
    s.reconnects = impl_->reconnects.load();
    s.shed = impl_->shed.load();
    return s;
}

core::queue_delay::clock::duration pool::queue_delay() const noexcept {
    const auto now = core::queue_delay::clock::now();
    // Two queues, two minimums: a group's own post waits for nothing and would hide its writes' wait.
    auto delay = std::max(impl_->waits.standing(now), impl_->upstream.standing(now));
    const auto quiet = now - impl_->waits.last_record();
    if (impl_->waiting.load() > 0 && impl_->in_use.load() >= impl_->settings.pool_size &&
        quiet > impl_->waits.interval()) {
        delay = std::max(delay, quiet);  // stuck, not empty: nothing started although work waits
    }
    return delay;
}

void pool::note_wait(core::queue_delay::clock::duration waited) noexcept {
    impl_->upstream.record(waited);
}

asio::awaitable<void> pool::run(std::function<void(pqxx::work&)> body, isolation level) {
    auto i = impl_;
    auto token = asio::use_awaitable;
    co_await asio::async_initiate<decltype(token), void(std::exception_ptr)>(
        // Captures nothing: GCC 12 may destroy a lambda temporary of a co_await expression twice.
        [](auto handler, std::shared_ptr<impl> i, isolation level, std::function<void(pqxx::work&)> fn) {
            auto ex = asio::get_associated_executor(handler);
            auto work = asio::make_work_guard(ex);
            if (i->waiting.load() >= i->settings.queue_limit) {
                // Overload is answered, not queued.
                ++i->shed;
                asio::post(ex, [handler = std::move(handler)]() mutable {
                    handler(std::make_exception_ptr(
                        core::overloaded_error("database busy: too many transactions waiting")));
                });
                return;
            }
            ++i->waiting;
            const auto queued_at = std::chrono::steady_clock::now();
            asio::post(i->threads,
                       [i,
                        level,
                        queued_at,
                        fn = std::move(fn),
                        handler = std::move(handler),
                        ex,
                        work = std::move(work)]() mutable {
                           auto failure =
                               i->run_queued(fn, level, queued_at, queued_at + i->settings.acquire_timeout);
                           asio::post(
                               ex, [handler = std::move(handler), failure]() mutable { handler(failure); });
                           work.reset();
                       });
        },
        token,
        i,
        level,
        std::move(body));
}

std::string text_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += '"';
        for (char c : values[i]) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::string int_array(const std::vector<std::int64_t>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += std::to_string(values[i]);
    }
    return out + "}";
}

std::vector<std::string> json_strings(const std::string& text) {
    std::vector<std::string> out;
    const auto v = boost::json::parse(text);
    if (v.is_array()) {
        for (const auto& x : v.as_array()) {
            out.emplace_back(x.as_string());
        }
    }
    return out;
}

bool is_conflict(const pqxx::sql_error& e) noexcept {
    const std::string& state = e.sqlstate();
    return state == "23505" || state == "23P01" || state == "23514";
}

}  // namespace carematch::db
