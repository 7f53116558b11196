// A libpqxx connection pool whose blocking work runs on its own bounded threads and resumes the caller.
#pragma once

#include <carematch/core/config.hpp>
#include <carematch/core/error.hpp>
#include <carematch/core/queue_delay.hpp>

#include <boost/asio/awaitable.hpp>
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace carematch::db {

enum class isolation { read_committed, repeatable_read, serializable };

struct pool_stats {
    int size = 0;
    int in_use = 0;   // transactions running now
    int waiting = 0;  // transactions queued for a connection
    std::uint64_t retries = 0;
    std::uint64_t transactions = 0;  // run on a connection (a retried one once)
    std::uint64_t reconnects = 0;    // broken connections dropped and replaced
    std::uint64_t shed = 0;          // refused at once (queue full) or given up on (no connection in time)
};

/// `size` connections, each used by one of `size` threads; no io thread ever blocks on PostgreSQL. Every
/// connection's search_path is settings.schema (then public) when one is given.
class pool {
  public:
    explicit pool(core::db_settings settings);
    ~pool();
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    /// Opens one connection now; throws core::unavailable_error when the database cannot be reached
    /// (start-up fails fast).
    void check();

    /// Runs `fn(tx)` in a transaction on a pool thread and commits when it returns; resumes the calling
    /// coroutine on its own executor with fn's result. The whole function is run again (with a fresh
    /// transaction) after a serialization failure or deadlock, and after a connection that broke before
    /// commit (the server restarted), with backoff. Exceptions from fn propagate after rollback; a database
    /// that stays unreachable gives core::unavailable_error. Overload is refused, not queued: with
    /// settings.queue_limit transactions already waiting, or when this one waited longer than
    /// settings.acquire_timeout for a connection, it fails with core::overloaded_error without running.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, pqxx::work&>> transact(
        F fn, isolation level = isolation::read_committed) {
        using R = std::invoke_result_t<F&, pqxx::work&>;
        // Named function objects: GCC 12 destroys a closure temporary of a co_await expression twice.
        if constexpr (std::is_void_v<R>) {
            std::function<void(pqxx::work&)> body = [&fn](pqxx::work& tx) { fn(tx); };
            co_await run(std::move(body), level);
        } else {
            std::optional<R> out;
            std::function<void(pqxx::work&)> body = [&](pqxx::work& tx) { out.emplace(fn(tx)); };
            co_await run(std::move(body), level);
            co_return std::move(*out);
        }
    }

    /// The callback form of transact, for schedulers built on the pool (group_commit): runs `body` on a pool
    /// thread with the same retry policy, then calls `done` there with the failure (nullptr: committed).
    /// Never refused for overload: the caller bounds what it posts.
    void post(std::function<void(pqxx::work&)> body,
              std::function<void(std::exception_ptr)> done,
              isolation level = isolation::read_committed);

    const core::db_settings& settings() const noexcept;

    pool_stats stats() const noexcept;

    /// How long work stands in line for this pool: the least wait of the last interval (CoDel's measure,
    /// core::queue_delay) of transactions waiting for a connection, or of writes waiting in a scheduler built
    /// on the pool (note_wait), whichever is longer; or, while every connection is busy, transactions wait
    /// and none has started for longer than an interval, that time. Zero when nothing queues. Admission
    /// control reads it.
    core::queue_delay::clock::duration queue_delay() const noexcept;

    /// For schedulers built on the pool (group_commit): one write of theirs waited `waited` before its
    /// transaction was posted; counted into queue_delay() as a queue of its own.
    void note_wait(core::queue_delay::clock::duration waited) noexcept;

  private:
    boost::asio::awaitable<void> run(std::function<void(pqxx::work&)> body, isolation level);

    struct impl;
    std::shared_ptr<impl> impl_;
};

/// A PostgreSQL array literal of `values`, each quoted and escaped: bind it as $n::text[] (libpqxx 6 binds no
/// containers).
std::string text_array(const std::vector<std::string>& values);

/// The same for integers: bind it as $n::bigint[].
std::string int_array(const std::vector<std::int64_t>& values);

/// The other way: the strings of a text[] column selected as `array_to_json(column)::text` (empty for null or
/// anything but an array).
std::vector<std::string> json_strings(const std::string& text);

/// A subtransaction whose SAVEPOINT is really set. libpqxx 6.4 sets a subtransaction's savepoint lazily, on
/// its first exec(); exec_params() never triggers it, so a subtransaction used only through exec_params()
/// rolls back nothing and leaves the whole transaction aborted. Use this instead of pqxx::subtransaction.
class savepoint : public pqxx::subtransaction {
  public:
    savepoint(pqxx::dbtransaction& tx, const std::string& name)
        : pqxx::internal::namedclass("subtransaction", name), pqxx::subtransaction(tx, name) {
        exec("SELECT 1");  // sends the SAVEPOINT now
    }
};

/// True for unique, exclusion and check violations: the outcome repositories report as errc::conflict.
bool is_conflict(const pqxx::sql_error& e) noexcept;

}  // namespace carematch::db
