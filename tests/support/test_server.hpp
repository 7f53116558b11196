// Test support: a real HTTP server on a loopback port with its own io threads, and a blocking raw client.
#pragma once

#include <carematch/http/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace carematch::test {

/// Serves `root` on 127.0.0.1, port 0, with two io threads; stops and joins on destruction. Objects bound to
/// the io_context (an app's pool or Redis client) must be given an io_context that outlives them and the
/// server: pass one in.
class test_server {
  public:
    explicit test_server(http::handler root, core::http_settings settings = {})
        : owned_(std::make_unique<boost::asio::io_context>(2)), io_(*owned_) {
        start(std::move(root), settings);
    }
    test_server(boost::asio::io_context& io, http::handler root, core::http_settings settings = {})
        : io_(io) {
        start(std::move(root), settings);
    }

  private:
    void start(http::handler root, core::http_settings settings) {
        settings.host = "127.0.0.1";
        settings.port = 0;
        server_ = std::make_unique<http::server>(io_, settings, std::move(root));
        server_->start();
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { io_.run(); });
        }
    }

  public:
    ~test_server() {
        server_->stop();
        io_.stop();
        for (auto& t : threads_) {
            t.join();
        }
    }
    std::uint16_t port() const { return server_->port(); }
    http::server& server() { return *server_; }
    boost::asio::io_context& io() { return io_; }

  private:
    std::unique_ptr<boost::asio::io_context> owned_;
    boost::asio::io_context& io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
    std::unique_ptr<http::server> server_;
    std::vector<std::thread> threads_;
};

/// A blocking client connection for tests that need to send exact bytes.
class raw_connection {
  public:
    explicit raw_connection(std::uint16_t port) : socket_(io_) {
        socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    }
    void send(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }

    /// Reads one response; throws on a closed connection.
    boost::beast::http::response<boost::beast::http::string_body> read() {
        boost::beast::http::response<boost::beast::http::string_body> res;
        boost::beast::http::read(socket_, buffer_, res);
        return res;
    }

    /// True when the server has closed the connection (reads EOF) — after any answer was read.
    bool closed_by_peer() {
        char c;
        boost::system::error_code ec;
        socket_.read_some(boost::asio::buffer(&c, 1), ec);
        return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
    }

  private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
};

inline std::string get_request(const std::string& target, const std::string& extra_headers = {}) {
    return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n";
}

}  // namespace carematch::test
