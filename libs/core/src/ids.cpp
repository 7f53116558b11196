// UUID v4 and random tokens from libsodium's randombytes.
#include <carematch/core/ids.hpp>

#include <sodium.h>

#include <array>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace carematch::core {
namespace {

void ensure_sodium() {
    static const int ok = sodium_init();
    if (ok < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

void append_hex(std::string& out, const unsigned char* p, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 0xF];
    }
}

// Random bytes for ids, drawn from libsodium's generator 4 KiB at a time per thread: one system call per 256
// ids instead of one per id (every request takes one). Tokens and keys draw their own bytes each time.
void id_bytes(unsigned char* out, std::size_t n) {
    thread_local std::array<unsigned char, 4096> pool{};
    thread_local std::size_t used = pool.size();
    if (used + n > pool.size()) {
        ensure_sodium();
        randombytes_buf(pool.data(), pool.size());
        used = 0;
    }
    std::memcpy(out, pool.data() + used, n);
    sodium_memzero(pool.data() + used, n);  // never handed out twice
    used += n;
}

}  // namespace

std::string new_uuid() {
    std::array<unsigned char, 16> b{};
    id_bytes(b.data(), b.size());
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    std::string s;
    s.reserve(36);
    append_hex(s, b.data(), 4);
    s += '-';
    append_hex(s, b.data() + 4, 2);
    s += '-';
    append_hex(s, b.data() + 6, 2);
    s += '-';
    append_hex(s, b.data() + 8, 2);
    s += '-';
    append_hex(s, b.data() + 10, 6);
    return s;
}

std::string random_hex(std::size_t bytes) {
    ensure_sodium();
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    std::string s;
    s.reserve(bytes * 2);
    append_hex(s, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
    return s;
}

std::string sha256_hex(std::string_view bytes) {
    ensure_sodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    std::string s;
    s.reserve(2 * sizeof digest);
    append_hex(s, digest, sizeof digest);
    return s;
}

bool is_uuid(std::string_view s) noexcept {
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return false;
            }
        } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace carematch::core
