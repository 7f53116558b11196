// Random identifiers (UUID v4, opaque hex tokens) from libsodium's CSPRNG, and SHA-256 digests in hex.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace carematch::core {

/// A random UUID (version 4), lowercase "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string new_uuid();

/// `bytes` random bytes as 2·bytes lowercase hex characters.
std::string random_hex(std::size_t bytes);

/// SHA-256 of `bytes` as 64 lowercase hex characters (refresh token storage, request fingerprints).
std::string sha256_hex(std::string_view bytes);

/// True when `s` is a canonical lowercase or uppercase UUID string.
bool is_uuid(std::string_view s) noexcept;

}  // namespace carematch::core
