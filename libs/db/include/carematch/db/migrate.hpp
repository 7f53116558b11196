// Schema migrations: numbered SQL files applied in order, once each, under an advisory lock.
#pragma once

#include <carematch/core/config.hpp>

#include <string>
#include <vector>

namespace carematch::db {

/// One migration, e.g. services/identity/migrations/001_init.sql → {1, "init", "<sql>"}.
struct migration {
    int version = 0;
    std::string name;
    std::string sql;
};

/// Applies to `schema` the migrations not yet recorded in <schema>.schema_migrations, in version order, each
/// in its own transaction with search_path set to the schema, all under a PostgreSQL advisory lock so that
/// concurrent starters apply each migration once. Creates the schema, its schema_migrations table and its
/// outbox, inbox and event_failures tables first. Returns how many were applied. Throws std::invalid_argument
/// for a bad schema name or duplicate versions, and the database error of a failing migration (whose
/// transaction rolls back).
int migrate(const std::string& url, const std::string& schema, const std::vector<migration>& migrations);

/// Reads the service's schema from `key` (default `fallback`), checks it with valid_schema_name (config_error
/// naming the key otherwise) and makes it the search_path of `service`'s pool.
std::string read_schema(core::config_source& source,
                        std::string_view key,
                        std::string fallback,
                        core::service_config& service);

/// True when `name` is a plain lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 bytes).
bool valid_schema_name(const std::string& name) noexcept;

}  // namespace carematch::db
