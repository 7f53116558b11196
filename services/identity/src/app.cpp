// identity wiring: config, dependencies, start-up checks, seeds and background loops.
#include "context.hpp"
#include "logic.hpp"
#include "repository.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/http/json.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

namespace carematch::identity {

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "identity.schema", c.schema, c.service);
    c.regions_file = source.get_string("identity.regions_file", c.regions_file);
    c.events_stream = source.get_string("identity.events_stream", c.events_stream);
    c.login_failures_per_account = static_cast<int>(
        source.get_int("identity.login_failures_per_account", c.login_failures_per_account, 1, 100));
    c.login_failures_per_ip = static_cast<int>(
        source.get_int("identity.login_failures_per_ip", c.login_failures_per_ip, 1, 1'000'000));
    c.refresh_ttl_days =
        static_cast<int>(source.get_int("identity.refresh_ttl_days", c.refresh_ttl_days, 1, 365));
    c.auth = auth::read_token_config(source);
    c.bootstrap_admin = source.get_secret("identity.bootstrap_admin");
    c.passwords.threads = static_cast<std::size_t>(source.get_int("identity.hash_threads", 2, 1, 64));
    c.passwords.queue_limit =
        static_cast<int>(source.get_int("identity.hash_queue_limit", c.passwords.queue_limit, 0, 100'000));
    c.passwords.acquire_timeout = std::chrono::milliseconds(
        source.get_int("identity.hash_acquire_timeout_ms", c.passwords.acquire_timeout.count(), 10, 600'000));
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)), hasher(cfg.passwords) {}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("identity", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {}

namespace {

std::vector<repo::region_row> read_regions(const std::string& path) {
    const auto doc = http::read_json_array_file("identity.regions_file", path);
    std::vector<repo::region_row> rows;
    try {
        for (const auto& v : doc) {
            const auto& o = v.as_object();
            repo::region_row r;
            r.id = o.at("id").as_int64();
            if (!o.at("parent_id").is_null()) {
                r.parent_id = o.at("parent_id").as_int64();
            }
            r.level = std::string(o.at("level").as_string());
            r.name = std::string(o.at("name").as_string());
            r.residents = o.at("residents").as_int64();
            rows.push_back(std::move(r));
        }
    } catch (const std::exception& e) {
        throw core::config_error("identity.regions_file", std::string("malformed region seed: ") + e.what());
    }
    return rows;
}

}  // namespace

void app::on_start() {
    auto& c = ctx();
    c.seal_plain_rows(repo::seal_plain_personal_data);
    const auth::sealer& sealer = *c.sealer;
    c.dummy_hash = c.hasher.hash_blocking(core::random_hex(16));

    pqxx::connection conn(c.cfg.service.db.url);
    pqxx::work tx(conn);
    repo::use_schema(tx, c.cfg.schema);
    int seeded = repo::seed_regions(tx, read_regions(c.cfg.regions_file));
    if (!c.cfg.bootstrap_admin.empty()) {
        auto colon = c.cfg.bootstrap_admin.find(':');
        std::string phone = c.cfg.bootstrap_admin.substr(0, colon);
        std::string password = colon == std::string::npos ? "" : c.cfg.bootstrap_admin.substr(colon + 1);
        if (!valid_phone(phone) || !valid_password(password)) {
            throw core::config_error("identity.bootstrap_admin", "must be phone:password (8–128 characters)");
        }
        if (!repo::find_user_by_phone(tx, sealer, phone)) {
            repo::user_row admin{core::new_uuid(),
                                 phone,
                                 "admin",
                                 c.hasher.hash_blocking(password),
                                 "admin",
                                 "",
                                 "active",
                                 {},
                                 {}};
            (void)repo::insert_user(tx, sealer, admin);
            repo::audit(tx, {"bootstrap", "system", "create_admin", "user", admin.id, "bootstrap", ""});
            core::log::info("bootstrap admin created", {{"user_id", admin.id}});
        }
    }
    tx.commit();
    core::log::info("identity started", {{"schema", c.cfg.schema}, {"regions_seeded", seeded}});
}

const auth::token_verifier& app::verifier() const {
    return ctx().verifier;
}
const auth::token_issuer& app::issuer() const {
    return *ctx().issuer;
}

std::string_view openapi_document();  // services/identity/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::identity
