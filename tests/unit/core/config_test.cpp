// Config: typed getters, environment overrides, and errors that name the key.
#include <carematch/core/config.hpp>

#include <gtest/gtest.h>

#include <map>

namespace carematch::core {
namespace {

env_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        if (auto it = vars.find(name); it != vars.end()) {
            return it->second;
        }
        return std::nullopt;
    };
}

constexpr const char* valid = R"(
[http]
port = 9000
[db]
url = "postgresql://file@localhost/db"
)";

std::string error_key(const std::function<void()>& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.key();
    }
    return "<no error>";
}

TEST(config, reads_typed_values_with_defaults) {
    config_source src(valid, "identity", fake_env({}));
    auto c = read_service_config(src);
    EXPECT_EQ(c.http.port, 9000);
    EXPECT_EQ(c.http.host, "127.0.0.1");
    EXPECT_EQ(c.db.url, "postgresql://file@localhost/db");
    EXPECT_EQ(c.db.pool_size, 8);
    EXPECT_EQ(c.redis.port, 6379);
    EXPECT_NO_THROW(src.reject_unknown());
}

TEST(config, environment_overrides_file_and_service_specific_wins) {
    config_source src(valid,
                      "identity",
                      fake_env({{"CAREMATCH_DB_URL", "postgresql://general/db"},
                                {"CAREMATCH_IDENTITY_HTTP_PORT", "9100"},
                                {"CAREMATCH_HTTP_PORT", "9200"}}));
    auto c = read_service_config(src);
    EXPECT_EQ(c.db.url, "postgresql://general/db");
    EXPECT_EQ(c.http.port, 9100);
}

TEST(config, missing_required_key_names_itself) {
    config_source src("[http]\nport = 1\n", "identity", fake_env({}));
    EXPECT_EQ(error_key([&] { read_service_config(src); }), "db.url");
    try {
        config_source again("", "identity", fake_env({}));
        read_service_config(again);
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("CAREMATCH_DB_URL"), std::string::npos) << e.what();
    }
}

struct bad_case {
    const char* toml;
    std::map<std::string, std::string> env;
    const char* key;
};

TEST(config, invalid_values_name_their_key) {
    const bad_case cases[] = {
        {"[db]\nurl='x'\n[http]\nport = 'eighty'\n", {}, "http.port"},
        {"[db]\nurl='x'\n[http]\nport = 70000\n", {}, "http.port"},
        {"[db]\nurl='x'\n[http]\nio_threads = 0\n", {}, "http.io_threads"},
        {"[db]\nurl='x'\n", {{"CAREMATCH_DB_POOL_SIZE", "many"}}, "db.pool_size"},
        {"[db]\nurl='x'\n[redis]\nurl = 'http://x'\n", {}, "redis.url"},
        {"[db]\nurl='x'\n[redis]\nurl = 'redis://h:0'\n", {}, "redis.url"},
        {"[db]\nurl='x'\n[log]\nlevel = 'loud'\n", {}, "log.level"},
        {"[db]\nurl = 5\n", {}, "db.url"},
    };
    for (const auto& c : cases) {
        config_source src(c.toml, "identity", fake_env(c.env));
        EXPECT_EQ(error_key([&] { read_service_config(src); }), c.key) << c.toml;
    }
}

TEST(config, unknown_key_is_rejected_by_name) {
    config_source src("[db]\nurl='x'\npool_sise = 3\n", "identity", fake_env({}));
    read_service_config(src);
    EXPECT_EQ(error_key([&] { src.reject_unknown(); }), "db.pool_sise");
}

TEST(config, secrets_come_from_the_environment_never_the_file) {
    config_source from_env("", "identity", fake_env({{"CAREMATCH_AUTH_SIGNING_KEY", "k1:abc"}}));
    EXPECT_EQ(from_env.get_secret("auth.signing_key"), "k1:abc");
    config_source in_file("[auth]\nsigning_key = 'k1:abc'\n", "identity", fake_env({}));
    EXPECT_EQ(error_key([&] { in_file.get_secret("auth.signing_key"); }), "auth.signing_key");
    config_source missing_file("[auth]\nsigning_key_file = '/nonexistent/key'\n", "identity", fake_env({}));
    EXPECT_EQ(error_key([&] { missing_file.get_secret("auth.signing_key"); }), "auth.signing_key_file");
    config_source none("", "identity", fake_env({}));
    EXPECT_EQ(none.get_secret("auth.signing_key"), "");
    EXPECT_EQ(error_key([&] { none.require_secret("auth.signing_key"); }), "auth.signing_key");
}

TEST(config, syntax_error_is_reported) {
    EXPECT_THROW(config_source("[http\nport=1", "identity", fake_env({})), config_error);
}

TEST(config, redis_url_parses_host_and_port) {
    auto r = parse_redis_url("k", "redis://10.0.0.2:6390/0");
    EXPECT_EQ(r.host, "10.0.0.2");
    EXPECT_EQ(r.port, 6390);
}

}  // namespace
}  // namespace carematch::core
