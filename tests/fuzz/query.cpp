// Fuzzes query-string and path-parameter parsing: percent-decoding, the strict integer and number readers,
// page limits, and the local dates and timestamps the services read from queries.
#include <carematch/core/checks.hpp>
#include <carematch/http/message.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    carematch::http::request req;
    req.method = "GET";
    req.path = "/v1/things";
    req.query = text;
    req.target = req.path + "?" + text;
    for (const char* name :
         {"community_id", "limit", "cursor", "from", "to", "lat", "lon", "kind", "status"}) {
        if (auto v = req.query_param(name)) {
            (void)carematch::core::parse_date(*v);
            (void)carematch::core::parse_timestamp(*v);
            (void)carematch::core::plain_text(*v, 200);
        }
        (void)carematch::http::int_param(req, name);
        (void)carematch::http::number_param(req, name);
    }
    (void)carematch::http::page_limit(req, 20);
    (void)carematch::http::page_limit(req, 20, 500);
    (void)carematch::http::percent_decode(text);
    (void)carematch::core::valid_phone(text);
    return 0;
}
