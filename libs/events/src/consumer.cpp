// The stream consumer: consumer group reads, the inbox, acknowledgement after commit, XAUTOCLAIM takeover,
// dead letters and lag.
#include <carematch/core/error.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <mutex>
#include <set>

namespace carematch::events {

namespace asio = boost::asio;

struct consumer::impl {
    impl(asio::io_context& io,
         db::pool& p,
         core::redis_settings where,
         std::string schema_name,
         consumer_settings cs,
         handler fn)
        : pool(p),
          redis(io, std::move(where)),
          schema(std::move(schema_name)),
          s(std::move(cs)),
          h(std::move(fn)) {
        if (s.consumer.empty()) {
            s.consumer = s.group + "-" + core::random_hex(6);
        }
    }

    db::pool& pool;
    redis::client redis;
    std::string schema;
    consumer_settings s;
    handler h;
    read_handler rh;   // optional: a read's fresh events at once, with h's effect on each
    async_handler ah;  // instead of h: an effect outside PostgreSQL
    std::atomic<bool> stopping{false};
    bool groups_ready = false;
    std::chrono::steady_clock::time_point next_claim{};
    mutable std::mutex mutex;
    std::map<std::string, long long> lag;
    std::atomic<std::uint64_t> handled{0}, duplicates{0}, failures{0}, dead{0}, ignored{0};

    enum class outcome { handled, duplicate, failed, dead };

    std::string table(const char* name) const {
        return "\"" + schema + "\"." + name;  // schema names are checked by db::migrate
    }

    // Records an event in the inbox; no row affected when it was there already (a repeat).
    std::string inbox_claim() const {
        return "INSERT INTO " + table("inbox") +
               " (event_id, stream, event_type) VALUES ($1::uuid, $2, $3) ON CONFLICT (event_id) DO NOTHING";
    }

    // Acknowledges entries of `stream` in the group.
    asio::awaitable<void> ack(const std::string& stream, std::vector<std::string> entry_ids) {
        if (entry_ids.empty()) {
            co_return;
        }
        auto acked = co_await redis::xack(redis, stream, s.group, std::move(entry_ids));
        if (!acked) {
            throw core::unavailable_error("redis: acknowledgement failed");
        }
    }

    static event to_event(const std::string& stream, const redis::stream_entry& e) {
        return event{stream,
                     e.id,
                     std::string(e.field("id")),
                     std::string(e.field("type")),
                     std::string(e.field("payload")),
                     std::string(e.field("occurred_at"))};
    }

    // Handles one entry; says whether it may be acknowledged (handled, duplicate or dead-lettered).
    asio::awaitable<outcome> handle(const event& e) {
        if (!core::is_uuid(e.id)) {
            // Nothing any consumer could do with it: keep it for a person to look at, then let it go.
            const std::string sql =
                "INSERT INTO " + table("event_failures") +
                " (event_id, stream, entry_id, event_type, payload, failures, last_error, dead)"
                " VALUES ($1::uuid, $2, $3, $4, $5, 1, 'malformed entry', true)";
            co_await pool.transact([&](pqxx::work& tx) {
                tx.exec_params(sql, core::new_uuid(), e.stream, e.entry_id, e.type, e.payload);
            });
            core::log::error("malformed stream entry dead-lettered",
                             {{"stream", e.stream}, {"entry", e.entry_id}});
            ++dead;
            co_return outcome::dead;
        }
        const std::string claim = inbox_claim();
        std::string error;
        try {
            if (ah) {
                co_await ah(e);
                ++handled;
                co_return outcome::handled;
            }
            const bool fresh = co_await pool.transact([&](pqxx::work& tx) {
                if (tx.exec_params(claim, e.id, e.stream, e.type).affected_rows() == 0) {
                    return false;
                }
                h(tx, e);
                return true;
            });
            if (fresh) {
                ++handled;
                co_return outcome::handled;
            }
            ++duplicates;
            co_return outcome::duplicate;
        } catch (const core::unavailable_error&) {
            throw;  // the database is gone: not the event's fault
        } catch (const pqxx::broken_connection&) {
            throw;
        } catch (const std::exception& ex) {
            error = ex.what();
        }
        ++failures;
        const std::string record =
            "INSERT INTO " + table("event_failures") +
            " (event_id, stream, entry_id, event_type, payload, failures, last_error)"
            " VALUES ($1::uuid, $2, $3, $4, $5, 1, $6)"
            " ON CONFLICT (event_id) DO UPDATE SET failures = " +
            table("event_failures") +
            ".failures + 1, last_error = excluded.last_error, entry_id = excluded.entry_id, last_at = now()"
            " RETURNING failures";
        const std::string give_up =
            "UPDATE " + table("event_failures") + " SET dead = true WHERE event_id = $1::uuid";
        const std::string settle = inbox_claim();
        const int max = s.max_failures;
        const bool gave_up = co_await pool.transact([&](pqxx::work& tx) {
            const int n =
                tx.exec_params1(record, e.id, e.stream, e.entry_id, e.type, e.payload, error)[0].as<int>();
            if (n < max) {
                return false;
            }
            tx.exec_params(give_up, e.id);
            tx.exec_params(settle, e.id, e.stream, e.type);
            return true;
        });
        core::log::warn(gave_up ? "event dead-lettered" : "event handler failed; it will be delivered again",
                        {{"group", s.group},
                         {"stream", e.stream},
                         {"event_id", e.id},
                         {"type", e.type},
                         {"error", error}});
        if (gave_up) {
            ++dead;
            co_return outcome::dead;
        }
        co_return outcome::failed;
    }

