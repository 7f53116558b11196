// complaints wiring: config, the working-day calendar, the events it keeps (completed orders, bad reviews)
// and the SLA pass.
#include "context.hpp"
#include "store.hpp"

#include <carematch/core/checks.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/runtime/regions.hpp>
#include <carematch/runtime/served.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>

namespace carematch::complaints {

namespace json = boost::json;

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "complaints.schema", c.schema, c.service);
    c.regions_file = source.get_string("complaints.regions_file", c.regions_file);
    c.calendar_file = source.get_string("complaints.calendar_file", c.calendar_file);
    c.consumer_group = source.get_string("complaints.consumer_group", c.consumer_group);
    c.ratings_stream = source.get_string("complaints.ratings_stream", c.ratings_stream);
    c.events_stream = source.get_string("complaints.events_stream", c.events_stream);
    auto n = [&](const char* key, int fallback, int lo, int hi) {
        return static_cast<int>(source.get_int(key, fallback, lo, hi));
    };
    c.sla.sign_urgent_minutes = n("complaints.sla.sign_urgent_minutes", 120, 1, 10080);
    c.sla.sign_high_working_days = n("complaints.sla.sign_high_working_days", 1, 1, 30);
    c.sla.sign_normal_working_days = n("complaints.sla.sign_normal_working_days", 2, 1, 30);
    c.sla.resolve_urgent_minutes = n("complaints.sla.resolve_urgent_minutes", 1440, 1, 43200);
    c.sla.resolve_high_working_days = n("complaints.sla.resolve_high_working_days", 5, 1, 60);
    c.sla.resolve_normal_working_days = n("complaints.sla.resolve_normal_working_days", 7, 1, 60);
    c.sla.resolve_max_working_days = n("complaints.sla.resolve_max_working_days", 15, 1, 60);
    c.sla.warn_percent = n("complaints.sla.warn_percent", 80, 1, 99);
    c.reopen_days = n("complaints.reopen_days", 7, 1, 90);
    c.max_transfers = n("complaints.max_transfers", 2, 0, 2);
    c.provider_response_working_days = n("complaints.provider_response_working_days", 2, 1, 30);
    c.auth = auth::read_token_config(source);
    return c;
}

bool workdays::working(std::chrono::sys_days d) const {
    if (holidays.contains(d)) {
        return false;
    }
    if (extra.contains(d)) {
        return true;
    }
    const std::chrono::weekday w{d};
    return w != std::chrono::Saturday && w != std::chrono::Sunday;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)) {}

core::clock::time_point context::add_working_days(core::clock::time_point from, int days) const {
    const auto& local = service_settings.local;
    auto day = local.day(from);
    const auto time_of_day = from - local.at(day, std::chrono::minutes(0));
    for (int counted = 0; counted < days;) {
        day += std::chrono::days(1);
        if (calendar.working(day)) {
            ++counted;
        }
    }
    return local.at(day, std::chrono::minutes(0)) + time_of_day;
}

std::pair<core::clock::time_point, core::clock::time_point> context::dues(const std::string& severity,
                                                                          core::clock::time_point at) const {
    const auto& s = cfg.sla;
    const auto cap = add_working_days(at, s.resolve_max_working_days);
    if (severity == "urgent") {
        return {at + std::chrono::minutes(s.sign_urgent_minutes),
                std::min(cap, at + std::chrono::minutes(s.resolve_urgent_minutes))};
    }
    const bool high = severity == "high";
    return {
        add_working_days(at, high ? s.sign_high_working_days : s.sign_normal_working_days),
        std::min(cap,
                 add_working_days(at, high ? s.resolve_high_working_days : s.resolve_normal_working_days))};
}

