// The transactional outbox: events written in the caller's transaction, published to Redis Streams by a
// relay.
#pragma once

#include <carematch/db/pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace carematch::redis {
class client;
}

namespace carematch::db {

/// Writes an event into <schema>.outbox inside `tx`: it is published if and only if `tx` commits.
/// `payload_json` must be a JSON document. Returns the event id (a UUID), which consumers use to ignore
/// repeats.
std::string enqueue_event(pqxx::work& tx,
                          const std::string& schema,
                          std::string_view stream,
                          std::string_view event_type,
                          std::string_view payload_json);

struct relay_settings {
    std::size_t batch = 100;
    std::chrono::milliseconds poll_interval{200};
    std::chrono::seconds lease{30};  // a claimed batch not marked published by then is claimed again
    std::size_t stream_max_len = 100'000;
};

/// Publishes committed outbox rows of one schema to their Redis streams (XADD with fields id, type,
/// payload, occurred_at) and marks them published. Delivery is at least once: a relay that dies between
/// XADD and marking leaves its lease to expire, and the rows are published again.
class outbox_relay {
  public:
    outbox_relay(pool& db, redis::client& redis, std::string schema, relay_settings s = {});

    /// Claims up to `batch` unpublished rows (oldest first), publishes them and marks them; returns how many
    /// were published. Rows whose publishing failed stay claimed until their lease expires.
    boost::asio::awaitable<std::size_t> run_once();

    /// Calls run_once until stop(), waiting poll_interval whenever nothing was left to publish.
    boost::asio::awaitable<void> run();

    void stop() noexcept { stopping_ = true; }

  private:
    pool& db_;
    redis::client& redis_;
    std::string schema_;
    relay_settings settings_;
    std::atomic<bool> stopping_{false};
};

}  // namespace carematch::db
