// TOML config parsing with environment overrides; the only translation unit that includes toml++.
#include <carematch/core/config.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace carematch::core {

env_lookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        if (const char* v = std::getenv(name.c_str())) {
            return std::string(v);
        }
        return std::nullopt;
    };
}

struct config_source::impl {
    toml::table table;
    std::string service;
    env_lookup env;
    std::set<std::string, std::less<>> used;

    std::optional<std::string> from_env(std::string_view key, const config_source& self) const {
        auto [specific, general] = self.env_names(key);
        if (auto v = env(specific)) {
            return v;
        }
        return env(general);
    }

    const toml::node* node(std::string_view key) { return table.at_path(key).node(); }
};

config_source::config_source(std::string_view toml_text, std::string service, env_lookup env)
    : impl_(std::make_unique<impl>()) {
    impl_->service = std::move(service);
    impl_->env = std::move(env);
    try {
        impl_->table = toml::parse(toml_text);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << e.description() << " at line " << e.source().begin.line;
        throw config_error("<toml>", os.str());
    }
}

config_source::~config_source() = default;
config_source::config_source(config_source&&) noexcept = default;
config_source& config_source::operator=(config_source&&) noexcept = default;

config_source config_source::from_file(const std::filesystem::path& path,
                                       std::string service,
                                       env_lookup env) {
    std::ifstream in(path);
    if (!in) {
        throw config_error(path.string(), "cannot read config file");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return config_source(ss.str(), std::move(service), std::move(env));
    } catch (const config_error& e) {
        throw config_error(path.string(), e.what());
    }
}

std::pair<std::string, std::string> config_source::env_names(std::string_view key) const {
    std::string suffix;
    for (char c : key) {
        suffix += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    std::string svc;
    for (char c : impl_->service) {
        svc += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return {"CAREMATCH_" + svc + "_" + suffix, "CAREMATCH_" + suffix};
}

std::string config_source::get_string(std::string_view key, std::string default_value) {
    impl_->used.emplace(key);
    if (auto v = impl_->from_env(key, *this)) {
        return *v;
    }
    const toml::node* n = impl_->node(key);
    if (n == nullptr) {
        return default_value;
    }
    if (!n->is_string()) {
        throw config_error(std::string(key), "must be a string");
    }
    return std::string(*n->value<std::string_view>());
}

std::string config_source::require_string(std::string_view key) {
    std::string v = get_string(key, {});
    if (v.empty()) {
        auto [specific, general] = env_names(key);
        throw config_error(
            std::string(key),
            "required key is missing (set it in the file, " + general + " or " + specific + ")");
    }
    return v;
}

std::int64_t config_source::get_int(std::string_view key,
                                    std::int64_t default_value,
                                    std::int64_t min,
                                    std::int64_t max) {
    impl_->used.emplace(key);
    std::int64_t value = default_value;
    if (auto v = impl_->from_env(key, *this)) {
        try {
            std::size_t pos = 0;
            value = std::stoll(*v, &pos);
            if (pos != v->size()) {
                throw std::invalid_argument("trailing");
            }
        } catch (const std::exception&) {
            throw config_error(std::string(key), "must be an integer, got '" + *v + "'");
        }
    } else if (const toml::node* n = impl_->node(key)) {
        if (!n->is_integer()) {
            throw config_error(std::string(key), "must be an integer");
        }
        value = *n->value<std::int64_t>();
    }
    if (value < min || value > max) {
        throw config_error(std::string(key),
                           "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                               ", got " + std::to_string(value));
    }
    return value;
}

bool config_source::get_bool(std::string_view key, bool default_value) {
    impl_->used.emplace(key);
    if (auto v = impl_->from_env(key, *this)) {
        if (*v == "true" || *v == "1") {
            return true;
        }
        if (*v == "false" || *v == "0") {
            return false;
        }
        throw config_error(std::string(key), "must be true or false, got '" + *v + "'");
    }
    const toml::node* n = impl_->node(key);
    if (n == nullptr) {
        return default_value;
    }
    if (!n->is_boolean()) {
        throw config_error(std::string(key), "must be true or false");
    }
    return *n->value<bool>();
}

std::string config_source::get_secret(std::string_view key) {
    impl_->used.emplace(key);
    if (impl_->node(key) != nullptr) {
        throw config_error(
            std::string(key),
            "is a secret: set it in the environment or name a file with " + std::string(key) + "_file");
    }
    if (auto v = impl_->from_env(key, *this)) {
        return *v;
    }
    std::string file_key = std::string(key) + "_file";
    std::string path = get_string(file_key, "");
    if (path.empty()) {
        return {};
    }
    std::ifstream in(path);
    if (!in) {
        throw config_error(file_key, "cannot read " + path);
    }
    std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) {
        value.pop_back();
    }
    return value;
}

std::string config_source::require_secret(std::string_view key) {
    std::string v = get_secret(key);
    if (v.empty()) {
        throw config_error(std::string(key),
                           "required secret is missing (set " + env_names(key).second + " or " +
                               std::string(key) + "_file)");
    }
    return v;
}

void config_source::reject_unknown() const {
    // Walk the leaves; a table is known when some used key lies below it.
    std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t,
                                                                           const std::string& prefix) {
        for (const auto& [k, v] : t) {
            std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
            if (const toml::table* sub = v.as_table()) {
                walk(*sub, path);
            } else if (!impl_->used.contains(path)) {
                throw config_error(path, "unknown key");
            }
        }
    };
    walk(impl_->table, "");
}

redis_settings parse_redis_url(std::string_view key, std::string_view url) {
    constexpr std::string_view scheme = "redis://";
    if (!url.starts_with(scheme)) {
        throw config_error(std::string(key), "must look like redis://host:port");
    }
    std::string_view rest = url.substr(scheme.size());
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        rest = rest.substr(0, slash);
    }
    auto colon = rest.rfind(':');
    redis_settings r;
    if (colon == std::string_view::npos) {
        r.host = std::string(rest);
    } else {
        r.host = std::string(rest.substr(0, colon));
        std::string port(rest.substr(colon + 1));
        char* end = nullptr;
        long p = std::strtol(port.c_str(), &end, 10);
        if (port.empty() || *end != '\0' || p < 1 || p > 65535) {
            throw config_error(std::string(key), "port must be between 1 and 65535");
        }
        r.port = static_cast<std::uint16_t>(p);
    }
    if (r.host.empty()) {
        throw config_error(std::string(key), "host is missing");
    }
    return r;
}

