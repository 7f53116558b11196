// A Redis connection over hiredis's async API, driven by Asio: awaitable commands, reconnect with backoff,
// and a subscriber for pub/sub.
#pragma once

#include <carematch/core/config.hpp>
#include <carematch/core/error.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace carematch::redis {

/// One reply, copied out of hiredis.
struct reply {
    enum class kind { nil, integer, string, status, error, array };
    kind type = kind::nil;
    long long integer = 0;
    std::string str;  // string, status or error text
    std::vector<reply> elements;

    bool is_error() const noexcept { return type == kind::error; }
    bool is_nil() const noexcept { return type == kind::nil; }
};

struct client_settings {
    std::chrono::milliseconds connect_timeout{2'000};  // a command waits this long for a connection
    std::chrono::milliseconds reply_timeout{5'000};  // and this long for its reply (plus a BLOCK it asks for)
    std::chrono::milliseconds backoff_min{50};
    std::chrono::milliseconds backoff_max{2'000};
};

/// One connection. Commands are pipelined in order; a blocking command (XREADGROUP BLOCK) holds the
/// connection, so give blocking readers a client of their own. Thread-safe.
class client {
  public:
    client(boost::asio::io_context& io, core::redis_settings where, client_settings s = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Sends one command, connecting or reconnecting first when needed. Returns errc::unavailable when no
    /// connection could be made within connect_timeout, the connection dropped before the reply, or the reply
    /// did not come within reply_timeout (a late reply is dropped). An
    /// error reply from Redis is a reply of kind error, not a failure.
    boost::asio::awaitable<core::result<reply>> command(std::vector<std::string> args);

    /// Connections made so far (1 after the first command; more after reconnects).
    std::uint64_t connects() const noexcept;

  private:
    friend class subscriber;

  public:
    struct impl;  // defined in client.cpp

  private:
    std::shared_ptr<impl> impl_;
};

/// A pub/sub message.
struct message {
    std::string channel;
    std::string payload;
};

/// A connection in subscribe mode; resubscribes after a reconnect.
class subscriber {
  public:
    subscriber(boost::asio::io_context& io, core::redis_settings where, client_settings s = {});
    ~subscriber();

    /// Subscribes to `channel`; completes once Redis confirmed. errc::unavailable when unreachable.
    boost::asio::awaitable<core::result<void>> subscribe(std::string channel);

    /// The next message, in arrival order; an empty message (no channel) once stop() was called.
    boost::asio::awaitable<message> next();

    /// Ends a waiting next() and every later one at once. Safe from any thread.
    void stop();

  private:
    struct inbox_state;
    std::unique_ptr<client> conn_;
    std::shared_ptr<inbox_state> inbox_;
};

}  // namespace carematch::redis
