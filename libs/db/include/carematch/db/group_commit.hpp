// Group commit: concurrent writes of one kind share one transaction and its commit, so that a burst of them
// costs a few statements and one flush instead of a transaction each (DESIGN §6, order intake).
#pragma once

#include <carematch/db/pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <pqxx/pqxx>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace carematch::db {

struct group_stats {
    std::uint64_t groups = 0;   // transactions run (a retried one once)
    std::uint64_t entries = 0;  // writes they carried
    std::uint64_t shed = 0;     // refused at once (queue full) or given up on (waited too long)
};

/// Gathers the writes submitted while earlier groups are running, and runs each group in one transaction on
/// the pool: no timer, so a write arriving alone runs at once, and writes arriving under load share commits.
/// At most `max_in_flight` groups run at a time, each of at most `max_batch` writes.
class group_commit {
  public:
    /// One write: the batch function reads its input and sets its outcome (a derived type of the caller's).
    struct entry {
        virtual ~entry() = default;
    };
    /// Runs on a pool thread, in one transaction, with the entries of a group in arrival order. It may run
    /// again with a fresh transaction (the pool's retry policy), so it sets every entry's outcome anew. One
    /// entry's refusal must not fail the transaction: the function records it as that entry's outcome.
    using batch_fn = std::function<void(pqxx::work&, const std::vector<entry*>&)>;

    group_commit(pool& db, batch_fn fn, std::size_t max_batch = 64, int max_in_flight = 2);
    ~group_commit();
    group_commit(const group_commit&) = delete;
    group_commit& operator=(const group_commit&) = delete;

    /// Adds `e` to the next group and returns once that group's transaction committed; throws the group's
    /// failure otherwise (every entry of a group gets the same). Overload is refused like pool::transact's:
    /// core::overloaded_error at once when the pool's queue_limit writes are already waiting, or without
    /// running when this one waited longer than its acquire_timeout.
    boost::asio::awaitable<void> submit(entry& e);

    group_stats stats() const noexcept;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace carematch::db
