// The event consumer every service reads other services' facts with: a Redis stream consumer group, an inbox
// table that makes each event's effect happen once, acknowledgement after commit, takeover of a dead
// consumer's pending entries, dead letters, and lag.
#pragma once

#include <carematch/core/config.hpp>

#include <boost/asio/awaitable.hpp>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}
namespace carematch::db {
class pool;
}

namespace carematch::events {

/// One event as the outbox relay published it.
struct event {
    std::string stream;
    std::string entry_id;  // the Redis stream entry id
    std::string id;        // the event id (a UUID): what the inbox records
    std::string type;
    std::string payload;  // JSON text
    std::string occurred_at;
};

struct consumer_settings {
    std::string group;                 // the consumer group: the reading service's name
    std::string consumer;              // this process within the group; empty: one is made up
    std::vector<std::string> streams;  // read together
    std::size_t batch = 100;
    std::chrono::milliseconds block{500};          // how long a read waits for new entries
    std::chrono::milliseconds claim_idle{30'000};  // pending longer than this (above the slowest handler):
                                                   // the consumer that read it is presumed dead
    std::chrono::milliseconds claim_every{5'000};  // how often pending entries are looked at
    int max_failures = 5;                          // then the event goes to the dead letters
    // The event types the service acts on; the others are acknowledged as read, without an inbox row or a
    // transaction. Empty: every type.
    std::vector<std::string> types;
};

/// Handles one event inside the transaction that also records it in the inbox: the handler's writes and the
/// inbox row commit together, or neither does. Throwing rolls both back; the event is delivered again later.
using handler = std::function<void(pqxx::work& tx, const event& e)>;

/// Handles the fresh events of one read (in stream order; repeats already left out) inside the one
/// transaction that records them all in the inbox, with the effect `handler` would have on each in turn: a
/// service writes what many events say in a few statements. Throwing rolls the read back; its events are then
/// handled one by one with `handler`.
using read_handler = std::function<void(pqxx::work& tx, const std::vector<const event*>& events)>;

/// Handles one event whose effect lies outside PostgreSQL and is idempotent by the event's id, so that a
/// repeat does no harm (e.g. a push keyed by the event id): no inbox row is written; a throw is counted and
/// dead-lettered as with `handler`.
using async_handler = std::function<boost::asio::awaitable<void>(const event& e)>;

struct consumer_stats {
    std::uint64_t handled = 0;        // committed with their effect
    std::uint64_t duplicates = 0;     // already in the inbox: acknowledged, nothing done
    std::uint64_t failures = 0;       // handler threw
    std::uint64_t dead_lettered = 0;  // given up on after max_failures
    std::uint64_t ignored = 0;        // of a type not in consumer_settings::types: acknowledged only
};

class consumer {
  public:
    /// Opens its own Redis connection (a blocking read holds one); `schema` holds the inbox and
    /// event_failures tables (db::migrate makes them).
    consumer(boost::asio::io_context& io,
             db::pool& pool,
             core::redis_settings redis,
             std::string schema,
             consumer_settings settings,
             handler h);
    /// The same with an effect outside PostgreSQL (see async_handler); `schema` still keeps dead letters.
    consumer(boost::asio::io_context& io,
             db::pool& pool,
             core::redis_settings redis,
             std::string schema,
             consumer_settings settings,
             async_handler h);
    ~consumer();
    consumer(const consumer&) = delete;
    consumer& operator=(const consumer&) = delete;

    /// Handles a read's events with `rh` (see read_handler) instead of `handler` one by one. Call before the
    /// consumer runs.
    void set_read_handler(read_handler rh);

    /// One pass: claims entries other consumers left pending longer than claim_idle (at most every
    /// claim_every), reads new entries (waiting up to `block`), handles each and acknowledges it after its
    /// commit. Returns how many entries it handled or skipped as duplicates. Throws core::unavailable_error
    /// when Redis cannot be reached.
    boost::asio::awaitable<std::size_t> run_once();

    /// run_once until stop(); failures are logged and retried after a pause.
    boost::asio::awaitable<void> run();
    void stop() noexcept;

    /// Entries not yet delivered to this group, per stream (XINFO GROUPS lag), as last measured by run().
    std::map<std::string, long long> lag() const;
    /// Measures lag now.
    boost::asio::awaitable<void> measure_lag();

    consumer_stats stats() const noexcept;
    const consumer_settings& settings() const noexcept;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace carematch::events
