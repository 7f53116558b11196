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

}  // namespace carematch::auth
