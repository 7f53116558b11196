// Migration runner: bootstrap tables, advisory lock, one transaction per migration.
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace carematch::db {

bool valid_schema_name(const std::string& name) noexcept {
    if (name.empty() || name.size() > 63) {
        return false;
    }
    if (!(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::islower(c) || std::isdigit(c) || c == '_';
    });
}

std::string read_schema(core::config_source& source,
                        std::string_view key,
                        std::string fallback,
                        core::service_config& service) {
    std::string schema = source.get_string(key, std::move(fallback));
    if (!valid_schema_name(schema)) {
        throw core::config_error(std::string(key), "must be a lower-case SQL identifier");
    }
    service.db.schema = schema;
    return schema;
}

int migrate(const std::string& url, const std::string& schema, const std::vector<migration>& migrations) {
    if (!valid_schema_name(schema)) {
        throw std::invalid_argument("invalid schema name: " + schema);
    }
    std::vector<migration> ordered = migrations;
    std::sort(
        ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < ordered.size(); ++i) {
        if (ordered[i].version == ordered[i - 1].version) {
            throw std::invalid_argument("duplicate migration version " + std::to_string(ordered[i].version));
        }
    }

    pqxx::connection conn(url);
    const std::string lock_key = "carematch.migrate." + schema;
    auto statement = [&conn](const std::string& sql) {
        pqxx::nontransaction n(conn);
        auto r = n.exec(sql);
        n.commit();
        return r;
    };
    auto advisory = [&conn, &lock_key](const char* fn) {
        pqxx::nontransaction n(conn);
        n.exec_params(std::string("SELECT ") + fn + "(hashtext($1))", lock_key);
        n.commit();
    };
    // A session-level lock keyed by the schema: a second starter waits here, then finds nothing to do.
    advisory("pg_advisory_lock");
    int applied = 0;
    try {
        const std::string q = conn.quote_name(schema);
        statement("CREATE SCHEMA IF NOT EXISTS " + q);
        statement("CREATE TABLE IF NOT EXISTS " + q +
                  ".schema_migrations ("
                  " version integer PRIMARY KEY,"
                  " name text NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT now())");
        statement("CREATE TABLE IF NOT EXISTS " + q +
                  ".outbox ("
                  " id bigserial PRIMARY KEY,"
                  " event_id uuid NOT NULL UNIQUE,"
                  " stream text NOT NULL CHECK (length(stream) BETWEEN 1 AND 200),"
                  " event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),"
                  " payload jsonb NOT NULL,"
                  " created_at timestamptz NOT NULL DEFAULT now(),"
                  " claimed_until timestamptz,"
                  " published_at timestamptz)");
        statement("CREATE INDEX IF NOT EXISTS outbox_unpublished ON " + q +
                  ".outbox (id) WHERE published_at IS NULL");
        // The stream entry id the relay gave an event when it claimed it (kept, so that a relay taking over a
        // dead one's batch repeats it exactly), and the last id given per stream.
        statement("ALTER TABLE " + q + ".outbox ADD COLUMN IF NOT EXISTS stream_id text");
        statement("CREATE TABLE IF NOT EXISTS " + q +
                  ".outbox_streams ("
                  " stream text PRIMARY KEY,"
                  " last_ms bigint NOT NULL,"
                  " last_seq bigint NOT NULL)");
        // The highest entry id known to be in the stream: a stream whose last id is below it has lost
        // entries.
        statement("ALTER TABLE " + q +
                  ".outbox_streams ADD COLUMN IF NOT EXISTS published_ms bigint NOT NULL DEFAULT 0");
        statement("ALTER TABLE " + q +
                  ".outbox_streams ADD COLUMN IF NOT EXISTS published_seq bigint NOT NULL DEFAULT 0");
        // What an event consumer has handled (its effects committed with the row), and what it gave up on.
        statement("CREATE TABLE IF NOT EXISTS " + q +
                  ".inbox ("
                  " event_id uuid PRIMARY KEY,"
                  " stream text NOT NULL,"
                  " event_type text NOT NULL,"
                  " processed_at timestamptz NOT NULL DEFAULT now())");
        statement("CREATE TABLE IF NOT EXISTS " + q +
                  ".event_failures ("
                  " event_id uuid PRIMARY KEY,"
                  " stream text NOT NULL,"
                  " entry_id text NOT NULL,"
                  " event_type text NOT NULL,"
                  " payload text NOT NULL,"
                  " failures integer NOT NULL CHECK (failures > 0),"
                  " last_error text NOT NULL,"
                  " dead boolean NOT NULL DEFAULT false,"
                  " last_at timestamptz NOT NULL DEFAULT now())");
        std::set<int> done;
        for (const auto& row : statement("SELECT version FROM " + q + ".schema_migrations")) {
            done.insert(row[0].as<int>());
        }
        for (const auto& m : ordered) {
            if (done.contains(m.version)) {
                continue;
            }
            pqxx::work tx(conn);
            tx.exec("SET LOCAL search_path TO " + q + ", public");
            tx.exec(m.sql);
            tx.exec_params(
                "INSERT INTO " + q + ".schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
            tx.commit();
            ++applied;
            core::log::info("migration applied",
                            {{"schema", schema}, {"version", m.version}, {"name", m.name}});
        }
    } catch (...) {
        advisory("pg_advisory_unlock");
        throw;
    }
    advisory("pg_advisory_unlock");
    return applied;
}

}  // namespace carematch::db
