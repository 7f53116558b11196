// JSON-line logger writing whole lines under one lock.
#include <carematch/core/log.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace carematch::core::log {
namespace {

std::atomic<int> current_level{static_cast<int>(level::info)};
std::mutex sink_mutex;
std::function<void(std::string_view)>& sink() {
    static std::function<void(std::string_view)> s;
    return s;
}

std::string_view level_name(level l) {
    switch (l) {
        case level::debug:
            return "debug";
        case level::info:
            return "info";
        case level::warn:
            return "warn";
        case level::error:
            return "error";
    }
    return "info";
}

void append_time(std::string& out) {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf,
                  sizeof buf,
                  "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  tm.tm_year + 1900,
                  tm.tm_mon + 1,
                  tm.tm_mday,
                  tm.tm_hour,
                  tm.tm_min,
                  tm.tm_sec,
                  static_cast<int>(ms));
    out += buf;
}

}  // namespace

level parse_level(std::string_view name) noexcept {
    if (name == "debug") {
        return level::debug;
    }
    if (name == "warn") {
        return level::warn;
    }
    if (name == "error") {
        return level::error;
    }
    return level::info;
}

void set_level(level l) noexcept {
    current_level.store(static_cast<int>(l));
}

bool enabled(level l) noexcept {
    return static_cast<int>(l) >= current_level.load(std::memory_order_relaxed);
}

void set_sink(std::function<void(std::string_view)> s) {
    std::lock_guard lock(sink_mutex);
    sink() = std::move(s);
}

void append_json_escaped(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(
                        buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
}

std::string format(level l, std::string_view message, std::initializer_list<field> fields) {
    std::string line;
    line.reserve(128);
    line += "{\"ts\":\"";
    append_time(line);
    line += "\",\"level\":\"";
    line += level_name(l);
    line += "\",\"msg\":\"";
    append_json_escaped(line, message);
    line += '"';
    for (const field& f : fields) {
        line += ",\"";
        append_json_escaped(line, f.key);
        line += "\":";
        if (const auto* s = std::get_if<std::string>(&f.value)) {
            line += '"';
            append_json_escaped(line, *s);
            line += '"';
        } else if (const auto* i = std::get_if<std::int64_t>(&f.value)) {
            line += std::to_string(*i);
        } else if (const auto* d = std::get_if<double>(&f.value)) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6g", *d);
            line += buf;
        } else {
            line += std::get<bool>(f.value) ? "true" : "false";
        }
    }
    line += '}';
    return line;
}

void write(level l, std::string_view message, std::initializer_list<field> fields) {
    if (static_cast<int>(l) < current_level.load(std::memory_order_relaxed)) {
        return;
    }
    std::string line = format(l, message, fields);
    std::lock_guard lock(sink_mutex);
    if (sink()) {
        sink()(line);
        return;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace carematch::core::log
