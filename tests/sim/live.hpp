// carematch-sim: a WebSocket client of /v1/ws, as the platform's apps hold one.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace carematch::sim {

/// Opens /v1/ws with `token` (protocols "carematch.v1, bearer.<token>"), from the address `ip` (X-Real-IP, as
/// the simulator's other requests), and hands each text frame to `on_frame` until the socket closes or
/// `*stop` turns true. `on_open` runs once the server answered 101. Returns the close code (0 when the
/// connection failed or dropped without one).
boost::asio::awaitable<int> live(std::string host,
                                 std::uint16_t port,
                                 std::string token,
                                 std::string ip,
                                 std::function<void()> on_open,
                                 std::function<void(const std::string&)> on_frame,
                                 std::shared_ptr<bool> stop);

}  // namespace carematch::sim