    // Handles a read's entries in one transaction (each claimed in the inbox, then handled, in stream order),
    // so that a busy stream costs one commit per read rather than one per event. False when any entry is
    // malformed or any handler throws: nothing was committed, and the entries are handled one by one.
    asio::awaitable<bool> handle_together(const std::vector<event>& events) {
        if (ah || events.size() < 2 ||
            std::any_of(events.begin(), events.end(), [](const event& e) { return !core::is_uuid(e.id); })) {
            co_return false;
        }
        // The inbox rows of the whole read in one statement; the fresh ones handled in stream order.
        const std::string claim = "INSERT INTO " + table("inbox") +
                                  " (event_id, stream, event_type)"
                                  " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])"
                                  " ON CONFLICT (event_id) DO NOTHING RETURNING event_id::text";
        std::vector<std::string> ids;
        std::vector<std::string> streams;
        std::vector<std::string> types;
        for (const auto& e : events) {
            ids.push_back(e.id);
            streams.push_back(e.stream);
            types.push_back(e.type);
        }
        std::size_t fresh = 0;
        try {
            // Named: GCC 12 may destroy a closure temporary of a co_await expression twice.
            std::function<std::size_t(pqxx::work&)> all = [&](pqxx::work& tx) {
                std::set<std::string> claimed;
                for (const auto& r : tx.exec_params(
                         claim, db::text_array(ids), db::text_array(streams), db::text_array(types))) {
                    claimed.insert(r[0].as<std::string>());
                }
                std::vector<const event*> fresh_events;
                for (const auto& e : events) {
                    // The inbox gives an id in the canonical lower-case form; a repeat within the read is
                    // handled once.
                    std::string id = e.id;
                    std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) {
                        return static_cast<char>(std::tolower(c));
                    });
                    if (claimed.erase(id) != 0) {
                        fresh_events.push_back(&e);
                    }
                }
                if (rh) {
                    rh(tx, fresh_events);
                } else {
                    for (const auto* e : fresh_events) {
                        h(tx, *e);
                    }
                }
                return fresh_events.size();
            };
            fresh = co_await pool.transact(std::move(all));
        } catch (const core::unavailable_error&) {
            throw;  // the database is gone: not the events' fault
        } catch (const pqxx::broken_connection&) {
            throw;
        } catch (const std::exception&) {
            co_return false;  // one of them failed: find out which, one by one
        }
        handled += fresh;
        duplicates += events.size() - fresh;
        co_return true;
    }

    asio::awaitable<std::size_t> handle_all(const std::string& stream,
                                            const std::vector<redis::stream_entry>& entries) {
        std::vector<std::string> done;
        std::vector<event> events;
        for (const auto& entry : entries) {
            if (entry.id.empty()) {
                continue;  // an entry trimmed away while pending
            }
            auto e = to_event(stream, entry);
            if (!s.types.empty() && std::find(s.types.begin(), s.types.end(), e.type) == s.types.end()) {
                done.push_back(e.entry_id);  // of no concern to this service: no inbox row, no transaction
                ++ignored;
                continue;
            }
            events.push_back(std::move(e));
        }
        const bool together = co_await handle_together(events);
        if (together) {
            for (const auto& e : events) {
                done.push_back(e.entry_id);
            }
        } else {
            for (const auto& e : events) {
                if (co_await handle(e) != outcome::failed) {
                    done.push_back(e.entry_id);
                }
            }
        }
        const std::size_t n = done.size();
        co_await ack(stream, std::move(done));
        co_return n;
    }
};

consumer::consumer(asio::io_context& io,
                   db::pool& pool,
                   core::redis_settings redis,
                   std::string schema,
                   consumer_settings settings,
                   handler h)
    : impl_(std::make_shared<impl>(
          io, pool, std::move(redis), std::move(schema), std::move(settings), std::move(h))) {}

consumer::consumer(asio::io_context& io,
                   db::pool& pool,
                   core::redis_settings redis,
                   std::string schema,
                   consumer_settings settings,
                   async_handler h)
    : impl_(std::make_shared<impl>(
          io, pool, std::move(redis), std::move(schema), std::move(settings), handler{})) {
    impl_->ah = std::move(h);
}