service_config read_service_config(config_source& source) {
    service_config c;
    c.http.host = source.get_string("http.host", c.http.host);
    c.http.port = static_cast<std::uint16_t>(source.get_int("http.port", c.http.port, 0, 65535));
    c.http.io_threads = static_cast<int>(source.get_int("http.io_threads", c.http.io_threads, 1, 64));
    c.http.body_limit = static_cast<std::size_t>(
        source.get_int("http.body_limit", static_cast<std::int64_t>(c.http.body_limit), 1024, 64 << 20));
    c.http.header_limit = static_cast<std::size_t>(
        source.get_int("http.header_limit", static_cast<std::int64_t>(c.http.header_limit), 1024, 1 << 20));
    c.http.request_timeout = std::chrono::milliseconds(
        source.get_int("http.request_timeout_ms", c.http.request_timeout.count(), 100, 600'000));
    c.http.idle_timeout = std::chrono::milliseconds(
        source.get_int("http.idle_timeout_ms", c.http.idle_timeout.count(), 100, 3'600'000));
    c.http.shutdown_grace = std::chrono::milliseconds(
        source.get_int("http.shutdown_grace_ms", c.http.shutdown_grace.count(), 0, 600'000));
    c.db.url = source.require_string("db.url");
    c.db.pool_size = static_cast<int>(source.get_int("db.pool_size", c.db.pool_size, 1, 256));
    c.db.queue_limit = static_cast<int>(source.get_int("db.queue_limit", c.db.queue_limit, 0, 100'000));
    c.db.acquire_timeout = std::chrono::milliseconds(
        source.get_int("db.acquire_timeout_ms", c.db.acquire_timeout.count(), 10, 600'000));
    c.db.connect_timeout =
        std::chrono::seconds(source.get_int("db.connect_timeout_s", c.db.connect_timeout.count(), 1, 600));
    c.http.request_deadline = std::chrono::milliseconds(
        source.get_int("http.request_deadline_ms", c.http.request_deadline.count(), 100, 50'000));
    c.http.queue_delay_target = std::chrono::milliseconds(
        source.get_int("http.queue_delay_target_ms", c.http.queue_delay_target.count(), 1, 10'000));
    c.http.admission_floor =
        static_cast<int>(source.get_int("http.admission_floor", c.http.admission_floor, 1, 1'000'000));
    c.http.max_in_flight =
        static_cast<int>(source.get_int("http.max_in_flight", c.http.max_in_flight, 0, 1'000'000));
    c.db.statement_timeout = std::chrono::milliseconds(
        source.get_int("db.statement_timeout_ms", c.db.statement_timeout.count(), 0, 3'600'000));
    c.redis = parse_redis_url("redis.url", source.get_string("redis.url", "redis://127.0.0.1:6379"));
    c.log.level = source.get_string("log.level", c.log.level);
    if (c.log.level != "debug" && c.log.level != "info" && c.log.level != "warn" && c.log.level != "error") {
        throw config_error("log.level", "must be one of debug, info, warn, error");
    }
    c.local =
        calendar(std::chrono::minutes(source.get_int("time.utc_offset_minutes", 480, -12 * 60, 14 * 60)));
    for (auto [name, cls] : {std::pair{"auth", &c.limits.auth},
                             std::pair{"writes", &c.limits.writes},
                             std::pair{"reads", &c.limits.reads}}) {
        const std::string key = std::string("limits.") + name;
        cls->per_minute =
            static_cast<int>(source.get_int(key + "_per_minute", cls->per_minute, 0, 1'000'000));
        cls->burst = static_cast<int>(source.get_int(key + "_burst", cls->burst, 1, 1'000'000));
    }
    return c;
}

}  // namespace carematch::core
