// Request/response accessors and problem+json rendering.
#include <carematch/core/log.hpp>
#include <carematch/http/message.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace carematch::http {
bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

namespace {

std::optional<std::string_view> find_header(const header_list& h, std::string_view name) {
    for (const auto& [k, v] : h) {
        if (iequals(k, name)) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

}  // namespace

std::optional<std::string_view> request::header(std::string_view name) const {
    return find_header(headers, name);
}

std::string_view request::param(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

std::optional<std::string> request::query_param(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        auto eq = pair.find('=');
        std::string_view key = pair.substr(0, eq);
        if (key == name) {
            std::string_view raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
            std::string plus_as_space(raw);
            std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
            return percent_decode(plus_as_space);
        }
    }
    return std::nullopt;
}

void response::set_header(std::string_view name, std::string value) {
    for (auto& [k, v] : headers) {
        if (iequals(k, name)) {
            v = std::move(value);
            return;
        }
    }
    headers.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string_view> response::header(std::string_view name) const {
    return find_header(headers, name);
}

response problem_response(const core::problem& p, std::string_view request_id) {
    std::string body = "{\"type\":\"about:blank\",\"title\":\"";
    core::log::append_json_escaped(body, p.title.empty() ? core::status_title(p.status) : p.title);
    body += "\",\"status\":";
    body += std::to_string(p.status);
    if (!p.detail.empty()) {
        body += ",\"detail\":\"";
        core::log::append_json_escaped(body, p.detail);
        body += '"';
    }
    if (!p.field.empty()) {
        body += ",\"field\":\"";
        core::log::append_json_escaped(body, p.field);
        body += '"';
    }
    if (!request_id.empty()) {
        body += ",\"request_id\":\"";
        core::log::append_json_escaped(body, request_id);
        body += '"';
    }
    body += '}';
    response r;
    r.status = p.status;
    r.body = std::move(body);
    r.set_header("Content-Type", "application/problem+json");
    return r;
}

response problem_response(int status, std::string detail, std::string field) {
    core::problem p;
    p.status = status;
    p.title = std::string(core::status_title(status));
    p.detail = std::move(detail);
    p.field = std::move(field);
    return problem_response(p);
}

std::string plain_numbers(std::string json) {
    if (json.find_first_of("eE") == std::string::npos) {
        return json;
    }
    std::string out;
    out.reserve(json.size());
    for (std::size_t i = 0; i < json.size();) {
        const char ch = json[i];
        if (ch == '"') {
            // A string, escapes included, copied as it is.
            std::size_t j = i + 1;
            while (j < json.size() && json[j] != '"') {
                j += json[j] == '\\' ? 2 : 1;
            }
            j = std::min(j + 1, json.size());
            out.append(json, i, j - i);
            i = j;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            std::size_t j = i + 1;
            while (j < json.size() &&
                   (std::isdigit(static_cast<unsigned char>(json[j])) || json[j] == '.' || json[j] == 'e' ||
                    json[j] == 'E' || json[j] == '-' || json[j] == '+')) {
                ++j;
            }
            const std::string token = json.substr(i, j - i);
            const double v =
                token.find_first_of("eE") == std::string::npos ? 0 : std::strtod(token.c_str(), nullptr);
            const double mag = std::fabs(v);
            char buf[64];
            if (v != 0 && mag >= 1e-6 && mag < 1e15) {
                auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
                if (ec == std::errc()) {
                    out.append(buf, end);
                    if (std::find(buf, end, '.') == end) {
                        out += ".0";  // it was written as a double: it stays one (4E0 → 4.0)
                    }
                    i = j;
                    continue;
                }
            }
            if (v == 0 && token.find_first_of("eE") != std::string::npos) {
                out += (token[0] == '-' ? "-0.0" : "0.0");  // 0E0
            } else {
                out += token;
            }
            i = j;
        } else {
            out += ch;
            ++i;
        }
    }
    return out;
}

response json_text_response(int status, std::string body) {
    response r;
    r.status = status;
    r.body = plain_numbers(std::move(body));
    r.set_header("Content-Type", "application/json");
    return r;
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            int hi = hex_value(s[i + 1]);
            int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::optional<int> page_limit(const request& req, int fallback) {
    return page_limit(req, fallback, 100);
}

std::optional<int> page_limit(const request& req, int fallback, int max) {
    auto l = req.query_param("limit");
    if (!l) {
        return fallback;
    }
    if (l->empty() || l->size() > 9 ||
        !std::all_of(l->begin(), l->end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return std::nullopt;
    }
    const int n = std::stoi(*l);
    return n >= 1 && n <= max ? std::optional<int>(n) : std::nullopt;
}

std::optional<double> number_param(const request& req, std::string_view name) {
    auto v = req.query_param(name);
    if (!v || v->empty() || v->size() > 32 || !std::all_of(v->begin(), v->end(), [](char ch) {
            return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E';
        })) {
        return std::nullopt;
    }
    char* end = nullptr;
    const double d = std::strtod(v->c_str(), &end);
    if (end != v->c_str() + v->size() || !std::isfinite(d)) {
        return std::nullopt;
    }
    return d;
}

std::optional<std::int64_t> int_param(const request& req, std::string_view name) {
    auto v = req.query_param(name);
    if (!v) {
        return std::nullopt;
    }
    std::string_view digits = *v;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (negative) {
        digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return std::nullopt;
    }
    std::int64_t n = 0;
    for (char ch : digits) {
        n = n * 10 + (ch - '0');
    }
    return negative ? -n : n;
}

}  // namespace carematch::http
