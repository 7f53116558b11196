// Test support: a blocking WebSocket client (Beast) with reads that wait at most a given time. Messages are
// read by a thread of its own into a queue, so a test can wait for "the next message" without sleeping and
// tell a close (with its code) from silence.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace carematch::test {

class ws_client {
  public:
    /// Connects to 127.0.0.1:`port` and upgrades `target`, offering `protocols` ("carematch.v1, bearer.<t>")
    /// when given. A refused upgrade leaves refused_status() with the HTTP status.
    ws_client(std::uint16_t port, const std::string& target, const std::string& protocols = {}) : ws_(io_) {
        boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
        ws_.next_layer().connect(ep);
        boost::beast::websocket::response_type res;
        ws_.set_option(boost::beast::websocket::stream_base::decorator([protocols](auto& req) {
            if (!protocols.empty()) {
                req.set(boost::beast::http::field::sec_websocket_protocol, protocols);
            }
        }));
        boost::system::error_code ec;
        ws_.handshake(res, "127.0.0.1", target, ec);
        if (ec) {
            refused_ = res.result_int();
            open_ = false;
            return;
        }
        protocol_ = std::string(res[boost::beast::http::field::sec_websocket_protocol]);
    }
    ~ws_client() {
        boost::system::error_code ignored;
        ws_.next_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        ws_.next_layer().close(ignored);
        if (reader_.joinable()) {
            reader_.join();
        }
    }
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    bool open() const { return open_; }
    int refused_status() const { return refused_; }
    const std::string& protocol() const { return protocol_; }

    /// Sends a text message; only before the first read (the reader thread then owns the stream).
    void send(const std::string& text) {
        ws_.text(true);
        ws_.write(boost::asio::buffer(text));
    }

    /// The next message, waiting at most `limit`; nullopt on silence or once closed.
    std::optional<std::string> next(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        start();
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, limit, [&] { return !queue_.empty() || done_; });
        if (queue_.empty()) {
            return std::nullopt;
        }
        auto m = std::move(queue_.front());
        queue_.pop_front();
        return m;
    }

    /// Waits until the server closes the socket (reading and dropping messages meanwhile); the close code, 0
    /// when the connection ended without a close frame, or nullopt when it is still open after `limit`.
    std::optional<int> closed(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        start();
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, limit, [&] { return done_; });
        if (!done_) {
            return std::nullopt;
        }
        return close_code_;
    }

    /// Messages received and not yet taken (after closed(), what came before the close).
    std::size_t pending() {
        std::lock_guard lock(mutex_);
        return queue_.size();
    }

  private:
    void start() {
        if (reader_.joinable() || !open_) {
            if (!open_) {
                std::lock_guard lock(mutex_);
                done_ = true;
            }
            return;
        }
        reader_ = std::thread([this] {
            for (;;) {
                boost::beast::flat_buffer b;
                boost::system::error_code ec;
                ws_.read(b, ec);
                std::lock_guard lock(mutex_);
                if (ec) {
                    close_code_ = ec == boost::beast::websocket::error::closed ? ws_.reason().code : 0;
                    done_ = true;
                    cv_.notify_all();
                    return;
                }
                queue_.push_back(boost::beast::buffers_to_string(b.data()));
                cv_.notify_all();
            }
        });
    }

    boost::asio::io_context io_;
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
    bool open_ = true;
    int refused_ = 0;
    std::string protocol_;
    std::thread reader_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    bool done_ = false;
    int close_code_ = 0;
};

}  // namespace carematch::test
