// Encryption at rest of personal data (phones, names, addresses, health notes, anything about a child):
// libsodium secretbox (XSalsa20-Poly1305) with the platform's data key (secret auth.data_key); nonce and
// ciphertext stored together. A keyed hash under a key derived from the same secret finds a sealed value
// (a phone number at login) and keeps it unique without storing it.
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

    /// seal() as base64: how a sealed value is kept in a text column or carried in an event.
    std::string seal_text(std::string_view plaintext) const;
    /// seal_text() of a nullable value: none stays none.
    std::optional<std::string> seal_nullable(const std::optional<std::string>& plaintext) const;
    /// seal_text() of a value that may be empty: empty is stored as none (nothing to hide).
    std::optional<std::string> seal_nonempty(std::string_view plaintext) const;
    /// The plaintext of a seal_text() answer; throws std::runtime_error when it does not open (another key,
    /// altered, not base64): stored data that does not open is a fault of the deployment, never of input.
    std::string open_text(std::string_view sealed_b64) const;
    /// open_text() of a nullable column.
    std::optional<std::string> open_nullable(const std::optional<std::string>& sealed_b64) const;

    /// Keyed BLAKE2b-256 of `plaintext`, hex (64 characters): equal inputs give equal indexes, and nobody
    /// without the data key can compute or invert one.
    std::string index(std::string_view plaintext) const;

  private:
    std::array<unsigned char, 32> key_{};
    std::array<unsigned char, 32> index_key_{};
};

}  // namespace carematch::auth
