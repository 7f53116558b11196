// The transactional outbox: events written in the caller's transaction, published to Redis Streams by a
// relay.
#pragma once

#include <carematch/db/pool.hpp>

#include <boost/asio/awaitable.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

/// One event of enqueue_events.
struct outgoing_event {
    std::string stream;
    std::string event_type;
    std::string payload_json;
};

/// enqueue_event for several events in one statement (a group commit's); returns their ids in order.
std::vector<std::string> enqueue_events(pqxx::work& tx,
                                        const std::string& schema,
                                        const std::vector<outgoing_event>& events);

struct relay_settings {
    std::size_t batch = 100;
    std::chrono::milliseconds poll_interval{200};
    // A claimed batch not marked published by then is another relay's to take: short, and renewed while the
    // relay is still publishing, so that a dead relay's batch is taken over within seconds.
    std::chrono::milliseconds lease{5'000};
    std::size_t stream_max_len = 100'000;
    // Published rows are kept this long, so that what a stream loses (Redis restarted without its file, or
    // lost its last second) can be published again; older ones are deleted.
    std::chrono::seconds retention{24 * 3600};
    std::chrono::milliseconds redrive_interval{10'000};
};

/// Publishes committed outbox rows of one schema to their Redis streams (XADD with fields id, type, payload,
/// occurred_at) and marks them published. One batch per schema at a time (an advisory lock and a live lease).
///
/// Stream entry ids are given when a row is claimed, in claim order, above the last id given on that stream
/// ("<ms>-<seq>", the larger of the clock and the last id), and kept with the row: an event whose transaction
/// committed late (after rows with greater outbox ids were published) still gets an id above them, and a
/// relay that takes over a dead one's batch repeats the very ids it was given, which Redis refuses when the
/// dead relay had published them: each event is in its stream exactly once. When the stream holds foreign
/// entries above a given id (another database writing the same stream), the event is published with a
/// fresh id instead and the stream's last id moves there, so that the next batch fits again: never lost,
/// at least once, and no lasting fallback.
class outbox_relay {
  public:
    outbox_relay(pool& db, redis::client& redis, std::string schema, relay_settings s = {});

    /// Claims up to `batch` unpublished rows (oldest first) unless another relay's lease is live, publishes
    /// them and marks them; returns how many are now published. Rows it could not publish are released.
    boost::asio::awaitable<std::size_t> run_once();

    /// Redis is a transport, not the record: for each stream this schema publishes to whose last id lies
    /// below the highest id known to have been published there (the stream lost entries: Redis came back
    /// without its file, or lost its last second), the published rows of the retention window above the
    /// stream's last id are published again under their very ids, in order, so that each is in the stream
    /// once. run_once does the same for a stream before it publishes to it. Deletes published rows older than
    /// the retention window. Returns how many events it published again.
    boost::asio::awaitable<std::size_t> redrive_once();

    /// Calls run_once until stop(), waiting poll_interval whenever a pass found nothing to publish (or until
    /// a transaction of this process that enqueued an event for this schema commits), and
    /// redrive_once every redrive_interval.
    boost::asio::awaitable<void> run();

    void stop() noexcept { stopping_ = true; }

    struct wake_point;  // how a commit that enqueued events wakes the relay (outbox.cpp)

  private:
    boost::asio::awaitable<void> run_on(std::shared_ptr<wake_point> wake);

    /// Re-drives `stream` when it lost entries (see redrive_once); returns how many were published again.
    boost::asio::awaitable<std::size_t> redrive_stream(const std::string& stream);

    pool& db_;
    redis::client& redis_;
    std::string schema_;
    relay_settings settings_;
    std::atomic<bool> stopping_{false};
    // The streams checked for lost entries, with the Redis connection (redis::client::connects) they were
    // checked on.
    std::mutex checked_mutex_;
    std::map<std::string, std::uint64_t> checked_;
};

}  // namespace carematch::db
