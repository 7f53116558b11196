// The per-audience feed in Redis: every message gets a position that grows across all audiences, is kept in
// its audience's stream for the retention window (for clients that reconnect) and is published on one channel
// that every realtime process listens to (for clients connected now).
#pragma once

#include "fanout.hpp"

#include <carematch/realtime/app.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/awaitable.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carematch::realtime {

/// A message's place in the feed: "<ms>-<seq>", the Redis entry id. Ordered alike in every audience.
struct position {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;
    auto operator<=>(const position&) const = default;
    std::string text() const {
        std::string out = std::to_string(ms);
        out.append("-").append(std::to_string(seq));
        return out;
    }
    static std::optional<position> parse(std::string_view s);
};

/// A message as the client receives it: {"id": "<position>", "type": …, "data": …}.
std::string frame(const position& at, std::string_view message);

class feed {
  public:
    feed(redis::client& r, const config& cfg) : redis_(r), cfg_(cfg) {}

    /// Appends `d` to its audience and publishes it, once per event and audience (a repeated event does
    /// nothing). Throws core::unavailable_error when Redis fails.
    boost::asio::awaitable<void> push(const std::string& event_id, const delivery& d);

    /// The position of the latest message of any audience ("0-0" before the first).
    boost::asio::awaitable<position> head();

    /// The messages of `audience` after `after`, at most `max` (frames, in order).
    boost::asio::awaitable<std::vector<std::pair<position, std::string>>> since(const std::string& audience,
                                                                                position after,
                                                                                std::size_t max);

    /// The pub/sub channel live messages go out on: "<audience>\n<position>\n<message>".
    std::string channel() const { return join(":live", {}); }

  private:
    // prefix + a + b, appended piece by piece.
    std::string join(std::string_view a, std::string_view b) const {
        std::string out = cfg_.prefix;
        out.append(a).append(b);
        return out;
    }
    std::string key(const std::string& audience) const { return join(":a:", audience); }
    std::string clock_key() const { return join(":clock", {}); }
    std::string seen_key(const std::string& event_id, const std::string& audience) const {
        std::string out = join(":seen:", event_id);
        out.append(":").append(audience);
        return out;
    }
    redis::client& redis_;
    const config& cfg_;
};

}  // namespace carematch::realtime
