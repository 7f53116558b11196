// Fuzzes the JWT verifier: arbitrary bytes as a token, and a valid token with bytes of it changed (so that
// the header, claims and signature checks behind the base64 and JSON parsing are reached too).
#include <carematch/auth/caller.hpp>
#include <carematch/auth/jwt.hpp>
#include <carematch/core/clock.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

struct keys {
    carematch::core::system_clock clock;
    carematch::auth::token_settings settings;
    carematch::auth::token_verifier verifier{settings, clock};
    std::string valid;
    std::string service;
    keys() {
        const auto key = carematch::auth::trust_keys(verifier, "fuzz:" + std::string(43, 'A') + "=", "");
        carematch::auth::token_issuer issuer(key, settings, clock);
        carematch::auth::caller who;
        who.id = "7d6f9a8e-1b2c-4d3e-8f90-123456789abc";
        who.role = carematch::auth::role::staff;
        who.communities = {110101001, 110101002};
        valid = issuer.issue(who);
        service = issuer.issue_service("matching");
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static keys k;
    const std::string raw(reinterpret_cast<const char*>(data), size);
    (void)k.verifier.verify(raw, carematch::auth::token_type::access);
    (void)k.verifier.verify(raw, carematch::auth::token_type::service);
    // Edits of a valid token: pairs of (position, byte).
    std::string token = size % 2 == 0 ? k.valid : k.service;
    for (std::size_t i = 0; i + 1 < size && !token.empty(); i += 2) {
        token[data[i] % token.size()] = static_cast<char>(data[i + 1]);
    }
    (void)k.verifier.verify(token, carematch::auth::token_type::access);
    (void)k.verifier.verify(token, carematch::auth::token_type::service);
    return 0;
}
