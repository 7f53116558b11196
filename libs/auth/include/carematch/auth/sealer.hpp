// Encryption at rest of sensitive fields (health notes, anything about a child): libsodium secretbox
// (XSalsa20-Poly1305) with a key from the environment; nonce and ciphertext stored together.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace carematch::auth {

class sealer {
  public:
    /// `key_b64` is 32 bytes of base64; throws std::invalid_argument otherwise.
    explicit sealer(std::string_view key_b64);

    /// A fresh random key, base64 (tests, local development).
    static std::string generate_key();

    /// nonce || ciphertext of `plaintext`.
    std::string seal(std::string_view plaintext) const;

    /// The plaintext, or nullopt when `sealed` was not made with this key or was altered.
    std::optional<std::string> open(std::string_view sealed) const;

  private:
    std::array<unsigned char, 32> key_{};
};

}  // namespace carematch::auth
