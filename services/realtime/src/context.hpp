// What realtime's handlers share: the runtime's dependencies, its config, the feed, the sockets by audience
// and its counters.
#pragma once

#include "feed.hpp"
#include "hub.hpp"

#include <carematch/http/websocket.hpp>
#include <carematch/realtime/app.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/runtime/deps.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace carematch::realtime {

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    std::vector<std::int64_t> streets;
    realtime::feed feed;
    realtime::hub hub;
    std::unique_ptr<redis::subscriber> live;  // made at start

    struct counters {
        std::atomic<std::uint64_t> pushed{0};     // messages appended to an audience
        std::atomic<std::uint64_t> delivered{0};  // frames queued to a socket
        std::atomic<std::uint64_t> resumed{0};    // frames replayed to a reconnecting socket
        std::atomic<std::uint64_t> resyncs{0};    // reconnects told to refetch over REST
        std::atomic<std::uint64_t> refused{0};    // sockets closed for a missing, bad or expired token
    } count;
};

/// Runs one socket: authentication (unless `who` came with the upgrade), the replay from `last` (a position
/// the client saw last), then live frames until it closes or its token expires.
boost::asio::awaitable<void> serve(context& c,
                                   std::shared_ptr<http::websocket> ws,
                                   std::optional<auth::caller> who,
                                   std::string last);

}  // namespace carematch::realtime
