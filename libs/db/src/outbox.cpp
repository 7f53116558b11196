// Outbox writes and the relay that moves them to Redis Streams.
#include "outbox_wake.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

namespace carematch::db {

namespace asio = boost::asio;

// A relay sleeps between passes only while nothing new is committed: a transaction of this process that
// enqueued an event wakes the relays of its schema as it commits (other processes' events wait for the poll).
struct outbox_relay::wake_point {
    explicit wake_point(asio::any_io_executor ex) : strand(asio::make_strand(ex)) {}
    asio::strand<asio::any_io_executor> strand;
    std::optional<asio::steady_timer> timer;  // touched on the strand only
    bool woken = false;
};

namespace {

thread_local std::vector<std::string> t_enqueued;  // schemas the open transaction of this thread enqueued for

std::mutex wake_mutex;
std::multimap<std::string, std::weak_ptr<outbox_relay::wake_point>> wake_points;

void wake(const std::shared_ptr<outbox_relay::wake_point>& w) {
    asio::post(w->strand, [w] {
        w->woken = true;
        if (w->timer) {
            w->timer->cancel();
        }
    });
}

}  // namespace

namespace detail {

void transaction_began() noexcept {
    t_enqueued.clear();
}

void transaction_committed() noexcept {
    if (t_enqueued.empty()) {
        return;
    }
    try {
        std::vector<std::shared_ptr<outbox_relay::wake_point>> to_wake;
        {
            std::lock_guard lock(wake_mutex);
            for (const auto& schema : t_enqueued) {
                auto [from, to] = wake_points.equal_range(schema);
                for (auto it = from; it != to; ++it) {
                    if (auto w = it->second.lock()) {
                        to_wake.push_back(std::move(w));
                    }
                }
            }
        }
        for (const auto& w : to_wake) {
            wake(w);
        }
    } catch (...) {
        // The commit stands; the relay finds the events at its next poll.
    }
    t_enqueued.clear();
}

}  // namespace detail

std::string enqueue_event(pqxx::work& tx,
                          const std::string& schema,
                          std::string_view stream,
                          std::string_view event_type,
                          std::string_view payload_json) {
    return enqueue_events(
               tx, schema, {{std::string(stream), std::string(event_type), std::string(payload_json)}})
        .front();
}

std::vector<std::string> enqueue_events(pqxx::work& tx,
                                        const std::string& schema,
                                        const std::vector<outgoing_event>& events) {
    std::vector<std::string> ids;
    if (events.empty()) {
        return ids;
    }
    std::vector<std::string> streams;
    std::vector<std::string> types;
    std::vector<std::string> payloads;
    for (const auto& e : events) {
        ids.push_back(core::new_uuid());
        streams.push_back(e.stream);
        types.push_back(e.event_type);
        payloads.push_back(e.payload_json);
    }
    // In the order given: outbox ids (and so stream order) follow it.
    tx.exec_params("INSERT INTO " + tx.quote_name(schema) +
                       ".outbox (event_id, stream, event_type, payload)"
                       " SELECT e, s, t, p::jsonb FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])"
                       " WITH ORDINALITY AS v(e, s, t, p, n) ORDER BY n",
                   text_array(ids),
                   text_array(streams),
                   text_array(types),
                   text_array(payloads));
    if (std::find(t_enqueued.begin(), t_enqueued.end(), schema) == t_enqueued.end()) {
        t_enqueued.push_back(schema);
    }
    return ids;
}

outbox_relay::outbox_relay(pool& db, redis::client& redis, std::string schema, relay_settings s)
    : db_(db), redis_(redis), schema_(std::move(schema)), settings_(s) {
    if (!valid_schema_name(schema_)) {
        throw std::invalid_argument("invalid schema name: " + schema_);
    }
}

namespace {

struct stream_pos {
    long long ms = 0;
    long long seq = 0;
    auto operator<=>(const stream_pos&) const = default;
};

// Positions per stream as three array literals (streams, ms, seq), bound to one statement with unnest.
struct position_arrays {
    std::string streams, ms, seq;
};

position_arrays arrays_of(const std::map<std::string, stream_pos>& positions) {
    std::vector<std::string> streams;
    std::vector<std::int64_t> ms, seq;
    for (const auto& [stream, p] : positions) {
        streams.push_back(stream);
        ms.push_back(p.ms);
        seq.push_back(p.seq);
    }
    return {text_array(streams), int_array(ms), int_array(seq)};
}

std::optional<stream_pos> parse_stream_id(const std::string& id) {
    const auto dash = id.find('-');
    if (dash == std::string::npos) {
        return std::nullopt;
    }
    try {
        return stream_pos{std::stoll(id.substr(0, dash)), std::stoll(id.substr(dash + 1))};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

asio::awaitable<std::size_t> outbox_relay::run_once() {
    struct row {
        std::int64_t id;
        std::string event_id, stream, type, payload, created_at, stream_id;
    };
    const std::string q = "\"" + schema_ + "\"";  // checked by valid_schema_name
    const std::string table = q + ".outbox";
    const std::string positions = q + ".outbox_streams";
    // One batch at a time per schema: the claim is serialised by an advisory lock and refused while another
    // relay's lease is live.
    const std::string claim_sql =
        "UPDATE " + table +
        " SET claimed_until = now() + make_interval(secs => $2) WHERE id IN (SELECT id FROM " + table +
        " WHERE published_at IS NULL ORDER BY id LIMIT $1)"
        " AND NOT EXISTS (SELECT 1 FROM " +
        table +
        " WHERE published_at IS NULL AND claimed_until > now())"
        " RETURNING id, event_id::text, stream, event_type, payload::text,"
        " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), coalesce(stream_id, "
        "'')";
    const std::string last_sql =
        "SELECT stream, last_ms, last_seq, NULL::bigint FROM " + positions +
        " WHERE stream = ANY($1::text[])"
        " UNION ALL SELECT NULL, NULL, NULL, (extract(epoch FROM clock_timestamp()) * 1000)::bigint";
    const std::string give_sql = "UPDATE " + table + " SET stream_id = $2 WHERE id = $1";
    const std::string give_all_sql =
        "UPDATE " + table +
        " AS o SET stream_id = v.sid FROM unnest($1::bigint[], $2::text[]) AS v(id, sid)"
        " WHERE o.id = v.id";
    const std::string moved_all_sql =
        "INSERT INTO " + positions +
        " AS p (stream, last_ms, last_seq) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])"
        " ON CONFLICT (stream) DO UPDATE SET last_ms = excluded.last_ms, last_seq = excluded.last_seq"
        " WHERE (p.last_ms, p.last_seq) < (excluded.last_ms, excluded.last_seq)";
    const auto batch = static_cast<long long>(settings_.batch);
    const double lease = std::chrono::duration<double>(settings_.lease).count();
    const std::string lock_key = "carematch.outbox." + schema_;
    std::vector<row> rows = co_await db_.transact([&](pqxx::work& tx) {
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key);
        std::vector<row> out;
        for (const auto& r : tx.exec_params(claim_sql, batch, lease)) {
            out.push_back(row{r[0].as<std::int64_t>(),
                              r[1].as<std::string>(),
                              r[2].as<std::string>(),
                              r[3].as<std::string>(),
                              r[4].as<std::string>(),
                              r[5].as<std::string>(),
                              r[6].as<std::string>()});
        }
        std::sort(out.begin(), out.end(), [](const row& a, const row& b) { return a.id < b.id; });
        // Entry ids for the rows that have none yet, in claim order, above the last id given on each stream.
        std::map<std::string, stream_pos> last;
        long long now_ms = -1;
        // The last id given on each stream of the batch (and the clock), in one statement.
        std::vector<std::string> fresh_streams;
        for (const auto& r : out) {
            if (r.stream_id.empty() &&
                std::find(fresh_streams.begin(), fresh_streams.end(), r.stream) == fresh_streams.end()) {
                fresh_streams.push_back(r.stream);
            }
        }
        std::map<std::string, stream_pos> known;
        if (!fresh_streams.empty()) {
            for (const auto& k : tx.exec_params(last_sql, text_array(fresh_streams))) {
                if (k[0].is_null()) {
                    now_ms = k[3].as<long long>();
                } else {
                    known[k[0].as<std::string>()] = {k[1].as<long long>(), k[2].as<long long>()};
                }
            }
        }
        std::vector<std::int64_t> given_rows;
        std::vector<std::string> given_ids;
        for (auto& r : out) {
            if (!r.stream_id.empty()) {
                continue;
            }
            auto it = last.find(r.stream);
            if (it == last.end()) {
                auto k = known.find(r.stream);
                it = last.emplace(r.stream, k == known.end() ? stream_pos{} : k->second).first;
            }
            stream_pos& p = it->second;
            if (now_ms > p.ms) {
                p = {now_ms, 0};
            } else {
                ++p.seq;
            }
            r.stream_id = std::to_string(p.ms) + "-" + std::to_string(p.seq);
            given_rows.push_back(r.id);
            given_ids.push_back(r.stream_id);
        }
        // One statement each for the ids given and the streams' last ids, however many rows and streams.
        if (!given_rows.empty()) {
            tx.exec_params(give_all_sql, int_array(given_rows), text_array(given_ids));
            const auto a = arrays_of(last);
            tx.exec_params(moved_all_sql, a.streams, a.ms, a.seq);
        }
        return out;
    });
    if (rows.empty()) {
        co_return 0;
    }
    // A stream that lost entries gets them back before anything newer goes in (else they would sit below its
    // new last id for good).
    std::vector<std::string> streams;
    for (const auto& r : rows) {
        if (std::find(streams.begin(), streams.end(), r.stream) == streams.end()) {
            streams.push_back(r.stream);
        }
    }
    // Only Redis coming back (which drops every connection) loses entries: a stream checked on this relay's
    // present connection need not be checked again, so a busy relay does not pay a check per stream and pass.
    // A PING first makes sure the connection is the present one (it reconnects when Redis went away).
    std::vector<std::string> ping{"PING"};
    const auto pong = co_await redis_.command(std::move(ping));
    if (!pong) {
        throw core::unavailable_error("redis: PING failed");
    }
    const auto connection = redis_.connects();
    auto checked = [&](const std::string& stream) {
        std::lock_guard lock(checked_mutex_);
        auto it = checked_.find(stream);
        return connection > 0 && it != checked_.end() && it->second == connection;
    };
    for (const auto& stream : streams) {
        if (checked(stream)) {
            continue;
        }
        co_await redrive_stream(stream);
        std::lock_guard lock(checked_mutex_);
        checked_[stream] = connection;
    }
    const std::string renew_sql =
        "UPDATE " + table +
        " SET claimed_until = now() + make_interval(secs => $2) WHERE id = ANY($1::bigint[])";
    auto renewed_at = std::chrono::steady_clock::now();
    std::vector<std::int64_t> published;
    std::vector<std::int64_t> republished;  // rows that took a fresh id (now in their stream_id)
    for (std::size_t k = 0; k < rows.size(); ++k) {
        auto& r = rows[k];
        if (std::chrono::steady_clock::now() - renewed_at > settings_.lease / 3) {
            // Still at work: keep the lease, so that nobody takes over a live relay's batch.
            std::vector<std::int64_t> rest;
            for (std::size_t m = k; m < rows.size(); ++m) {
                rest.push_back(rows[m].id);
            }
            const std::string ids = int_array(rest);
            co_await db_.transact([&](pqxx::work& tx) { tx.exec_params(renew_sql, ids, lease); });
            renewed_at = std::chrono::steady_clock::now();
        }
        redis::field_list fields{
            {"id", r.event_id}, {"type", r.type}, {"payload", r.payload}, {"occurred_at", r.created_at}};
        redis::field_list copy = fields;
        auto added = co_await redis::xadd_with_id(
            redis_, r.stream, r.stream_id, std::move(fields), settings_.stream_max_len);
        if (added && !*added) {
            // Refused: either this very event, published by a relay that died before marking (nothing to
            // do), or foreign entries above the id (publish with a fresh id and move the stream's last id).
            std::vector<std::string> range{"XRANGE", r.stream, r.stream_id, r.stream_id};
            auto existing = co_await redis_.command(std::move(range));
            auto ours = [&](const redis::reply& entries) {
                for (const auto& e : entries.elements) {
                    const auto& kv =
                        e.elements.size() == 2 ? e.elements[1].elements : std::vector<redis::reply>{};
                    for (std::size_t f = 0; f + 1 < kv.size(); f += 2) {
                        if (kv[f].str == "id" && kv[f + 1].str == r.event_id) {
                            return true;
                        }
                    }
                }
                return false;
            };
            if (!existing) {
                added = core::result<bool>(boost::system::in_place_error, existing.error());
            } else if (!ours(*existing)) {
                auto fresh =
                    co_await redis::xadd(redis_, r.stream, std::move(copy), settings_.stream_max_len);
                if (!fresh) {
                    added = core::result<bool>(boost::system::in_place_error, fresh.error());
                } else {
                    r.stream_id = *fresh;
                    republished.push_back(r.id);
                }
            }
        }
        if (!added) {
            core::log::warn("outbox publish failed", {{"schema", schema_}, {"event_id", r.event_id}});
            break;  // keep order: the rest go in the next pass
        }
        published.push_back(r.id);  // added now, or already there from a relay that died before marking
    }
    if (!republished.empty()) {
        core::log::warn("outbox stream holds foreign entries; published with fresh ids",
                        {{"schema", schema_}, {"events", republished.size()}});
    }
    // What is left for the next pass, and the highest id now in each stream (a fresh id also moves the
    // stream's last given id there, so that the next batch fits above the foreign entries).
    std::vector<std::int64_t> left;
    std::map<std::string, stream_pos> in_stream;
    for (const auto& r : rows) {
        if (std::find(published.begin(), published.end(), r.id) == published.end()) {
            left.push_back(r.id);
        } else if (auto p = parse_stream_id(r.stream_id)) {
            auto& at = in_stream[r.stream];
            at = std::max(at, *p);
        }
    }
    const std::string watermark_all_sql =
        "UPDATE " + positions +
        " AS p SET published_ms = v.ms, published_seq = v.seq"
        " FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS v(stream, ms, seq)"
        " WHERE p.stream = v.stream AND (p.published_ms, p.published_seq) < (v.ms, v.seq)";
    const std::string published_ids = int_array(published);
    const std::string left_ids = int_array(left);
    const std::string mark_sql = "UPDATE " + table + " SET published_at = now() WHERE id = ANY($1::bigint[])";
    const std::string release_sql =
        "UPDATE " + table + " SET claimed_until = NULL WHERE id = ANY($1::bigint[])";
    co_await db_.transact([&](pqxx::work& tx) {
        tx.exec_params(mark_sql, published_ids);
        tx.exec_params(release_sql, left_ids);  // not published: free for the next pass at once
        for (const auto& r : rows) {
            if (std::find(republished.begin(), republished.end(), r.id) != republished.end()) {
                tx.exec_params(give_sql, r.id, r.stream_id);
            }
        }
        if (!in_stream.empty()) {
            const auto a = arrays_of(in_stream);
            tx.exec_params(moved_all_sql, a.streams, a.ms, a.seq);
            tx.exec_params(watermark_all_sql, a.streams, a.ms, a.seq);
        }
    });
    co_return published.size();
}

asio::awaitable<std::size_t> outbox_relay::redrive_stream(const std::string& stream) {
    struct row {
        std::string event_id, type, payload, created_at, stream_id;
    };
    const std::string q = "\"" + schema_ + "\"";
    const double retention = static_cast<double>(settings_.retention.count());
    // Where the stream ends now: its last id, or nothing at all (a Redis that came back empty).
    std::vector<std::string> info{"XINFO", "STREAM", stream};
    auto r = co_await redis_.command(std::move(info));
    if (!r) {
        throw core::unavailable_error("redis: XINFO failed");
    }
    stream_pos last;
    if (!r->is_error()) {
        for (std::size_t k = 0; k + 1 < r->elements.size(); k += 2) {
            if (r->elements[k].str == "last-generated-id") {
                last = parse_stream_id(r->elements[k + 1].str).value_or(stream_pos{});
            }
        }
    }
    const std::string mark_sql =
        "SELECT published_ms, published_seq FROM " + q + ".outbox_streams WHERE stream = $1";
    const auto known = co_await db_.transact([&](pqxx::work& tx) {
        auto x = tx.exec_params(mark_sql, stream);
        return x.empty() ? stream_pos{} : stream_pos{x[0][0].as<long long>(), x[0][1].as<long long>()};
    });
    if (last >= known) {
        co_return 0;  // nothing lost
    }
    const std::string lost_sql =
        "SELECT event_id::text, event_type, payload::text,"
        " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), stream_id FROM " +
        q +
        ".outbox WHERE stream = $1 AND published_at IS NOT NULL AND stream_id IS NOT NULL"
        " AND published_at > now() - make_interval(secs => $4)"
        " AND (split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint) >"
        " ($2::bigint, $3::bigint)"
        " ORDER BY split_part(stream_id, '-', 1)::bigint, split_part(stream_id, '-', 2)::bigint LIMIT $5";
    const auto batch = static_cast<long long>(settings_.batch);
    std::size_t again = 0;
    for (;;) {
        auto rows = co_await db_.transact([&](pqxx::work& tx) {
            std::vector<row> out;
            for (const auto& x : tx.exec_params(lost_sql, stream, last.ms, last.seq, retention, batch)) {
                out.push_back(row{x[0].as<std::string>(),
                                  x[1].as<std::string>(),
                                  x[2].as<std::string>(),
                                  x[3].as<std::string>(),
                                  x[4].as<std::string>()});
            }
            return out;
        });
        for (auto& x : rows) {
            redis::field_list fields{
                {"id", x.event_id}, {"type", x.type}, {"payload", x.payload}, {"occurred_at", x.created_at}};
            auto added = co_await redis::xadd_with_id(
                redis_, stream, x.stream_id, std::move(fields), settings_.stream_max_len);
            if (!added) {
                throw core::unavailable_error("redis: re-drive failed");
            }
            again += *added ? 1 : 0;
            last = parse_stream_id(x.stream_id).value_or(last);
        }
        if (rows.size() < settings_.batch) {
            break;
        }
    }
    if (again > 0) {
        core::log::warn("outbox events re-driven into a stream that had lost them",
                        {{"schema", schema_}, {"stream", stream}, {"events", again}});
    }
    co_return again;
}

asio::awaitable<std::size_t> outbox_relay::redrive_once() {
    const std::string q = "\"" + schema_ + "\"";
    const double retention = static_cast<double>(settings_.retention.count());
    const std::string expire_sql =
        "DELETE FROM " + q + ".outbox WHERE published_at < now() - make_interval(secs => $1)";
    const std::string streams_sql = "SELECT stream FROM " + q + ".outbox_streams ORDER BY stream";
    auto streams = co_await db_.transact([&](pqxx::work& tx) {
        tx.exec_params(expire_sql, retention);
        std::vector<std::string> out;
        for (const auto& r : tx.exec(streams_sql)) {
            out.push_back(r[0].as<std::string>());
        }
        return out;
    });
    std::size_t again = 0;
    for (const auto& stream : streams) {
        again += co_await redrive_stream(stream);
    }
    co_return again;
}

asio::awaitable<void> outbox_relay::run() {
    auto w = std::make_shared<wake_point>(co_await asio::this_coro::executor);
    {
        std::lock_guard lock(wake_mutex);
        wake_points.emplace(schema_, w);
    }
    std::exception_ptr failed;
    try {
        auto on_strand = run_on(w);  // named: GCC 12 and temporaries in a co_await expression
        co_await asio::co_spawn(w->strand, std::move(on_strand), asio::use_awaitable);
    } catch (...) {
        failed = std::current_exception();
    }
    {
        std::lock_guard lock(wake_mutex);
        for (auto it = wake_points.begin(); it != wake_points.end();) {
            it = it->second.lock() == w || it->second.expired() ? wake_points.erase(it) : std::next(it);
        }
    }
    if (failed) {
        std::rethrow_exception(failed);
    }
}

// On the wake point's strand: its timer and flag are touched only there.
asio::awaitable<void> outbox_relay::run_on(std::shared_ptr<wake_point> w) {
    auto next_redrive = std::chrono::steady_clock::now() + settings_.redrive_interval;
    while (!stopping_) {
        std::size_t n = 0;
        try {
            n = co_await run_once();
            if (std::chrono::steady_clock::now() >= next_redrive) {
                next_redrive = std::chrono::steady_clock::now() + settings_.redrive_interval;
                co_await redrive_once();
            }
        } catch (const std::exception& e) {
            core::log::warn("outbox relay pass failed", {{"schema", schema_}, {"error", e.what()}});
        }
        if (n == 0 && !w->woken) {  // while events flow, the next pass starts at once
            w->timer.emplace(w->strand, settings_.poll_interval);
            co_await w->timer->async_wait(asio::as_tuple(asio::use_awaitable));
            w->timer.reset();
        }
        w->woken = false;
    }
}

}  // namespace carematch::db