consumer::~consumer() = default;

asio::awaitable<std::size_t> consumer::run_once() {
    auto i = impl_;
    if (!i->groups_ready) {
        for (const auto& stream : i->s.streams) {
            if (!co_await redis::ensure_group(i->redis, stream, i->s.group, "0")) {
                throw core::unavailable_error("redis: cannot create consumer group " + i->s.group);
            }
        }
        i->groups_ready = true;
    }
    std::size_t n = 0;
    const auto now = std::chrono::steady_clock::now();
    if (now >= i->next_claim) {
        i->next_claim = now + i->s.claim_every;
        for (const auto& stream : i->s.streams) {
            std::string cursor = "0-0";
            for (int page = 0; page < 100; ++page) {
                auto claimed = co_await redis::xautoclaim(
                    i->redis, stream, i->s.group, i->s.consumer, i->s.claim_idle.count(), cursor, i->s.batch);
                if (!claimed) {
                    i->groups_ready = false;  // Redis may have come back without its groups: make them again
                    throw core::unavailable_error("redis: XAUTOCLAIM failed");
                }
                n += co_await i->handle_all(stream, claimed->entries);
                cursor = claimed->next_start;
                if (cursor == "0-0") {
                    break;
                }
            }
        }
    }
    auto fresh = co_await redis::xreadgroup_streams(
        i->redis, i->s.group, i->s.consumer, i->s.streams, i->s.batch, static_cast<long>(i->s.block.count()));
    if (!fresh) {
        i->groups_ready = false;
        throw core::unavailable_error("redis: XREADGROUP failed");
    }
    // Every stream's new entries in one transaction when they all go through; else stream by stream.
    std::vector<event> all;
    for (const auto& batch : *fresh) {
        for (const auto& entry : batch.entries) {
            if (!entry.id.empty()) {
                all.push_back(impl::to_event(batch.stream, entry));
            }
        }
    }
    // (co_await outside conditions: GCC 12 mishandles it inside && and range-for.)
    bool together = false;
    if (fresh->size() > 1) {
        together = co_await i->handle_together(all);
    }
    if (together) {
        for (const auto& batch : *fresh) {
            std::vector<std::string> ids;
            for (const auto& entry : batch.entries) {
                if (!entry.id.empty()) {
                    ids.push_back(entry.id);
                }
            }
            co_await i->ack(batch.stream, std::move(ids));
        }
        co_return n + all.size();
    }
    for (const auto& batch : *fresh) {
        n += co_await i->handle_all(batch.stream, batch.entries);
    }
    co_return n;
}

asio::awaitable<void> consumer::run() {
    auto i = impl_;
    asio::steady_timer pause(co_await asio::this_coro::executor);
    auto next_lag = std::chrono::steady_clock::now();
    while (!i->stopping) {
        bool failed = false;
        try {
            co_await run_once();
            if (std::chrono::steady_clock::now() >= next_lag) {
                next_lag = std::chrono::steady_clock::now() + std::chrono::seconds(5);
                co_await measure_lag();
            }
        } catch (const std::exception& e) {
            core::log::warn("event consumer pass failed", {{"group", i->s.group}, {"error", e.what()}});
            failed = true;
        }
        if (failed) {
            pause.expires_after(std::chrono::seconds(1));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
}

void consumer::stop() noexcept {
    impl_->stopping = true;
}

std::map<std::string, long long> consumer::lag() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->lag;
}

asio::awaitable<void> consumer::measure_lag() {
    auto i = impl_;
    std::map<std::string, long long> measured;
    for (const auto& stream : i->s.streams) {
        std::vector<std::string> args{"XINFO", "GROUPS", stream};
        auto r = co_await i->redis.command(std::move(args));
        if (!r || r->is_error()) {
            continue;
        }
        for (const auto& g : r->elements) {
            std::string name;
            long long lag = -1;
            for (std::size_t k = 0; k + 1 < g.elements.size(); k += 2) {
                if (g.elements[k].str == "name") {
                    name = g.elements[k + 1].str;
                } else if (g.elements[k].str == "lag") {
                    lag = g.elements[k + 1].integer;
                }
            }
            if (name == i->s.group && lag >= 0) {
                measured[stream] = lag;
            }
        }
    }
    std::lock_guard lock(i->mutex);
    i->lag = std::move(measured);
}

consumer_stats consumer::stats() const noexcept {
    return {impl_->handled.load(),
            impl_->duplicates.load(),
            impl_->failures.load(),
            impl_->dead.load(),
            impl_->ignored.load()};
}

void consumer::set_read_handler(read_handler rh) {
    impl_->rh = std::move(rh);
}

const consumer_settings& consumer::settings() const noexcept {
    return impl_->s;
}

}  // namespace carematch::events
