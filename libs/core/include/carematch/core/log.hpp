// JSON-line logging: one object per line with time, level, message and fields such as request_id.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace carematch::core::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

/// Parses "debug", "info", "warn" or "error"; anything else is info.
level parse_level(std::string_view name) noexcept;

/// Lines below `l` are dropped.
void set_level(level l) noexcept;
/// Whether lines of level `l` are written (callers skip building fields for a line nobody reads).
bool enabled(level l) noexcept;

/// Where lines go (stderr by default); tests capture them here. Not for use while logging is in progress.
void set_sink(std::function<void(std::string_view line)> sink);

/// One key and value of a log line. Strings are escaped; numbers and booleans are written bare.
struct field {
    field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
    field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
    field(std::string_view k, const std::string& v) : key(k), value(v) {}
    field(std::string_view k, std::int64_t v) : key(k), value(v) {}
    field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
    field(std::string_view k, unsigned v) : key(k), value(static_cast<std::int64_t>(v)) {}
    field(std::string_view k, std::uint64_t v) : key(k), value(static_cast<std::int64_t>(v)) {}
    field(std::string_view k, double v) : key(k), value(v) {}
    field(std::string_view k, bool v) : key(k), value(v) {}

    std::string_view key;
    std::variant<std::string, std::int64_t, double, bool> value;
};

/// Writes one line if `l` is enabled.
void write(level l, std::string_view message, std::initializer_list<field> fields = {});

/// Formats one line without writing it (exposed for tests).
std::string format(level l, std::string_view message, std::initializer_list<field> fields);

inline void debug(std::string_view m, std::initializer_list<field> f = {}) {
    write(level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<field> f = {}) {
    write(level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<field> f = {}) {
    write(level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<field> f = {}) {
    write(level::error, m, f);
}

/// Appends `s` to `out` as the inside of a JSON string (quotes, backslashes and control bytes escaped).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace carematch::core::log
