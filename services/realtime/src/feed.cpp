// The feed's Redis side: one script appends and publishes a message under a position that only grows.
#include "feed.hpp"

#include <carematch/core/error.hpp>
#include <carematch/redis/commands.hpp>

#include <charconv>

namespace carematch::realtime {

namespace {

// KEYS: the audience stream, the event's "seen" marker, the clock hash. ARGV: the message, the retention in
// ms, the channel, the audience. The position is (Redis time in ms, never going back; a counter over all
// audiences), so that positions compare alike across audiences and a client resumes from one.
constexpr const char* push_script = R"lua(
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return false end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('HGET', KEYS[3], 'ms') or '0')
if ms < last then ms = last end
local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
redis.call('HSET', KEYS[3], 'ms', ms)
local id = string.format('%d-%d', ms, seq)
redis.call('XADD', KEYS[1], 'MINID', '~', string.format('%d', ms - tonumber(ARGV[2])), id, 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
redis.call('PUBLISH', ARGV[3], ARGV[4] .. '\n' .. id .. '\n' .. ARGV[1])
return id
)lua";

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    return v;
}

}  // namespace

std::optional<position> position::parse(std::string_view s) {
    const auto dash = s.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    auto ms = number(s.substr(0, dash));
    auto seq = number(s.substr(dash + 1));
    if (!ms || !seq) {
        return std::nullopt;
    }
    return position{*ms, *seq};
}

std::string frame(const position& at, std::string_view message) {
    std::string out = "{\"id\":\"";
    out += at.text();
    out += "\",";
    out += message.substr(1);  // the message's own members after its '{'
    return out;
}

boost::asio::awaitable<void> feed::push(const std::string& event_id, const delivery& d) {
    const std::string retention = std::to_string(cfg_.retention.count() * 1000);
    std::vector<std::string> args{"EVAL",
                                  push_script,
                                  "3",
                                  key(d.audience),
                                  seen_key(event_id, d.audience),
                                  clock_key(),
                                  d.message,
                                  retention,
                                  channel(),
                                  d.audience};
    auto r = co_await redis_.command(std::move(args));
    if (!r || r->is_error()) {
        std::string what = "redis: realtime push failed";
        if (r) {
            what.append(": ").append(r->str);
        }
        throw core::unavailable_error(what);
    }
}

boost::asio::awaitable<position> feed::head() {
    std::vector<std::string> args{"HMGET", clock_key(), "ms", "seq"};
    auto r = co_await redis_.command(std::move(args));
    if (!r || r->is_error()) {
        throw core::unavailable_error("redis: realtime clock unreadable");
    }
    position p;
    if (r->elements.size() == 2 && !r->elements[0].is_nil() && !r->elements[1].is_nil()) {
        p.ms = number(r->elements[0].str).value_or(0);
        p.seq = number(r->elements[1].str).value_or(0);
    }
    co_return p;
}

boost::asio::awaitable<std::vector<std::pair<position, std::string>>> feed::since(const std::string& audience,
                                                                                  position after,
                                                                                  std::size_t max) {
    std::string start = "(";  // after it, not from it
    start.append(after.text());
    auto r = co_await redis::xrange(redis_, key(audience), std::move(start), "+", max);
    if (!r) {
        throw core::unavailable_error("redis: realtime backlog unreadable");
    }
    std::vector<std::pair<position, std::string>> out;
    for (const auto& e : *r) {
        if (auto p = position::parse(e.id)) {
            out.emplace_back(*p, frame(*p, e.field("m")));
        }
    }
    co_return out;
}

}  // namespace carematch::realtime
