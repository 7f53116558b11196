// Fuzzes JSON request bodies into the services' described request types (unknown keys, wrong types, depth,
// duplicate keys) — identity, orders, providers, nursery and matching —, ratings' review rules (read and
// checked member by member, as its handlers do), the text checks applied to what they carry, and the
// rewriting of numbers in answers. The first byte picks the type; the rest is the body.
#include "identity/src/dto.hpp"
#include "matching/src/dto.hpp"
#include "nursery/src/dto.hpp"
#include "orders/src/dto.hpp"
#include "providers/src/dto.hpp"
#include "ratings/src/review_body.hpp"

#include <carematch/core/checks.hpp>
#include <carematch/http/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

template <class T>
void parse(const carematch::http::request& req) {
    auto body = carematch::http::parse_json_body<T>(req);
    (void)body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    carematch::http::request req;
    req.method = "POST";
    req.path = "/v1/x";
    req.headers.emplace_back("content-type", "application/json");
    req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
    namespace id = carematch::identity;
    namespace od = carematch::orders;
    namespace pd = carematch::providers;
    namespace nd = carematch::nursery;
    switch (data[0] % 24) {
        case 0:
            parse<id::register_body>(req);
            break;
        case 1:
            parse<id::login_body>(req);
            break;
        case 2:
            parse<id::staff_body>(req);
            break;
        case 3:
            parse<id::recipient_body>(req);
            break;
        case 4:
            parse<id::region_body>(req);
            break;
        case 5:
            parse<id::consent_body>(req);
            break;
        case 6:
            parse<od::place_body>(req);
            break;
        case 7:
            parse<od::quote_body>(req);
            break;
        case 8:
            parse<od::check_in_body>(req);
            break;
        case 9:
            parse<od::internal_transitions_body>(req);
            break;
        case 10:
            parse<od::complete_body>(req);
            break;
        case 12:
            parse<pd::worker_body>(req);
            break;
        case 13:
            parse<pd::availability_body>(req);
            break;
        case 14:
            parse<pd::organisation_body>(req);
            break;
        case 15:
            parse<pd::canteen_body>(req);
            break;
        case 16:
            parse<nd::nursery_body>(req);
            break;
        case 17:
            parse<nd::booking_body>(req);
            break;
        case 18:
            parse<nd::pickups_body>(req);
            break;
        case 20:
            parse<carematch::matching::decline_body>(req);
            break;
        case 21:
        case 22: {
            // A review: created (with its order) or edited, for each kind's dimensions.
            auto obj = carematch::http::parse_json_object(req);
            if (obj) {
                const bool with_order = data[0] % 24 == 21;
                for (const char* kind : {"bath", "meal", "nursery"}) {
                    (void)carematch::ratings::check_body(*obj, kind, with_order);
                }
                (void)carematch::ratings::read_body(*obj, std::nullopt, with_order);
            }
            break;
        }
        default: {
            auto obj = carematch::http::parse_json_object(req);
            (void)obj;
            (void)carematch::http::plain_numbers(req.body);
            (void)carematch::core::plain_text(req.body, 2000);
            (void)carematch::core::code_points(req.body);
        }
    }
    return 0;
}
