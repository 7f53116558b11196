// Fuzzes the server's request reader (its Beast parser, limits and refusals) and what dispatch does with the
// request: route matching with path parameters over the services' route shapes, headers and query parameters.
#include <carematch/http/router.hpp>
#include <carematch/http/server.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

const carematch::http::router& routes() {
    static const carematch::http::router r = [] {
        carematch::http::router out;
        carematch::http::handler none =
            [](carematch::http::request&) -> boost::asio::awaitable<carematch::http::response> {
            co_return carematch::http::response{};
        };
        for (const char* p : {"/v1/orders",
                              "/v1/orders/{id}",
                              "/v1/orders/{id}/check-in",
                              "/v1/recipients/{id}/consents/{purpose}",
                              "/v1/complaints/{id}/claim",
                              "/v1/providers/workers/{id}",
                              "/v1/nursery/bookings/{id}/days/{day}/check-in",
                              "/v1/supervision/communities/{id}",
                              "/v1/offers/{id}/accept",
                              "/healthz"}) {
            out.add("GET", p, none);
            out.add("POST", p, none);
        }
        return out;
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto parsed = carematch::http::parse_request(bytes, 16384, 1 << 20);
    if (!parsed.req) {
        return 0;
    }
    const auto& req = *parsed.req;
    auto m = routes().find(req.method, req.path);
    for (const auto& [name, value] : m.params) {
        (void)name;
        (void)value;
    }
    (void)req.header("authorization");
    (void)req.header("idempotency-key");
    (void)req.query_param("cursor");
    (void)carematch::http::int_param(req, "community_id");
    (void)carematch::http::number_param(req, "lat");
    (void)carematch::http::page_limit(req, 20);
    return 0;
}
