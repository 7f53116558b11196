// HTTP/1.1 client for service-to-service calls, keeping idle connections per host for reuse.
#pragma once

#include <carematch/core/error.hpp>
#include <carematch/http/message.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace carematch::http {

/// A request to send.
struct outgoing {
    std::string method = "GET";
    std::string target = "/";
    header_list headers;
    std::string body;
};

class client {
  public:
    struct settings {
        std::chrono::milliseconds timeout{5'000};  // connect, write and read, each request
        std::size_t max_idle_per_host = 16;
        std::chrono::milliseconds max_idle_age{20'000};  // below the peers' keep-alive timeout (60 s)
    };

    explicit client(boost::asio::io_context& io);
    client(boost::asio::io_context& io, settings s);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Sends `req` to host:port and reads the answer, reusing an idle kept-alive connection when there is
    /// one young enough (a stale one is replaced once by a fresh connection, transparently, for methods safe
    /// to repeat). Each connection is used on a strand of its own. Returns errc::unavailable when the peer
    /// cannot be reached or does not answer in time.
    boost::asio::awaitable<core::result<response>> send(std::string host, std::uint16_t port, outgoing req);

    /// Idle connections kept for reuse, over all hosts.
    std::size_t idle_connections() const;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace carematch::http
