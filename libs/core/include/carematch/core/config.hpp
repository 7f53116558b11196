// Typed service configuration read from a TOML file with environment overrides.
#pragma once

#include <carematch/core/clock.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace carematch::core {

/// A configuration problem; what() names the key (e.g. "db.url: required key is missing").
class config_error : public std::runtime_error {
  public:
    config_error(std::string key, const std::string& what)
        : std::runtime_error(key + ": " + what), key_(std::move(key)) {}
    const std::string& key() const noexcept { return key_; }

  private:
    std::string key_;
};

/// Looks up an environment variable; injectable so that tests need not touch the process environment.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
env_lookup process_env();

/// A TOML document plus environment overrides, read through typed getters.
///
/// Key "db.url" of service "identity" is taken from CAREMATCH_IDENTITY_DB_URL, else CAREMATCH_DB_URL,
/// else the file, else the default. Every getter throws config_error naming the key when the value has
/// the wrong type or lies outside its range; reject_unknown() throws for keys in the file nobody read.
class config_source {
  public:
    /// Parses `toml_text`; throws config_error (key "<file>") on a syntax error.
    config_source(std::string_view toml_text, std::string service, env_lookup env = process_env());
    ~config_source();
    config_source(config_source&&) noexcept;
    config_source& operator=(config_source&&) noexcept;

    /// Reads and parses a file; throws config_error when it cannot be read or parsed.
    static config_source from_file(const std::filesystem::path& path,
                                   std::string service,
                                   env_lookup env = process_env());

    std::string get_string(std::string_view key, std::string default_value);
    std::string require_string(std::string_view key);
    std::int64_t get_int(std::string_view key,
                         std::int64_t default_value,
                         std::int64_t min,
                         std::int64_t max);
    bool get_bool(std::string_view key, bool default_value);

    /// A secret: from the environment (as for any key), or read from the file named by `<key>_file`; never
    /// from the TOML file itself (config_error if it is there). Empty when absent.
    std::string get_secret(std::string_view key);

    /// get_secret(), but an absent secret is a config_error naming the key and where it may come from.
    std::string require_secret(std::string_view key);

    /// Throws config_error naming the first key present in the file that no getter asked for.
    void reject_unknown() const;

    /// The environment variable names consulted for `key`, most specific first.
    std::pair<std::string, std::string> env_names(std::string_view key) const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

struct http_settings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    int io_threads = 2;
    std::size_t body_limit = 1024 * 1024;
    std::size_t header_limit = 16 * 1024;
    std::chrono::milliseconds request_timeout{10'000};   // whole request must arrive within this (else 408)
    std::chrono::milliseconds idle_timeout{60'000};      // keep-alive connection without a request
    std::chrono::milliseconds shutdown_grace{10'000};    // in-flight requests may finish within this
    int max_in_flight = 1024;                            // reads, and writes, handled at once at the most
                                                         // (0: no admission control)
    int admission_floor = 8;                             // the adaptive limits never fall below this
    std::chrono::milliseconds queue_delay_target{20};    // requests standing in a queue longer: overload
    std::chrono::milliseconds request_deadline{30'000};  // a handler not done by then: 503 (below the 60 s
                                                         // in which an Idempotency-Key may be claimed again)
};

struct db_settings {
    std::string url;
    int pool_size = 8;
    std::chrono::milliseconds statement_timeout{5'000};
    std::string schema;     // set by the service (not config): the search_path of every pooled connection
    int queue_limit = 256;  // transactions waiting for a connection; more: 503
    std::chrono::milliseconds acquire_timeout{1'000};  // waited longer for a connection: 503, not run
    std::chrono::seconds connect_timeout{5};           // libpq's connect_timeout
};

struct redis_settings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
};

struct log_settings {
    std::string level = "info";
};

/// What every service reads: its listener, PostgreSQL, Redis, logging and the local calendar.
/// One class of requests' budget per caller: `per_minute` on average, `burst` at once. per_minute 0: no
/// limit.
struct rate_class {
    int per_minute = 0;
    int burst = 0;
};

/// Per-caller request budgets, shared by every instance through Redis ([limits]).
struct rate_limits {
    rate_class auth{60, 20};      // /v1/auth/..., per client address
    rate_class writes{120, 30};   // other POST, PUT, PATCH, DELETE, per user (per address without a token)
    rate_class reads{1200, 200};  // GET and HEAD, per user (per address without a token)
};

struct service_config {
    http_settings http;
    rate_limits limits;
    db_settings db;
    redis_settings redis;
    log_settings log;
    calendar local;  // time.utc_offset_minutes: the offset of local days (480, Asia/Shanghai)
};

/// Reads the [http], [db], [redis], [log] and [time] tables; db.url is required.
service_config read_service_config(config_source& source);

/// Parses "redis://host:port" (the form of CAREMATCH_REDIS_URL); throws config_error for `key` otherwise.
redis_settings parse_redis_url(std::string_view key, std::string_view url);

}  // namespace carematch::core
