// JSON Web Tokens signed with Ed25519 ("alg":"EdDSA"): issued by identity, verified in every service with
// public keys only. The algorithm is pinned and the key id must name a known key.
#pragma once

#include <carematch/auth/caller.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/core/error.hpp>

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace carematch::auth {

/// An Ed25519 key pair with its key id.
struct signing_key {
    std::string kid;
    std::array<unsigned char, 64> secret{};  // libsodium's secret key (seed + public key)
    std::array<unsigned char, 32> public_key{};
};

/// Derives a key from "kid:base64(32-byte seed)"; throws std::invalid_argument when malformed.
signing_key parse_signing_key(std::string_view spec);

/// A fresh random key (tests, local development).
signing_key generate_signing_key(std::string kid);

/// "kid:base64(seed)" for `k`.
std::string format_signing_key(const signing_key& k);
/// "kid:base64(public key)": the entry other services put into auth.verify_keys to trust `k`.
std::string public_key_spec(const signing_key& k);

/// Token type: user access tokens and service tokens are not interchangeable.
enum class token_type { access, service };

struct token_settings {
    std::string issuer = "carematch-identity";
    std::string audience = "carematch";                   // user access tokens
    std::string service_audience = "carematch-internal";  // service-to-service tokens
    std::chrono::seconds access_ttl{15 * 60};
    std::chrono::seconds leeway{30};
};

class token_issuer {
  public:
    token_issuer(signing_key key, token_settings s, const core::clock& clock);

    /// A signed access token for `c` (claims iss, aud, sub, role, org, communities, exp, iat, jti, typ).
    std::string issue(const caller& c) const;

    /// A signed service token naming the calling service in `sub`.
    std::string issue_service(std::string_view service) const;

    const token_settings& settings() const noexcept { return settings_; }

  private:
    signing_key key_;
    token_settings settings_;
    const core::clock& clock_;
};

class token_verifier {
  public:
    token_verifier(token_settings s, const core::clock& clock);

    /// Trusts tokens signed by `public_key` under `kid`.
    void add_key(std::string kid, const std::array<unsigned char, 32>& public_key);

    /// Adds "kid:base64(public key)" entries separated by commas; throws std::invalid_argument when
    /// malformed.
    void add_keys(std::string_view specs);

    /// Verifies signature, algorithm, key id, issuer, audience, type and lifetime; errc::unauthenticated
    /// otherwise. A key whose id is "svc.<service>.<version>" (a service's own key) is accepted only for
    /// service tokens whose subject is that service.
    /// A token verified once is remembered (up to `cache_limit` of them): the same bytes again skip the
    /// signature check, never the lifetime check.
    core::result<caller> verify(std::string_view token, token_type expected) const;

    static constexpr std::size_t cache_limit = 10'000;

  private:
    struct verified {
        caller who;
        std::int64_t issued_at = 0;
        token_type type = token_type::access;
    };
    core::result<caller> verify_signed(std::string_view token, token_type expected, std::int64_t& iat) const;
    bool alive(std::int64_t exp, std::int64_t iat) const;

    token_settings settings_;
    const core::clock& clock_;
    std::map<std::string, std::array<unsigned char, 32>, std::less<>> keys_;
    // Ed25519 verification is most of an authenticated request's CPU: each token's is done once.
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, verified> cache_;
};

/// The token keys and settings every service reads from its config.
struct token_config {
    std::string signing_key;  // secret auth.signing_key: "kid:base64(seed)"
    std::string verify_keys;  // auth.verify_keys: more "kid:base64(public key)" accepted while rotating
    std::string data_key;   // secret auth.data_key: base64 of 32 bytes sealing personal data (auth::sealer);
                            // optional here, required by the services that keep personal data
    token_settings tokens;  // auth.access_ttl_s
};

/// Reads auth.signing_key (required secret), auth.verify_keys, auth.access_ttl_s and auth.data_key (secret).
token_config read_token_config(core::config_source& source);

/// Makes `v` trust `signing_key` ("kid:base64(seed)") and every "kid:base64(public key)" of `verify_keys`;
/// returns the parsed signing key. Throws core::config_error naming auth.signing_key or auth.verify_keys when
/// malformed.
signing_key trust_keys(token_verifier& v, const std::string& signing_key, const std::string& verify_keys);

/// Base64url without padding (RFC 7515 §2).
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace carematch::auth
