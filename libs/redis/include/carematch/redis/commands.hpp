// Typed helpers over client::command for streams (consumer groups), GEO and publishing.
#pragma once

#include <carematch/redis/client.hpp>

#include <string>
#include <utility>
#include <vector>

namespace carematch::redis {

using field_list = std::vector<std::pair<std::string, std::string>>;

struct stream_entry {
    std::string id;
    field_list fields;

    /// The value of `name`, or empty.
    std::string_view field(std::string_view name) const;
};

/// XADD stream * fields… (optionally MAXLEN ~ max_len); returns the entry id.
boost::asio::awaitable<core::result<std::string>> xadd(client& c,
                                                       std::string stream,
                                                       field_list fields,
                                                       std::size_t max_len = 0);

/// XADD stream MAXLEN ~ max_len <id> fields… with an explicit entry id. True when added; false when the
/// stream already holds this id or a greater one (a repeat: idempotent publishing from one ordered source).
boost::asio::awaitable<core::result<bool>> xadd_with_id(
    client& c, std::string stream, std::string id, field_list fields, std::size_t max_len = 0);

/// XRANGE stream start end COUNT count: entries in id order ("(id" excludes id; "-" and "+" are the ends).
boost::asio::awaitable<core::result<std::vector<stream_entry>>> xrange(
    client& c, std::string stream, std::string start, std::string end, std::size_t count);

/// XGROUP CREATE stream group start MKSTREAM; an existing group is not an error.
boost::asio::awaitable<core::result<void>> ensure_group(client& c,
                                                        std::string stream,
                                                        std::string group,
                                                        std::string start = "0");

/// XREADGROUP GROUP group consumer COUNT count [BLOCK block_ms] STREAMS stream `from` (">" = new entries;
/// "0" = this consumer's pending ones). block_ms < 0 means do not block.
boost::asio::awaitable<core::result<std::vector<stream_entry>>> xreadgroup(client& c,
                                                                           std::string group,
                                                                           std::string consumer,
                                                                           std::string stream,
                                                                           std::size_t count,
                                                                           long block_ms,
                                                                           std::string from = ">");

/// New entries of several streams at once: XREADGROUP GROUP group consumer COUNT count BLOCK block_ms STREAMS
/// s1 s2 … > > …; per stream, in order. An empty result when the block timed out.
struct stream_batch {
    std::string stream;
    std::vector<stream_entry> entries;
};
boost::asio::awaitable<core::result<std::vector<stream_batch>>> xreadgroup_streams(
    client& c,
    std::string group,
    std::string consumer,
    std::vector<std::string> streams,
    std::size_t count,
    long block_ms);

/// XACK stream group ids…; returns how many were acknowledged.
boost::asio::awaitable<core::result<long long>> xack(client& c,
                                                     std::string stream,
                                                     std::string group,
                                                     std::vector<std::string> ids);

/// XAUTOCLAIM stream group consumer min_idle_ms start COUNT count: entries pending longer than min_idle_ms
/// become `consumer`'s. Returns the claimed entries and the cursor for the next call ("0-0" when done).
struct claimed {
    std::string next_start;
    std::vector<stream_entry> entries;
};
boost::asio::awaitable<core::result<claimed>> xautoclaim(client& c,
                                                         std::string stream,
                                                         std::string group,
                                                         std::string consumer,
                                                         long long min_idle_ms,
                                                         std::string start = "0-0",
                                                         std::size_t count = 100);

/// GEOADD key lon lat member.
boost::asio::awaitable<core::result<void>> geoadd(
    client& c, std::string key, double lon, double lat, std::string member);

struct geo_hit {
    std::string member;
    double distance_m = 0;
};

/// GEOSEARCH key FROMLONLAT lon lat BYRADIUS radius_m m ASC COUNT count WITHDIST: nearest first.
boost::asio::awaitable<core::result<std::vector<geo_hit>>> geosearch(
    client& c, std::string key, double lon, double lat, double radius_m, std::size_t count);

/// ZREM key member (GEO sets are sorted sets).
boost::asio::awaitable<core::result<void>> georemove(client& c, std::string key, std::string member);

/// PUBLISH channel payload; returns the number of receivers.
boost::asio::awaitable<core::result<long long>> publish(client& c, std::string channel, std::string payload);

}  // namespace carematch::redis
