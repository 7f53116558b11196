// ratings wiring: config, the streets it reads, and the services a family may rate, from order.completed.
#include "context.hpp"
#include "store.hpp"

#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/regions.hpp>
#include <carematch/runtime/served.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdlib>

namespace carematch::ratings {

namespace json = boost::json;

const std::vector<db::migration>& migrations();

namespace {

double read_number(core::config_source& source, std::string_view key, double fallback, double lo, double hi) {
    const auto text = source.get_string(key, "");
    if (text.empty()) {
        return fallback;
    }
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(v >= lo && v <= hi)) {
        throw core::config_error(std::string(key),
                                 "a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    return v;
}

std::optional<std::string> text_or_null(const json::object& p, const char* key) {
    const auto* v = p.if_contains(key);
    return v && v->is_string() ? std::optional<std::string>(std::string(v->as_string())) : std::nullopt;
}

// order.completed (or a nursery day attended): the family may now rate it. Other events change nothing here.
void on_order_event(pqxx::work& tx, const events::event& e) {
    if (e.type == "complaint.closed") {
        // The rectification of a bad review was closed (after its return visit): the review shows it.
        auto v = json::parse(e.payload);
        if (const auto review = text_or_null(v.as_object(), "review_id")) {
            tx.exec_params("UPDATE reviews SET followup_state = 'done' WHERE id = $1::uuid", *review);
        }
        return;
    }
    if (e.type == "nursery.attended") {
        auto v = json::parse(e.payload);
        const auto& p = v.as_object();
        runtime::served::service s;
        s.order_id = std::string(p.at("booking_id").as_string());
        s.source = "booking";
        s.family_id = std::string(p.at("family_id").as_string());
        s.recipient_id = text_or_null(p, "child_id");
        s.org_id = text_or_null(p, "nursery_id");
        s.kind = "nursery";
        s.community_id = p.at("community_id").to_number<std::int64_t>();
        s.completed_at = e.occurred_at;
        runtime::served::add(tx, s);  // the first attended day; later ones change nothing
        return;
    }
    if (e.type == "order.completed") {
        if (auto s = runtime::served::from_order_completed(e.payload, e.occurred_at)) {
            runtime::served::add(tx, *s);
        } else {
            core::log::warn("ratings: order.completed without its family; not ratable", {{"event_id", e.id}});
        }
    }
}

}  // namespace

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "ratings.schema", c.schema, c.service);
    c.regions_file = source.get_string("ratings.regions_file", c.regions_file);
    c.consumer_group = source.get_string("ratings.consumer_group", c.consumer_group);
    c.events_stream = source.get_string("ratings.events_stream", c.events_stream);
    c.complaints_stream = source.get_string("ratings.complaints_stream", c.complaints_stream);
    c.rate_within = std::chrono::hours(24 * source.get_int("ratings.rate_within_days", 15, 1, 365));
    c.editable_for = std::chrono::hours(source.get_int("ratings.editable_hours", 24, 0, 720));
    c.prior_mean = read_number(source, "ratings.prior_mean", 4.0, 1.0, 5.0);
    c.prior_weight = read_number(source, "ratings.prior_weight", 10, 0, 1000);
    c.window_days = static_cast<int>(source.get_int("ratings.window_days", 90, 1, 3650));
    c.rectify_working_days = static_cast<int>(source.get_int("ratings.rectify_working_days", 15, 1, 60));
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)) {}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("ratings", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {}

app::~app() = default;

void app::on_start() {
    auto& c = ctx();
    c.streets = runtime::read_streets("ratings.regions_file", c.cfg.regions_file);
    events::consumer_settings s;
    s.group = c.cfg.consumer_group;
    for (auto street : c.streets) {
        s.streams.push_back(runtime::orders_stream(street));
        s.streams.push_back(runtime::nursery_stream(street));
    }
    s.streams.push_back(c.cfg.complaints_stream);
    s.types = {"order.completed", "nursery.attended", "complaint.closed"};  // what on_order_event acts on
    events::handler h = [](pqxx::work& tx, const events::event& e) { on_order_event(tx, e); };
    auto consumer = c.make_consumer(std::move(s), std::move(h));
    consumer_ = consumer.get();
    add_consumer(std::move(consumer));
}

boost::asio::awaitable<std::size_t> app::consume_once() {
    co_return co_await consumer_->run_once();
}

std::string_view openapi_document();  // services/ratings/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::ratings
