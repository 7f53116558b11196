// providers wiring: config, dependencies, catalog of credential needs, the presence sweeper.
#include "context.hpp"
#include "handlers.hpp"
#include "repository.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/scores.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

namespace carematch::providers {

namespace {

// A suspension staff ordered when resolving a complaint: applied as their own suspension would be (the
// candidate reads leave suspended workers and organisations out at once), with its history and event.
void apply_suspension(pqxx::work& tx, const std::string& schema, const std::string& payload) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(payload, ec);
    if (ec || !doc.is_object()) {
        return;
    }
    const auto& p = doc.as_object();
    auto text = [&](const char* k) {
        const auto* v = p.if_contains(k);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    const auto target = text("target"), id = text("subject_id"), until = text("until");
    const auto reason = text("reason"), actor = text("actor_id");
    if (!core::is_uuid(id) || until.empty()) {
        return;
    }
    if (target == "worker" && repo::suspend(tx, id, until, reason)) {
        repo::add_history(tx, id, "suspend", actor, "staff", reason);
        const auto w = repo::find_worker(tx, id);
        db::enqueue_event(
            tx,
            schema,
            context::events_stream,
            "worker.suspended",
            boost::json::serialize(handlers::worker_suspended(id, w ? w->org_id : "", until, reason)));
    } else if (target == "org" && repo::suspend_org(tx, id, until, reason)) {
        repo::add_org_history(tx, id, "suspend", actor, "staff", reason);
        db::enqueue_event(tx,
                          schema,
                          context::events_stream,
                          "provider.suspended",
                          boost::json::serialize(
                              boost::json::object{{"org_id", id}, {"until", until}, {"reason", reason}}));
    }
}

}  // namespace

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "providers.schema", c.schema, c.service);
    c.catalog_file = source.get_string("providers.catalog_file", c.catalog_file);
    c.heartbeat_timeout = std::chrono::seconds(source.get_int("providers.heartbeat_timeout_s", 90, 10, 3600));
    c.ratings_stream = source.get_string("providers.ratings_stream", c.ratings_stream);
    c.complaints_stream = source.get_string("providers.complaints_stream", c.complaints_stream);
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)) {}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("providers", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {
    std::function<boost::asio::awaitable<void>()> sweeper = [this]() -> boost::asio::awaitable<void> {
        (void)co_await sweep();
    };
    add_task("presence sweep", std::chrono::seconds(10), std::move(sweeper));
}

void app::on_start() {
    auto& c = ctx();
    const auto doc = http::read_json_array_file("providers.catalog_file", c.cfg.catalog_file);
    try {
        for (const auto& v : doc) {
            std::vector<std::string> needs;
            for (const auto& cred : v.at("credentials").as_array()) {
                needs.emplace_back(cred.as_string());
            }
            c.kind_credentials[std::string(v.at("kind").as_string())].push_back(std::move(needs));
        }
    } catch (const std::exception& e) {
        throw core::config_error("providers.catalog_file", std::string("malformed catalog: ") + e.what());
    }
    c.seal_plain_rows(repo::seal_plain_personal_data);
    // Organisations' public scores, shown with canteen search results.
    events::consumer_settings s;
    s.group = "providers";
    s.streams = {c.cfg.ratings_stream, c.cfg.complaints_stream};
    events::handler h = [schema = c.cfg.schema](pqxx::work& tx, const events::event& e) {
        if (e.type == "rating.score_changed") {
            runtime::scores::apply(tx, e.payload);
        } else if (e.type == "complaint.suspension_ordered") {
            apply_suspension(tx, schema, e.payload);
        }
    };
    auto consumer = c.make_consumer(std::move(s), std::move(h));
    consumer_ = consumer.get();
    add_consumer(std::move(consumer));
}

boost::asio::awaitable<std::size_t> app::consume_once() {
    co_return co_await consumer_->run_once();
}

std::string_view openapi_document();  // services/providers/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::providers
