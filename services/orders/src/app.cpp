// orders wiring: config, dependencies, catalog, start-up checks.
#include "context.hpp"
#include "repository.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/observability/metrics.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdio>

namespace carematch::orders {

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "orders.schema", c.schema, c.service);
    c.catalog_file = source.get_string("orders.catalog_file", c.catalog_file);
    c.identity_stream = source.get_string("orders.identity_stream", c.identity_stream);
    c.consumer_group = source.get_string("orders.consumer_group", c.consumer_group);
    c.identity = http::parse_http_url("orders.identity_url",
                                      source.get_string("orders.identity_url", "http://127.0.0.1:8081"));
    c.subsidies.extreme_poverty =
        static_cast<int>(source.get_int("orders.subsidy.extreme_poverty", 100, 0, 100));
    c.subsidies.minimum_allowance =
        static_cast<int>(source.get_int("orders.subsidy.minimum_allowance", 50, 0, 100));
    c.subsidies.special_family =
        static_cast<int>(source.get_int("orders.subsidy.special_family", 50, 0, 100));
    c.subsidies.age_80_plus = static_cast<int>(source.get_int("orders.subsidy.age_80_plus", 30, 0, 100));
    c.subsidies.living_alone = static_cast<int>(source.get_int("orders.subsidy.living_alone", 0, 0, 100));
    c.horizon_days = static_cast<int>(source.get_int("orders.horizon_days", 60, 1, 365));
    c.intake_group_max = static_cast<int>(source.get_int("orders.intake_group_max", 64, 1, 1000));
    c.intake_groups = static_cast<int>(source.get_int("orders.intake_groups", 2, 1, 64));
    c.check_in_radius_m = static_cast<int>(source.get_int("orders.check_in_radius_m", 500, 10, 10000));
    c.crew_from_level = static_cast<int>(source.get_int("orders.crew_from_level", 0, 0, 4));
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk),
      cfg(std::move(c)),
      intake(std::make_unique<db::group_commit>(
          pool,
          [this](pqxx::work& tx, const std::vector<db::group_commit::entry*>& group) {
              handlers::place_together(*this, tx, group);
          },
          cfg.intake_group_max,
          cfg.intake_groups)) {}

const catalog_item* context::find(std::string_view kind, std::string_view sub_type) const {
    for (const auto& item : catalog) {
        if (item.kind == kind && item.sub_type == sub_type) {
            return &item;
        }
    }
    return nullptr;
}

namespace {

// recipient.saved → recipients_seen (the facts as identity published them); recipient.deleted → gone.
void on_identity_event(pqxx::work& tx, const events::event& e) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(e.payload, ec);
    if (ec || !doc.is_object()) {
        return;
    }
    const auto& p = doc.as_object();
    const auto* id = p.if_contains("recipient_id");
    if (id == nullptr || !id->is_string() || !core::is_uuid(id->as_string())) {
        return;
    }
    if (e.type == "recipient.deleted") {
        tx.exec_params("DELETE FROM recipients_seen WHERE recipient_id = $1::uuid",
                       std::string(id->as_string()));
        return;
    }
    const auto* family = p.if_contains("family_id");
    const auto* community = p.if_contains("community_id");
    if (e.type != "recipient.saved" || family == nullptr || !family->is_string() || community == nullptr ||
        !community->is_int64()) {
        return;
    }
    tx.exec_params(
        "INSERT INTO recipients_seen (recipient_id, family_id, community_id, facts) VALUES ($1::uuid, "
        "$2::uuid, $3, "
        "$4::jsonb)"
        " ON CONFLICT (recipient_id) DO UPDATE SET family_id = excluded.family_id,"
        " community_id = excluded.community_id, facts = excluded.facts, seen_at = now()",
        std::string(id->as_string()),
        std::string(family->as_string()),
        community->as_int64(),
        e.payload);
}

}  // namespace

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("orders", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {
    add_peer("identity", ctx().cfg.identity);
}

void app::on_start() {
    auto& c = ctx();
    const auto doc = http::read_json_array_file("orders.catalog_file", c.cfg.catalog_file);
    try {
        for (const auto& v : doc) {
            const auto& o = v.as_object();
            catalog_item item;
            item.kind = std::string(o.at("kind").as_string());
            item.sub_type = std::string(o.at("sub_type").as_string());
            item.name = std::string(o.at("name").as_string());
            item.price_fen = o.at("price_fen").as_int64();
            item.duration_min = static_cast<int>(o.at("duration_min").as_int64());
            item.lead_min = static_cast<int>(o.at("lead_min").as_int64());
            for (const auto& cred : o.at("credentials").as_array()) {
                item.credentials.emplace_back(cred.as_string());
            }
            if (const auto* h = o.if_contains("hours")) {
                // "HH:MM-HH:MM", local time
                const std::string t(h->as_string());
                int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
                if (t.size() != 11 || std::sscanf(t.c_str(), "%2d:%2d-%2d:%2d", &h1, &m1, &h2, &m2) != 4 ||
                    h1 * 60 + m1 >= h2 * 60 + m2 || h2 * 60 + m2 > 24 * 60) {
                    throw std::invalid_argument("hours must be HH:MM-HH:MM");
                }
                item.hours = std::pair{h1 * 60 + m1, h2 * 60 + m2};
            }
            c.catalog.push_back(std::move(item));
        }
    } catch (const std::exception& e) {
        throw core::config_error("orders.catalog_file", std::string("malformed catalog: ") + e.what());
    }
    c.seal_plain_rows(repo::seal_plain_personal_data);
    // The elders as identity describes them, kept here so that placing an order calls nobody.
    events::consumer_settings s;
    s.group = c.cfg.consumer_group;
    s.streams.push_back(c.cfg.identity_stream);
    events::handler h = [](pqxx::work& tx, const events::event& e) { on_identity_event(tx, e); };
    auto consumer = c.make_consumer(std::move(s), std::move(h));
    consumer_ = consumer.get();
    add_consumer(std::move(consumer));
}

boost::asio::awaitable<std::size_t> app::consume_once() {
    co_return co_await consumer_->run_once();
}

std::string_view openapi_document();  // services/orders/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

void app::add_own_gauges(observability::metrics& m, const std::string& label) {
    const db::group_commit& g = *ctx().intake;
    m.add_gauge("carematch_orders_intake_groups_total" + label,
                "Transactions that wrote new orders (a group commit each).",
                [&g] { return static_cast<double>(g.stats().groups); });
    m.add_gauge("carematch_orders_intake_grouped_total" + label,
                "New orders written through those transactions (÷ groups: orders per commit).",
                [&g] { return static_cast<double>(g.stats().entries); });
    m.add_gauge("carematch_orders_intake_shed_total" + label,
                "New orders refused at once (too many waiting) or after waiting too long for a group.",
                [&g] { return static_cast<double>(g.stats().shed); });
}

}  // namespace carematch::orders
