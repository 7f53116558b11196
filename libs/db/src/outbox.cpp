// Outbox writes and the relay that moves them to Redis Streams.
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace carematch::db {

namespace asio = boost::asio;

std::string enqueue_event(pqxx::work& tx,
                          const std::string& schema,
                          std::string_view stream,
                          std::string_view event_type,
                          std::string_view payload_json) {
    std::string id = core::new_uuid();
    tx.exec_params("INSERT INTO " + tx.quote_name(schema) +
                       ".outbox (event_id, stream, event_type, payload) VALUES ($1::uuid, $2, $3, $4::jsonb)",
                   id,
                   std::string(stream),
                   std::string(event_type),
                   std::string(payload_json));
    return id;
}

outbox_relay::outbox_relay(pool& db, redis::client& redis, std::string schema, relay_settings s)
    : db_(db), redis_(redis), schema_(std::move(schema)), settings_(s) {
    if (!valid_schema_name(schema_)) {
        throw std::invalid_argument("invalid schema name: " + schema_);
    }
}

asio::awaitable<std::size_t> outbox_relay::run_once() {
    struct row {
        long long id;
        std::string event_id, stream, type, payload, created_at;
    };
    const std::string table = schema_ + ".outbox";
    // One batch at a time per schema: the claim is serialised by an advisory lock and refused while another
    // relay's lease is live. Each event is published under the stream id "<outbox id>-0", so a batch taken
    // over from a relay that died after XADD and before marking repeats nothing: Redis refuses an id it
    // already has.
    const std::string claim_sql =
        "UPDATE " + table +
        " SET claimed_until = now() + make_interval(secs => $2) WHERE id IN (SELECT id FROM " + table +
        " WHERE published_at IS NULL ORDER BY id LIMIT $1)"
        " AND NOT EXISTS (SELECT 1 FROM " +
        table +
        " WHERE published_at IS NULL AND claimed_until > now())"
        " RETURNING id, event_id::text, stream, event_type, payload::text,"
        " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
    const auto batch = static_cast<long long>(settings_.batch);
    const auto lease = static_cast<double>(settings_.lease.count());
    const std::string lock_key = "carematch.outbox." + schema_;
    std::vector<row> rows = co_await db_.transact([&](pqxx::work& tx) {
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", lock_key);
        std::vector<row> out;
        for (const auto& r : tx.exec_params(claim_sql, batch, lease)) {
            out.push_back(row{r[0].as<long long>(),
                              r[1].as<std::string>(),
                              r[2].as<std::string>(),
                              r[3].as<std::string>(),
                              r[4].as<std::string>(),
                              r[5].as<std::string>()});
        }
        return out;
    });
    if (rows.empty()) {
        co_return 0;
    }
    std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) { return a.id < b.id; });
    std::vector<long long> published;
    for (auto& r : rows) {
        redis::field_list fields{
            {"id", r.event_id}, {"type", r.type}, {"payload", r.payload}, {"occurred_at", r.created_at}};
        const std::string entry_id = std::to_string(r.id) + "-0";
        redis::field_list copy = fields;
        auto added = co_await redis::xadd_with_id(
            redis_, r.stream, entry_id, std::move(fields), settings_.stream_max_len);
        if (added && !*added) {
            // Refused: either our own earlier XADD (a repeat, nothing to do) or a stream that also holds
            // entries from elsewhere with greater ids (another database, a rebuilt outbox). Only the first is
            // safe to skip; in the second case publish with a fresh id (consumers dedupe by event id).
            std::vector<std::string> range{"XRANGE", r.stream, entry_id, entry_id};
            auto existing = co_await redis_.command(std::move(range));
            auto ours = [&](const redis::reply& entries) {
                for (const auto& e : entries.elements) {
                    const auto& kv =
                        e.elements.size() == 2 ? e.elements[1].elements : std::vector<redis::reply>{};
                    for (std::size_t k = 0; k + 1 < kv.size(); k += 2) {
                        if (kv[k].str == "id" && kv[k + 1].str == r.event_id) {
                            return true;
                        }
                    }
                }
                return false;
            };
            if (!existing) {
                added = core::result<bool>(boost::system::in_place_error, existing.error());
            } else if (!ours(*existing)) {
                core::log::warn("outbox stream holds foreign ids; publishing with a fresh id",
                                {{"schema", schema_}, {"stream", r.stream}});
                auto fresh =
                    co_await redis::xadd(redis_, r.stream, std::move(copy), settings_.stream_max_len);
                if (!fresh) {
                    added = core::result<bool>(boost::system::in_place_error, fresh.error());
                }
            }
        }
        if (!added) {
            core::log::warn("outbox publish failed", {{"schema", schema_}, {"event_id", r.event_id}});
            break;  // keep order: the rest go in the next pass
        }
        published.push_back(r.id);  // added now, or already there from a relay that died before marking
    }
    auto id_array = [](const std::vector<long long>& ids) {
        std::string text = "{";
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (i > 0) {
                text += ',';
            }
            text += std::to_string(ids[i]);
        }
        return text + "}";
    };
    std::vector<long long> left;
    for (const auto& r : rows) {
        if (std::find(published.begin(), published.end(), r.id) == published.end()) {
            left.push_back(r.id);
        }
    }
    const std::string published_ids = id_array(published);
    const std::string left_ids = id_array(left);
    const std::string mark_sql = "UPDATE " + table + " SET published_at = now() WHERE id = ANY($1::bigint[])";
    const std::string release_sql =
        "UPDATE " + table + " SET claimed_until = NULL WHERE id = ANY($1::bigint[])";
    co_await db_.transact([&](pqxx::work& tx) {
        tx.exec_params(mark_sql, published_ids);
        tx.exec_params(release_sql, left_ids);  // not published: free for the next pass at once
    });
    co_return published.size();
}

asio::awaitable<void> outbox_relay::run() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!stopping_) {
        std::size_t n = 0;
        try {
            n = co_await run_once();
        } catch (const std::exception& e) {
            core::log::warn("outbox relay pass failed", {{"schema", schema_}, {"error", e.what()}});
        }
        if (n < settings_.batch) {
            timer.expires_after(settings_.poll_interval);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
}

}  // namespace carematch::db
