// Stream, GEO and publish commands and the parsing of their replies.
#include <carematch/core/log.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace carematch::redis {

namespace asio = boost::asio;

namespace {

core::result<reply> checked(core::result<reply> r) {
    if (r && r->is_error()) {
        core::log::warn("redis error reply", {{"error", r->str}});
        return core::errc::unavailable;
    }
    return r;
}

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.7f", v);
    return buf;
}

// An entry is [id, [k1, v1, k2, v2, ...]].
stream_entry parse_entry(const reply& r) {
    stream_entry e;
    if (r.type != reply::kind::array || r.elements.size() != 2) {
        return e;
    }
    e.id = r.elements[0].str;
    const auto& kv = r.elements[1].elements;
    for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
        e.fields.emplace_back(kv[i].str, kv[i + 1].str);
    }
    return e;
}

// The reply of XREADGROUP: [[stream, [entry, ...]], ...], or nil when a block timed out.
std::vector<stream_batch> parse_batches(const reply& r) {
    std::vector<stream_batch> out;
    for (const auto& s : r.elements) {
        if (s.elements.size() == 2) {
            stream_batch b{s.elements[0].str, {}};
            for (const auto& e : s.elements[1].elements) {
                b.entries.push_back(parse_entry(e));
            }
            out.push_back(std::move(b));
        }
    }
    return out;
}

}  // namespace

