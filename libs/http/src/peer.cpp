// Peer calls: URL parsing and a JSON GET.
#include <carematch/core/config.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/peer.hpp>

#include <boost/json/parse.hpp>

namespace carematch::http {

endpoint parse_http_url(std::string_view key, std::string_view url) {
    if (!url.starts_with("http://")) {
        throw core::config_error(std::string(key), "must look like http://host:port");
    }
    // Same host:port shape as a Redis URL.
    auto hp = core::parse_redis_url(key, "redis://" + std::string(url.substr(7)));
    return endpoint{hp.host, hp.port};
}

boost::asio::awaitable<core::result<boost::json::object>> get_json(client& c,
                                                                   const endpoint& peer,
                                                                   std::string target,
                                                                   std::string token) {
    outgoing o;
    o.method = "GET";
    o.target = std::move(target);
    o.headers = {{"Authorization", "Bearer " + token}};
    auto res = co_await c.send(peer.host, peer.port, std::move(o));
    if (!res) {
        co_return core::errc::unavailable;
    }
    if (res->status == 404) {
        co_return core::errc::not_found;
    }
    if (res->status != 200) {
        core::log::warn("a peer refused a read", {{"status", res->status}, {"port", peer.port}});
        co_return core::errc::unavailable;
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(res->body, ec);
    if (ec || !v.is_object()) {
        co_return core::errc::unavailable;
    }
    co_return v.as_object();
}

}  // namespace carematch::http
