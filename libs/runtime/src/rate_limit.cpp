// GCRA in one Redis script: a caller's key holds its theoretical arrival time; a request is admitted when
// that time is at most the burst tolerance ahead of now.
#include <carematch/auth/caller.hpp>
#include <carematch/auth/jwt.hpp>
#include <carematch/core/log.hpp>
#include <carematch/redis/client.hpp>
#include <carematch/runtime/rate_limit.hpp>

#include <chrono>
#include <mutex>

namespace carematch::runtime {

namespace {

// ARGV: emission interval (ms), burst tolerance (ms). Returns {admitted, remaining, retry_after_ms,
// reset_ms}.
constexpr const char* gcra = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat - now > tolerance then
  return {0, 0, tat - tolerance - now, tat - now}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', next_tat - now + 1))
local remaining = math.floor((tolerance - (next_tat - now)) / interval) + 1
if remaining < 0 then remaining = 0 end
return {1, remaining, 0, next_tat - now}
)lua";

struct verdict {
    bool admitted = true;
    long long remaining = 0;
    long long retry_after_ms = 0;
    long long reset_ms = 0;
};

bool exempt(const http::request& req) {
    const auto& p = req.path;
    return p == "/healthz" || p == "/readyz" || p == "/metrics" || p.starts_with("/v1/internal/");
}

// The client's address: the peer's, or X-Real-IP when the peer is a proxy on this machine (nginx in front).
std::string client_address(const http::request& req) {
    if (req.remote_address == "127.0.0.1" || req.remote_address == "::1") {
        if (auto real = req.header("x-real-ip"); real && !real->empty() && real->size() <= 45) {
            return std::string(*real);
        }
    }
    return req.remote_address;
}

long long ceil_seconds(long long ms) {
    return (ms + 999) / 1000;
}

}  // namespace

http::middleware rate_limit(const core::rate_limits& limits,
                            redis::client& redis,
                            const auth::token_verifier& verifier,
                            rate_limit_stats& stats,
                            std::string prefix) {
    auto last_warning = std::make_shared<std::atomic<std::int64_t>>(0);
    return [limits, &redis, &verifier, &stats, prefix = std::move(prefix), last_warning](
               http::request& req, const http::handler& next) -> boost::asio::awaitable<http::response> {
        if (exempt(req)) {
            co_return co_await next(req);
        }
        const char* name = nullptr;
        const core::rate_class* cls = nullptr;
        std::string who;
        if (req.path.starts_with("/v1/auth/")) {
            name = "auth";
            cls = &limits.auth;
            who = "ip:" + client_address(req);
        } else {
            const bool read = req.method == "GET" || req.method == "HEAD";
            name = read ? "reads" : "writes";
            cls = read ? &limits.reads : &limits.writes;
            if (auto caller = auth::authenticate(req, verifier, true)) {
                if (caller->is(auth::role::service)) {
                    co_return co_await next(req);
                }
                who = "u:" + caller->id;
            } else {
                who = "ip:" + client_address(req);
            }
        }
        if (cls->per_minute <= 0) {
            co_return co_await next(req);
        }
        const long long interval = std::max<long long>(1, 60'000 / cls->per_minute);
        const long long tolerance = interval * std::max(0, cls->burst - 1);
        std::vector<std::string> args{"EVAL",
                                      gcra,
                                      "1",
                                      prefix + ":" + name + ":" + who,
                                      std::to_string(interval),
                                      std::to_string(tolerance)};
        auto r = co_await redis.command(std::move(args));
        if (!r || r->is_error() || r->elements.size() != 4) {
            ++stats.fail_open;
            const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
            if (auto last = last_warning->load();
                now - last >= 60 && last_warning->compare_exchange_strong(last, now)) {
                core::log::warn("rate limits not enforced: Redis did not answer",
                                {{"error", r ? r->str : r.error().message()}});
            }
            co_return co_await next(req);
        }
        verdict v{r->elements[0].integer == 1,
                  r->elements[1].integer,
                  r->elements[2].integer,
                  r->elements[3].integer};
        const std::string policy =
            std::string("\"") + name + "\";q=" + std::to_string(cls->burst) +
            ";w=" + std::to_string(std::max<long long>(1, ceil_seconds(interval * cls->burst)));
        const std::string state = std::string("\"") + name + "\";r=" + std::to_string(v.remaining) +
                                  ";t=" + std::to_string(ceil_seconds(v.reset_ms));
        if (!v.admitted) {
            ++stats.limited;
            auto res = http::problem_response(req,
                                              core::errc::too_many_requests,
                                              std::string("over the ") + name + " budget of " +
                                                  std::to_string(cls->per_minute) +
                                                  " a minute; retry after the time in Retry-After");
            res.set_header("Retry-After",
                           std::to_string(std::max<long long>(1, ceil_seconds(v.retry_after_ms))));
            res.set_header("RateLimit-Policy", policy);
            res.set_header("RateLimit", state);
            co_return res;
        }
        auto res = co_await next(req);
        if (!res.upgrade) {
            res.set_header("RateLimit-Policy", policy);
            res.set_header("RateLimit", state);
        }
        co_return res;
    };
}

}  // namespace carematch::runtime
