// Random identifiers: UUID v4 strings and opaque hex tokens from libsodium's CSPRNG.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace carematch::core {

/// A random UUID (version 4), lowercase "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string new_uuid();

/// `bytes` random bytes as 2·bytes lowercase hex characters.
std::string random_hex(std::size_t bytes);

/// True when `s` is a canonical lowercase or uppercase UUID string.
bool is_uuid(std::string_view s) noexcept;

}  // namespace carematch::core