namespace {

std::optional<std::string> text_or_null(const json::object& p, const char* key) {
    const auto* v = p.if_contains(key);
    return v && v->is_string() ? std::optional<std::string>(std::string(v->as_string())) : std::nullopt;
}

double seconds(core::clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

void publish(pqxx::work& tx, const context& c, const char* type, const json::object& payload) {
    db::enqueue_event(tx, c.cfg.schema, c.cfg.events_stream, type, json::serialize(payload));
}

void on_event(context& c, pqxx::work& tx, const events::event& e) {
    if (e.type == "order.completed") {
        if (auto s = runtime::served::from_order_completed(e.payload, e.occurred_at)) {
            runtime::served::add(tx, *s);
        }
    } else if (e.type == "rating.bad") {
        // A bad review: a rectification ticket with its own deadline and a required return visit.
        auto v = json::parse(e.payload);
        const auto& p = v.as_object();
        const auto now = c.clock.now();
        store::ticket t;
        t.id = core::new_uuid();
        t.source = "rating";
        t.review_id = text_or_null(p, "review_id");
        t.order_id = text_or_null(p, "order_id");
        t.family_id = text_or_null(p, "family_id");
        t.org_id = text_or_null(p, "org_id");
        t.worker_id = text_or_null(p, "worker_id");
        t.community_id = p.at("community_id").to_number<std::int64_t>();
        t.category = "rectification";
        t.severity = "normal";
        const auto comment = text_or_null(p, "comment").value_or("");
        t.text = "差评整改 (level " + std::to_string(p.at("level").to_number<std::int64_t>()) + ")" +
                 (comment.empty() ? "" : ": " + comment.substr(0, 1900));
        const int days = p.contains("rectify_working_days")
                             ? static_cast<int>(p.at("rectify_working_days").to_number<std::int64_t>())
                             : c.cfg.sla.resolve_max_working_days;
        t.created_s = seconds(now);
        t.sign_due = seconds(c.dues("normal", now).first);
        t.resolve_due = seconds(c.add_working_days(now, std::min(days, c.cfg.sla.resolve_max_working_days)));
        if (store::insert(tx, t)) {
            store::note(tx, t.id, t.created_s, "ratings", "service", "filed", "from a bad review", false);
            publish(tx,
                    c,
                    "complaint.filed",
                    json::object{{"ticket_id", t.id},
                                 {"community_id", t.community_id},
                                 {"severity", t.severity},
                                 {"category", t.category},
                                 {"source", t.source}});
        }
    }
}

}  // namespace

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("complaints", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {
    std::function<boost::asio::awaitable<void>()> sla = [this]() -> boost::asio::awaitable<void> {
        (void)co_await check_sla();
    };
    add_task("sla", std::chrono::seconds(60), std::move(sla));
}

app::~app() = default;

void app::on_start() {
    auto& c = ctx();
    c.streets = runtime::read_streets("complaints.regions_file", c.cfg.regions_file);
    std::ifstream in(c.cfg.calendar_file);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto doc = json::parse(text.str(), ec);
    if (!in || ec || !doc.is_object()) {
        throw core::config_error("complaints.calendar_file",
                                 "cannot read a calendar object from " + c.cfg.calendar_file);
    }
    for (const auto& [key, set] :
         {std::pair{"holidays", &c.calendar.holidays}, std::pair{"workdays", &c.calendar.extra}}) {
        const auto* list = doc.as_object().if_contains(key);
        if (!list || !list->is_array()) {
            throw core::config_error("complaints.calendar_file",
                                     std::string("needs a \"") + key + "\" array of dates");
        }
        for (const auto& d : list->as_array()) {
            const auto day = d.is_string() ? core::parse_date(d.as_string()) : std::nullopt;
            if (!day) {
                throw core::config_error("complaints.calendar_file", "dates are YYYY-MM-DD");
            }
            set->insert(std::chrono::sys_days(*day));
        }
    }
    events::consumer_settings s;
    s.group = c.cfg.consumer_group;
    for (auto street : c.streets) {
        s.streams.push_back(runtime::orders_stream(street));
    }
    s.streams.push_back(c.cfg.ratings_stream);
    s.types = {"order.completed", "rating.bad"};  // what on_event acts on
    events::handler h = [&c](pqxx::work& tx, const events::event& e) { on_event(c, tx, e); };
    auto consumer = c.make_consumer(std::move(s), std::move(h));
    consumer_ = consumer.get();
    add_consumer(std::move(consumer));
}

boost::asio::awaitable<std::size_t> app::consume_once() {
    co_return co_await consumer_->run_once();
}

boost::asio::awaitable<sla_stats> app::check_sla() {
    auto& c = ctx();
    const double now = seconds(c.clock.now());
    const double warn = c.cfg.sla.warn_percent / 100.0;
    std::function<sla_stats(pqxx::work&)> pass = [&](pqxx::work& tx) {
        sla_stats s;
        for (const auto& t : store::due_for_sla(tx, now, warn, 500)) {
            struct clock_state {
                const char* name;
                double due;
                bool running;
                bool warned;
                bool breached;
            };
            const clock_state clocks[] = {
                {"sign", t.sign_due, t.state == "open" && !t.signed_at, t.sign_warned, t.sign_breached},
                {"resolve",
                 t.resolve_due,
                 t.state == "open" || t.state == "claimed",
                 t.resolve_warned,
                 t.resolve_breached}};
            for (const auto& k : clocks) {
                if (!k.running) {
                    continue;
                }
                const double used = (now - t.created_s) / std::max(1.0, k.due - t.created_s);
                json::object e{{"ticket_id", t.id},
                               {"community_id", t.community_id},
                               {"clock", k.name},
                               {"severity", t.severity}};
                if (used >= 1.0 && !k.breached) {
                    tx.exec_params(std::string("UPDATE tickets SET ") + k.name + "_breached = true, " +
                                       k.name + "_warned = true, escalated = true WHERE id = $1::uuid",
                                   t.id);
                    store::note(tx,
                                t.id,
                                now,
                                "sla",
                                "service",
                                std::string(k.name) + "_breached",
                                "escalated to the district",
                                false);
                    publish(tx, c, "complaint.sla_breached", e);
                    publish(tx, c, "complaint.escalated", e);
                    ++s.breaches;
                } else if (used >= warn && !k.warned) {
                    tx.exec_params(
                        std::string("UPDATE tickets SET ") + k.name + "_warned = true WHERE id = $1::uuid",
                        t.id);
                    store::note(tx, t.id, now, "sla", "service", std::string(k.name) + "_warning", "", true);
                    publish(tx, c, "complaint.sla_warning", e);
                    ++s.warnings;
                }
            }
        }
        // The provider's clock: a question staff asked that the organisation left unanswered past its due
        // time.
        for (const auto& r : tx.exec_params(
                 "UPDATE tickets SET provider_breached = true WHERE provider_due <= to_timestamp($1::float8)"
                 " AND provider_answered_at IS NULL AND NOT provider_breached AND state IN ('open', "
                 "'claimed')"
                 " RETURNING id::text, community_id, severity, org_id::text",
                 now)) {
            const std::string id = r[0].as<std::string>();
            store::note(tx,
                        id,
                        now,
                        "sla",
                        "service",
                        "provider_overdue",
                        "the provider did not answer in time",
                        false);
            json::object e{{"ticket_id", id},
                           {"community_id", r[1].as<std::int64_t>()},
                           {"severity", r[2].as<std::string>()},
                           {"clock", "provider"}};
            e["org_id"] = r[3].is_null() ? json::value(nullptr) : json::value(r[3].as<std::string>());
            publish(tx, c, "complaint.provider_overdue", e);
            ++s.provider_overdue;
        }
        return s;
    };
    co_return co_await c.pool.transact(std::move(pass));
}

std::string_view openapi_document();  // services/complaints/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::complaints
