// secretbox sealing with a random nonce per value.
#include <carematch/auth/sealer.hpp>

#include <sodium.h>

#include <stdexcept>

namespace carematch::auth {

sealer::sealer(std::string_view key_b64) {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(key_.data(),
                          key_.size(),
                          key_b64.data(),
                          key_b64.size(),
                          nullptr,
                          &len,
                          &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != key_.size() || end != key_b64.data() + key_b64.size()) {
        throw std::invalid_argument("the data key must be 32 bytes of base64");
    }
    static_assert(crypto_kdf_KEYBYTES == 32 && crypto_generichash_KEYBYTES_MAX >= 32);
    crypto_kdf_derive_from_key(index_key_.data(), index_key_.size(), 1, "cmindex_", key_.data());
}

std::string sealer::generate_key() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
    unsigned char key[crypto_secretbox_KEYBYTES];
    crypto_secretbox_keygen(key);
    char out[sodium_base64_ENCODED_LEN(crypto_secretbox_KEYBYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(out, sizeof out, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

std::string sealer::seal(std::string_view plaintext) const {
    std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(plaintext.data()),
                          plaintext.size(),
                          nonce,
                          key_.data());
    return out;
}

std::optional<std::string> sealer::open(std::string_view sealed) const {
    if (sealed.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        return std::nullopt;
    }
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    const auto* box = nonce + crypto_secretbox_NONCEBYTES;
    std::size_t box_len = sealed.size() - crypto_secretbox_NONCEBYTES;
    std::string out(box_len - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(
            reinterpret_cast<unsigned char*>(out.data()), box, box_len, nonce, key_.data()) != 0) {
        return std::nullopt;
    }
    return out;
}

std::string sealer::seal_text(std::string_view plaintext) const {
    const std::string box = seal(plaintext);
    std::string out(sodium_base64_ENCODED_LEN(box.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(),
                      out.size(),
                      reinterpret_cast<const unsigned char*>(box.data()),
                      box.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the terminating NUL
    return out;
}

std::optional<std::string> sealer::seal_nullable(const std::optional<std::string>& plaintext) const {
    return plaintext ? std::optional<std::string>(seal_text(*plaintext)) : std::nullopt;
}

std::optional<std::string> sealer::seal_nonempty(std::string_view plaintext) const {
    return plaintext.empty() ? std::nullopt : std::optional<std::string>(seal_text(plaintext));
}

std::string sealer::open_text(std::string_view sealed_b64) const {
    std::string box(sealed_b64.size(), '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(box.data()),
                          box.size(),
                          sealed_b64.data(),
                          sealed_b64.size(),
                          nullptr,
                          &len,
                          &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != sealed_b64.data() + sealed_b64.size()) {
        throw std::runtime_error("a sealed value is not base64");
    }
    box.resize(len);
    auto plain = open(box);
    if (!plain) {
        throw std::runtime_error("a sealed value does not open with the configured data key");
    }
    return std::move(*plain);
}

std::optional<std::string> sealer::open_nullable(const std::optional<std::string>& sealed_b64) const {
    if (!sealed_b64) {
        return std::nullopt;
    }
    return open_text(std::string_view(*sealed_b64));
}

std::string sealer::index(std::string_view plaintext) const {
    unsigned char h[32];
    crypto_generichash(h,
                       sizeof h,
                       reinterpret_cast<const unsigned char*>(plaintext.data()),
                       plaintext.size(),
                       index_key_.data(),
                       index_key_.size());
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (unsigned char b : h) {
        out += digits[b >> 4];
        out += digits[b & 0xF];
    }
    return out;
}

}  // namespace carematch::auth
