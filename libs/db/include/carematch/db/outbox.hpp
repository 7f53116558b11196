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
/// payload, occurred_at, under the stream id "<outbox row id>-0") and marks them published. One batch per
/// schema at a time; a relay that dies between XADD and marking leaves its lease to expire, and the next
/// relay's repeats are refused by Redis (the id exists), so each event is in its stream exactly once. When a
/// stream also holds foreign entries with greater ids (another database, a rebuilt outbox), a refused id that
/// is not in the stream is published with a fresh id instead: never lost, at least once.
class outbox_relay {
  public:
    outbox_relay(pool& db, redis::client& redis, std::string schema, relay_settings s = {});

    /// Claims up to `batch` unpublished rows (oldest first) unless another relay's lease is live, publishes
    /// them and marks them; returns how many are now published. Rows it could not publish are released.
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
