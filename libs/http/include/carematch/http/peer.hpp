// Calls between services: where a peer listens (from an http:// URL in config) and a JSON GET with a service
// token.
#pragma once

#include <carematch/core/error.hpp>
#include <carematch/http/client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace carematch::http {

struct endpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 80;
};

/// "http://host:port" → endpoint; throws core::config_error naming `key` otherwise.
endpoint parse_http_url(std::string_view key, std::string_view url);

/// GETs `target` from the peer with "Authorization: Bearer <token>" and parses the JSON object it answers.
/// errc::not_found on 404; errc::unavailable when the peer is down, refuses, or answers something else.
boost::asio::awaitable<core::result<boost::json::object>> get_json(client& c,
                                                                   const endpoint& peer,
                                                                   std::string target,
                                                                   std::string token);

}  // namespace carematch::http
