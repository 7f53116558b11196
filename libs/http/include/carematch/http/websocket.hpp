// WebSocket connections the server upgraded a request to, as plain interfaces free of Beast: a handler
// answers the upgrade request with response::upgrade set, and the server then runs it on the socket.
#pragma once

#include <carematch/http/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace carematch::http {

/// One open WebSocket. read() is for the upgrade's own coroutine; send() and close() are safe from any
/// thread.
class websocket {
  public:
    virtual ~websocket() = default;

    /// The next message from the client (text or binary), or nullopt once the socket is closed by either
    /// side, failed or went silent past the idle limit.
    virtual boost::asio::awaitable<std::optional<std::string>> read() = 0;

    /// Queues a text message. When the bounded send queue is full the client is not keeping up: the socket is
    /// closed with 1013 (try again later) and false returned. False as well once the socket is closing.
    virtual bool send(std::string text) = 0;

    /// Closes with `code` and `reason`; what is still queued is dropped. A client that does not answer the
    /// close within a few seconds has its connection cut.
    virtual void close(std::uint16_t code, std::string reason) = 0;

    /// Whether the socket is still open (neither side has started closing it).
    virtual bool is_open() const noexcept = 0;
};

/// What a handler answers an upgrade request with (response::upgrade).
struct websocket_upgrade {
    /// Runs on the open socket; the socket is closed (1000) when it returns.
    std::function<boost::asio::awaitable<void>(std::shared_ptr<websocket>)> run;
    std::string subprotocol;                 // answered in Sec-WebSocket-Protocol; empty: none
    std::size_t send_queue = 256;            // messages queued for a slow client at the most
    std::size_t message_limit = 64 * 1024;   // a larger client message closes the socket (1009)
    std::chrono::seconds ping_interval{20};  // a ping after this much silence; no answer by twice it: closed
};

/// Whether `req` asks for a WebSocket (GET with Upgrade: websocket and Connection: upgrade).
bool is_websocket_request(const request& req);

/// The response that upgrades the request to a WebSocket run by `u` (status 101 once the server accepted it).
response upgrade_response(websocket_upgrade u);

}  // namespace carematch::http