std::string_view stream_entry::field(std::string_view name) const {
    for (const auto& [k, v] : fields) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

asio::awaitable<core::result<std::string>> xadd(client& c,
                                                std::string stream,
                                                field_list fields,
                                                std::size_t max_len) {
    std::vector<std::string> args{"XADD", std::move(stream)};
    if (max_len > 0) {
        args.insert(args.end(), {"MAXLEN", "~", std::to_string(max_len)});
    }
    args.emplace_back("*");
    for (auto& [k, v] : fields) {
        args.push_back(std::move(k));
        args.push_back(std::move(v));
    }
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    co_return std::move(r->str);
}

asio::awaitable<core::result<bool>> xadd_with_id(
    client& c, std::string stream, std::string id, field_list fields, std::size_t max_len) {
    std::vector<std::string> args{"XADD", std::move(stream)};
    if (max_len > 0) {
        args.insert(args.end(), {"MAXLEN", "~", std::to_string(max_len)});
    }
    args.push_back(std::move(id));
    for (auto& [k, v] : fields) {
        args.push_back(std::move(k));
        args.push_back(std::move(v));
    }
    auto r = co_await c.command(std::move(args));
    // result<bool> cannot tell a bool from an error code by conversion: say which.
    using boost::system::in_place_error;
    using boost::system::in_place_value;
    if (!r) {
        co_return core::result<bool>(in_place_error, r.error());
    }
    if (r->is_error()) {
        if (r->str.find("equal or smaller") != std::string::npos) {
            co_return core::result<bool>(in_place_value, false);
        }
        core::log::warn("redis XADD failed", {{"error", r->str}});
        co_return core::result<bool>(in_place_error, make_error_code(core::errc::unavailable));
    }
    co_return core::result<bool>(in_place_value, true);
}

asio::awaitable<core::result<std::vector<stream_entry>>> xrange(
    client& c, std::string stream, std::string start, std::string end, std::size_t count) {
    std::vector<std::string> args{
        "XRANGE", std::move(stream), std::move(start), std::move(end), "COUNT", std::to_string(count)};
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    std::vector<stream_entry> out;
    for (const auto& e : r->elements) {
        out.push_back(parse_entry(e));
    }
    co_return out;
}

asio::awaitable<core::result<void>> ensure_group(client& c,
                                                 std::string stream,
                                                 std::string group,
                                                 std::string start) {
    std::vector<std::string> args{
        "XGROUP", "CREATE", std::move(stream), std::move(group), std::move(start), "MKSTREAM"};
    auto r = co_await c.command(std::move(args));
    if (!r) {
        co_return r.error();
    }
    if (r->is_error() && r->str.rfind("BUSYGROUP", 0) != 0) {
        core::log::warn("redis XGROUP CREATE failed", {{"error", r->str}});
        co_return core::errc::unavailable;
    }
    co_return core::result<void>{};
}

asio::awaitable<core::result<std::vector<stream_entry>>> xreadgroup(client& c,
                                                                    std::string group,
                                                                    std::string consumer,
                                                                    std::string stream,
                                                                    std::size_t count,
                                                                    long block_ms,
                                                                    std::string from) {
    std::vector<std::string> args{
        "XREADGROUP", "GROUP", std::move(group), std::move(consumer), "COUNT", std::to_string(count)};
    if (block_ms >= 0) {
        args.insert(args.end(), {"BLOCK", std::to_string(block_ms)});
    }
    args.insert(args.end(), {"STREAMS", std::move(stream), std::move(from)});
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    std::vector<stream_entry> out;
    for (auto& b : parse_batches(*r)) {
        std::move(b.entries.begin(), b.entries.end(), std::back_inserter(out));
    }
    co_return out;
}

asio::awaitable<core::result<std::vector<stream_batch>>> xreadgroup_streams(client& c,
                                                                            std::string group,
                                                                            std::string consumer,
                                                                            std::vector<std::string> streams,
                                                                            std::size_t count,
                                                                            long block_ms) {
    std::vector<std::string> args{"XREADGROUP",
                                  "GROUP",
                                  std::move(group),
                                  std::move(consumer),
                                  "COUNT",
                                  std::to_string(count),
                                  "BLOCK",
                                  std::to_string(std::max(block_ms, 0L)),
                                  "STREAMS"};
    const std::size_t n = streams.size();
    for (auto& s : streams) {
        args.push_back(std::move(s));
    }
    args.insert(args.end(), n, ">");
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    co_return parse_batches(*r);
}

asio::awaitable<core::result<long long>> xack(client& c,
                                              std::string stream,
                                              std::string group,
                                              std::vector<std::string> ids) {
    std::vector<std::string> args{"XACK", std::move(stream), std::move(group)};
    for (auto& id : ids) {
        args.push_back(std::move(id));
    }
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    co_return r->integer;
}

asio::awaitable<core::result<claimed>> xautoclaim(client& c,
                                                  std::string stream,
                                                  std::string group,
                                                  std::string consumer,
                                                  long long min_idle_ms,
                                                  std::string start,
                                                  std::size_t count) {
    std::vector<std::string> args{"XAUTOCLAIM",
                                  std::move(stream),
                                  std::move(group),
                                  std::move(consumer),
                                  std::to_string(min_idle_ms),
                                  std::move(start),
                                  "COUNT",
                                  std::to_string(count)};
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    claimed out;
    // Reply (Redis 7): [next_start, [entry, ...], [deleted ids]].
    if (r->elements.size() >= 2) {
        out.next_start = r->elements[0].str;
        for (const auto& e : r->elements[1].elements) {
            if (e.type == reply::kind::array) {
                out.entries.push_back(parse_entry(e));
            }
        }
    }
    co_return out;
}

asio::awaitable<core::result<void>> geoadd(
    client& c, std::string key, double lon, double lat, std::string member) {
    std::vector<std::string> args{"GEOADD", std::move(key), number(lon), number(lat), std::move(member)};
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    co_return core::result<void>{};
}

asio::awaitable<core::result<std::vector<geo_hit>>> geosearch(
    client& c, std::string key, double lon, double lat, double radius_m, std::size_t count) {
    std::vector<std::string> args{"GEOSEARCH",
                                  std::move(key),
                                  "FROMLONLAT",
                                  number(lon),
                                  number(lat),
                                  "BYRADIUS",
                                  number(radius_m),
                                  "m",
                                  "ASC",
                                  "COUNT",
                                  std::to_string(count),
                                  "WITHDIST"};
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    std::vector<geo_hit> out;
    for (const auto& e : r->elements) {
        if (e.elements.size() >= 2) {
            out.push_back(geo_hit{e.elements[0].str, std::strtod(e.elements[1].str.c_str(), nullptr)});
        }
    }
    co_return out;
}

asio::awaitable<core::result<void>> georemove(client& c, std::string key, std::string member) {
    std::vector<std::string> args{"ZREM", std::move(key), std::move(member)};
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    co_return core::result<void>{};
}

asio::awaitable<core::result<long long>> publish(client& c, std::string channel, std::string payload) {
    std::vector<std::string> args{"PUBLISH", std::move(channel), std::move(payload)};
    auto r = checked(co_await c.command(std::move(args)));
    if (!r) {
        co_return r.error();
    }
    co_return r->integer;
}

}  // namespace carematch::redis
