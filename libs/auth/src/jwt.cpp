// EdDSA JWT signing and verification with libsodium; claims read with Boost.JSON.
#include <carematch/auth/jwt.hpp>
#include <carematch/core/ids.hpp>

#include <boost/json.hpp>
#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace carematch::auth {
namespace {

void ensure_sodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

std::string b64(std::string_view bytes, int variant) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
    sodium_bin2base64(
        out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), variant);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::optional<std::string> unb64(std::string_view text, int variant) {
    std::string out(text.size(), '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()),
                          out.size(),
                          text.data(),
                          text.size(),
                          nullptr,
                          &len,
                          &end,
                          variant) != 0 ||
        end != text.data() + text.size()) {
        return std::nullopt;
    }
    out.resize(len);
    return out;
}

std::pair<std::string, std::string> split_spec(std::string_view spec) {
    auto colon = spec.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        throw std::invalid_argument("key must look like kid:base64");
    }
    return {std::string(spec.substr(0, colon)), std::string(spec.substr(colon + 1))};
}

std::int64_t seconds(core::clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    ensure_sodium();
    return b64(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> base64url_decode(std::string_view text) {
    ensure_sodium();
    return unb64(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

signing_key parse_signing_key(std::string_view spec) {
    ensure_sodium();
    auto [kid, text] = split_spec(spec);
    auto seed = unb64(text, sodium_base64_VARIANT_ORIGINAL);
    if (!seed || seed->size() != crypto_sign_SEEDBYTES) {
        throw std::invalid_argument("signing key seed must be 32 bytes of base64");
    }
    signing_key k;
    k.kid = kid;
    crypto_sign_seed_keypair(
        k.public_key.data(), k.secret.data(), reinterpret_cast<const unsigned char*>(seed->data()));
    return k;
}

signing_key generate_signing_key(std::string kid) {
    ensure_sodium();
    std::string seed(crypto_sign_SEEDBYTES, '\0');
    randombytes_buf(seed.data(), seed.size());
    return parse_signing_key(kid + ":" + b64(seed, sodium_base64_VARIANT_ORIGINAL));
}

token_config read_token_config(core::config_source& source) {
    token_config c;
    c.signing_key = source.require_secret("auth.signing_key");
    c.verify_keys = source.get_string("auth.verify_keys", "");
    c.data_key = source.get_secret("auth.data_key");
    c.tokens.access_ttl = std::chrono::seconds(source.get_int("auth.access_ttl_s", 900, 60, 3600));
    return c;
}

signing_key trust_keys(token_verifier& v,
                       const std::string& signing_key_spec,
                       const std::string& verify_keys) {
    signing_key key;
    try {
        key = parse_signing_key(signing_key_spec);
    } catch (const std::invalid_argument& e) {
        throw core::config_error("auth.signing_key", e.what());
    }
    v.add_key(key.kid, key.public_key);
    try {
        v.add_keys(verify_keys);
    } catch (const std::invalid_argument& e) {
        throw core::config_error("auth.verify_keys", e.what());
    }
    return key;
}

std::string format_signing_key(const signing_key& k) {
    std::string seed(reinterpret_cast<const char*>(k.secret.data()), crypto_sign_SEEDBYTES);
    return k.kid + ":" + b64(seed, sodium_base64_VARIANT_ORIGINAL);
}

std::string public_key_spec(const signing_key& k) {
    std::string pub(reinterpret_cast<const char*>(k.public_key.data()), k.public_key.size());
    return k.kid + ":" + b64(pub, sodium_base64_VARIANT_ORIGINAL);
}

token_issuer::token_issuer(signing_key key, token_settings s, const core::clock& clock)
    : key_(std::move(key)), settings_(std::move(s)), clock_(clock) {
    ensure_sodium();
}

namespace {

std::string sign(const signing_key& key, const boost::json::object& claims) {
    boost::json::object header{{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", key.kid}};
    std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                        base64url_encode(boost::json::serialize(claims));
    std::array<unsigned char, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(),
                         nullptr,
                         reinterpret_cast<const unsigned char*>(input.data()),
                         input.size(),
                         key.secret.data());
    return input + "." +
           base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

}  // namespace

std::string token_issuer::issue(const caller& c) const {
    auto now = clock_.now();
    boost::json::array communities;
    for (auto id : c.communities) {
        communities.push_back(id);
    }
    boost::json::object claims{{"iss", settings_.issuer},
                               {"aud", settings_.audience},
                               {"sub", c.id},
                               {"role", to_string(c.role)},
                               {"org", c.org},
                               {"communities", std::move(communities)},
                               {"iat", seconds(now)},
                               {"exp", seconds(now + settings_.access_ttl)},
                               {"jti", core::new_uuid()},
                               {"typ", "access"}};
    return sign(key_, claims);
}

std::string token_issuer::issue_service(std::string_view service) const {
    auto now = clock_.now();
    boost::json::object claims{{"iss", settings_.issuer},
                               {"aud", settings_.service_audience},
                               {"sub", service},
                               {"role", "service"},
                               {"iat", seconds(now)},
                               {"exp", seconds(now + settings_.access_ttl)},
                               {"jti", core::new_uuid()},
                               {"typ", "service"}};
    return sign(key_, claims);
}

token_verifier::token_verifier(token_settings s, const core::clock& clock)
    : settings_(std::move(s)), clock_(clock) {
    ensure_sodium();
}

void token_verifier::add_key(std::string kid, const std::array<unsigned char, 32>& public_key) {
    keys_[std::move(kid)] = public_key;
}

void token_verifier::add_keys(std::string_view specs) {
    while (!specs.empty()) {
        auto comma = specs.find(',');
        std::string_view one = specs.substr(0, comma);
        specs = comma == std::string_view::npos ? std::string_view{} : specs.substr(comma + 1);
        if (one.empty()) {
            continue;
        }
        auto [kid, text] = split_spec(one);
        auto pub = unb64(text, sodium_base64_VARIANT_ORIGINAL);
        if (!pub || pub->size() != 32) {
            throw std::invalid_argument("verify key must be 32 bytes of base64");
        }
        std::array<unsigned char, 32> k{};
        std::copy(pub->begin(), pub->end(), k.begin());
        add_key(kid, k);
    }
}

core::result<caller> token_verifier::verify(std::string_view token, token_type expected) const {
    {
        std::lock_guard lock(cache_mutex_);
        if (auto it = cache_.find(std::string(token)); it != cache_.end() && it->second.type == expected) {
            if (!alive(it->second.who.expires_at, it->second.issued_at)) {
                return core::errc::unauthenticated;
            }
            return it->second.who;
        }
    }
    std::int64_t iat = 0;
    auto c = verify_signed(token, expected, iat);
    if (c) {
        std::lock_guard lock(cache_mutex_);
        if (cache_.size() >= cache_limit) {
            std::erase_if(cache_,
                          [&](const auto& e) { return !alive(e.second.who.expires_at, e.second.issued_at); });
            if (cache_.size() >= cache_limit) {
                cache_.clear();
            }
        }
        cache_.insert_or_assign(std::string(token), verified{*c, iat, expected});
    }
    return c;
}

bool token_verifier::alive(std::int64_t exp, std::int64_t iat) const {
    const auto now = seconds(clock_.now());
    const auto leeway = settings_.leeway.count();
    return exp + leeway >= now && iat - leeway <= now;
}

core::result<caller> token_verifier::verify_signed(std::string_view token,
                                                   token_type expected,
                                                   std::int64_t& issued_at) const {
    const auto deny = core::errc::unauthenticated;
    if (token.size() > 8192) {
        return deny;
    }
    auto d1 = token.find('.');
    auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
        return deny;
    }
    auto header_text = base64url_decode(token.substr(0, d1));
    auto claims_text = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
    auto sig = base64url_decode(token.substr(d2 + 1));
    if (!header_text || !claims_text || !sig || sig->size() != crypto_sign_BYTES) {
        return deny;
    }
    boost::system::error_code ec;
    auto header = boost::json::parse(*header_text, ec);
    if (ec || !header.is_object()) {
        return deny;
    }
    const auto* alg = header.as_object().if_contains("alg");
    const auto* kid = header.as_object().if_contains("kid");
    // The algorithm is pinned: anything but EdDSA ("none", HS256 with the public key…) is refused.
    if (alg == nullptr || !alg->is_string() || alg->as_string() != "EdDSA" || kid == nullptr ||
        !kid->is_string()) {
        return deny;
    }
    auto key = keys_.find(std::string_view(kid->as_string()));
    if (key == keys_.end()) {
        return deny;
    }
    std::string_view signed_part = token.substr(0, d2);
    if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                    reinterpret_cast<const unsigned char*>(signed_part.data()),
                                    signed_part.size(),
                                    key->second.data()) != 0) {
        return deny;
    }
    auto claims_value = boost::json::parse(*claims_text, ec);
    if (ec || !claims_value.is_object()) {
        return deny;
    }
    const auto& claims = claims_value.as_object();
    auto str = [&](const char* name) -> std::string {
        const auto* v = claims.if_contains(name);
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    auto num = [&](const char* name) -> std::optional<std::int64_t> {
        const auto* v = claims.if_contains(name);
        if (v != nullptr && v->is_int64()) {
            return v->as_int64();
        }
        return std::nullopt;
    };
    const bool service = expected == token_type::service;
    if (str("iss") != settings_.issuer ||
        str("aud") != (service ? settings_.service_audience : settings_.audience) ||
        str("typ") != (service ? "service" : "access")) {
        return deny;
    }
    auto exp = num("exp");
    auto iat = num("iat");
    if (!exp || !iat || !alive(*exp, *iat)) {
        return deny;
    }
    issued_at = *iat;
    auto r = parse_role(str("role"));
    if (!r || (*r == role::service) != service) {
        return deny;
    }
    // A service's own key ("svc.<service>.<version>") signs only that service's service tokens: a leaked
    // orders key mints no user's access token and speaks for no other service.
    if (std::string_view k = key->first; k.starts_with("svc.")) {
        const auto last = k.rfind('.');
        if (!service || last <= 4 || str("sub") != k.substr(4, last - 4)) {
            return deny;
        }
    }
    caller c;
    c.id = str("sub");
    c.role = *r;
    c.org = str("org");
    c.token_id = str("jti");
    c.expires_at = static_cast<std::int64_t>(*exp);
    if (c.id.empty()) {
        return deny;
    }
    if (const auto* comms = claims.if_contains("communities"); comms != nullptr && comms->is_array()) {
        for (const auto& v : comms->as_array()) {
            if (!v.is_int64()) {
                return deny;
            }
            c.communities.push_back(v.as_int64());
        }
    }
    return c;
}

}  // namespace carematch::auth
