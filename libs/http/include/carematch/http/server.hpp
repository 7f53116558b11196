// The HTTP/1.1 server: one coroutine per connection over Beast, limits, keep-alive, graceful shutdown.
#pragma once

#include <carematch/core/config.hpp>
#include <carematch/http/message.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace carematch::http {

/// What the server makes of the bytes of one request, without a socket: its parser with the same limits and
/// checks. The request; or the status the server refuses it with (400 malformed, 413 body too large, 431
/// header fields too large); or neither while the bytes end before the request does.
struct parsed_request {
    std::optional<request> req;
    int refusal = 0;
};
parsed_request parse_request(std::string_view bytes, std::size_t header_limit, std::size_t body_limit);

/// Serves `root` on settings.host:settings.port (port 0 picks a free port).
///
/// Limits answered by the server itself, each closing that connection only: a body over body_limit → 413,
/// a header over header_limit → 431, a request not complete within request_timeout → 408, a malformed
/// request → 400. Pipelined requests are answered in order.
class server {
  public:
    server(boost::asio::io_context& io, core::http_settings settings, handler root);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds and starts accepting; throws boost::system::system_error when the address cannot be bound.
    void start();

    /// The bound port (after start()).
    std::uint16_t port() const noexcept;

    /// Stops accepting and closes idle connections; requests in flight finish and are answered with
    /// "Connection: close". Safe from any thread.
    void stop();

    /// Completes once no connection is open, or when the shutdown grace period has passed (the rest are
    /// then closed).
    boost::asio::awaitable<void> drained();

    /// Open connections.
    std::size_t connections() const noexcept;

  private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

/// Runs `io` on `threads` threads until SIGINT or SIGTERM; then stops `srv`, waits until it is drained,
/// calls `on_stop`, stops `io` and returns.
void run_until_signal(boost::asio::io_context& io,
                      int threads,
                      server& srv,
                      std::function<void()> on_stop = {});

}  // namespace carematch::http
