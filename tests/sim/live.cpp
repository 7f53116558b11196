// The WebSocket client (Beast's headers stay in this one translation unit).
#include "live.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>

namespace carematch::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;

boost::asio::awaitable<int> live(std::string host,
                                 std::uint16_t port,
                                 std::string token,
                                 std::string ip,
                                 std::function<void()> on_open,
                                 std::function<void(const std::string&)> on_frame,
                                 std::shared_ptr<bool> stop) {
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    auto ex = co_await asio::this_coro::executor;
    beast::websocket::stream<beast::tcp_stream> ws(ex);
    boost::system::error_code aec;
    const auto address = asio::ip::make_address(host, aec);
    if (aec) {
        co_return 0;
    }
    const asio::ip::tcp::endpoint at(address, port);
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
    auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(at, tuple);
    if (cec) {
        co_return 0;
    }
    ws.set_option(beast::websocket::stream_base::decorator([token, ip](beast::websocket::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, "carematch.v1, bearer." + token);
        req.set("X-Real-IP", ip);
    }));
    const std::string path = "/v1/ws";
    auto [hec] = co_await ws.async_handshake(host, path, tuple);
    if (hec) {
        co_return 0;
    }
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(beast::websocket::stream_base::timeout::suggested(beast::role_type::client));
    on_open();
    beast::flat_buffer buffer;
    while (!*stop) {
        auto [ec, n] = co_await ws.async_read(buffer, tuple);
        if (ec) {
            co_return ws.reason().code;
        }
        on_frame(beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
    }
    co_return 1000;
}

}  // namespace carematch::sim
