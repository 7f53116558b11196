// Group commit: a queue of waiting writes, drained a group at a time onto the pool.
#include <carematch/core/error.hpp>
#include <carematch/db/group_commit.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>

namespace carematch::db {

namespace asio = boost::asio;

namespace {

struct waiting {
    group_commit::entry* e = nullptr;
    std::chrono::steady_clock::time_point since;
    std::function<void(std::exception_ptr)> resume;  // resumes the submitter on its own executor
};

}  // namespace

struct group_commit::impl : std::enable_shared_from_this<impl> {
    impl(pool& p, batch_fn f, std::size_t batch, int in_flight)
        : db(p),
          fn(std::move(f)),
          max_batch(std::max<std::size_t>(batch, 1)),
          max_in_flight(std::max(in_flight, 1)) {}

    pool& db;
    batch_fn fn;
    std::size_t max_batch;
    int max_in_flight;
    std::mutex mutex;
    std::deque<waiting> queue;
    int running = 0;
    std::atomic<std::uint64_t> groups{0};
    std::atomic<std::uint64_t> entries{0};
    std::atomic<std::uint64_t> shed{0};

    // Starts groups while fewer than max_in_flight run and writes wait. Called on submit and when a group
    // ends.
    void drain() {
        for (;;) {
            auto group = std::make_shared<std::vector<waiting>>();
            bool drained = false;  // the group took every write waiting
            {
                std::lock_guard lock(mutex);
                if (running >= max_in_flight || queue.empty()) {
                    return;
                }
                const auto n = std::min(max_batch, queue.size());
                group->reserve(n);
                for (std::size_t k = 0; k < n; ++k) {
                    group->push_back(std::move(queue.front()));
                    queue.pop_front();
                }
                drained = queue.empty();
                ++running;
            }
            // Writes whose callers have waited too long are answered, not run (as the pool does).
            const auto now = std::chrono::steady_clock::now();
            const auto limit = db.settings().acquire_timeout;
            auto late = std::stable_partition(
                group->begin(), group->end(), [&](const waiting& w) { return now - w.since <= limit; });
            for (auto it = late; it != group->end(); ++it) {
                ++shed;
                it->resume(
                    std::make_exception_ptr(core::overloaded_error("database busy: no group in time")));
            }
            group->erase(late, group->end());
            // The pool's queue delay counts the writes standing here too. A write waits for the next group by
            // nature; a queue that a group took whole was not standing, whatever its writes waited.
            db.note_wait(drained || group->empty() ? std::chrono::steady_clock::duration::zero()
                                                   : now - group->back().since);
            if (group->empty()) {
                std::lock_guard lock(mutex);
                --running;
                continue;
            }
            ++groups;
            entries += group->size();
            auto self = shared_from_this();
            std::function<void(pqxx::work&)> body = [self, group](pqxx::work& tx) {
                std::vector<entry*> es;
                es.reserve(group->size());
                for (const auto& w : *group) {
                    es.push_back(w.e);
                }
                self->fn(tx, es);
            };
            std::function<void(std::exception_ptr)> done = [self, group](std::exception_ptr failure) {
                for (auto& w : *group) {
                    w.resume(failure);
                }
                {
                    std::lock_guard lock(self->mutex);
                    --self->running;
                }
                self->drain();
            };
            db.post(std::move(body), std::move(done));
        }
    }
};

group_commit::group_commit(pool& db, batch_fn fn, std::size_t max_batch, int max_in_flight)
    : impl_(std::make_shared<impl>(db, std::move(fn), max_batch, max_in_flight)) {}

group_commit::~group_commit() = default;

asio::awaitable<void> group_commit::submit(entry& e) {
    auto i = impl_;
    auto token = asio::use_awaitable;
    co_await asio::async_initiate<decltype(token), void(std::exception_ptr)>(
        // Captures nothing: GCC 12 may destroy a lambda temporary of a co_await expression twice.
        [](auto handler, std::shared_ptr<impl> i, entry* e) {
            auto ex = asio::get_associated_executor(handler);
            using handler_type = decltype(handler);
            struct pending {
                handler_type handler;
                asio::executor_work_guard<decltype(ex)> work;
            };
            auto p = std::make_shared<pending>(pending{std::move(handler), asio::make_work_guard(ex)});
            waiting w{e, std::chrono::steady_clock::now(), [p, ex](std::exception_ptr failure) {
                          asio::post(ex, [p, failure]() {
                              p->work.reset();
                              std::move(p->handler)(failure);
                          });
                      }};
            {
                std::unique_lock lock(i->mutex);
                if (i->queue.size() >= static_cast<std::size_t>(i->db.settings().queue_limit)) {
                    lock.unlock();
                    ++i->shed;  // overload is answered, not queued
                    w.resume(std::make_exception_ptr(
                        core::overloaded_error("database busy: too many writes waiting")));
                    return;
                }
                i->queue.push_back(std::move(w));
            }
            i->drain();
        },
        token,
        i,
        &e);
}

group_stats group_commit::stats() const noexcept {
    return {impl_->groups.load(), impl_->entries.load(), impl_->shed.load()};
}

}  // namespace carematch::db
