// matching wiring: config, catalog and streets, the order events it keeps, and its background passes.
#include "context.hpp"
#include "flows.hpp"
#include "store.hpp"

#include <carematch/core/checks.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/json.hpp>
#include <carematch/observability/metrics.hpp>
#include <carematch/runtime/regions.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <sstream>
#include <unistd.h>

namespace carematch::matching {

namespace json = boost::json;

const std::vector<db::migration>& migrations();

namespace {

// "bath=90,medical_visit=45" → kind → value
template <class Duration>
std::map<std::string, Duration> per_kind(std::string_view key, const std::string& text, std::int64_t max) {
    std::map<std::string, Duration> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string item = text.substr(start, end - start);
        const auto eq = item.find('=');
        std::int64_t n = -1;
        if (eq != std::string::npos && eq > 0 && eq + 1 < item.size() && item.size() - eq - 1 <= 6 &&
            std::all_of(item.begin() + static_cast<long>(eq) + 1, item.end(), [](char ch) {
                return ch >= '0' && ch <= '9';
            })) {
            n = std::stoll(item.substr(eq + 1));
        }
        if (n < 1 || n > max) {
            throw core::config_error(std::string(key),
                                     "kind=number pairs, comma-separated, each 1 to " + std::to_string(max));
        }
        out[item.substr(0, eq)] = Duration(n);
        start = end + 1;
    }
    return out;
}

std::string make_owner() {
    char host[64] = {};
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid()) + ":" + core::new_uuid().substr(0, 8);
}

double epoch_of(const std::string& iso_text) {
    auto t = core::parse_timestamp(iso_text);
    if (!t) {
        throw std::invalid_argument("not a timestamp: " + iso_text);
    }
    return std::chrono::duration<double>(t->time_since_epoch()).count();
}

}  // namespace

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "matching.schema", c.schema, c.service);
    c.regions_file = source.get_string("matching.regions_file", c.regions_file);
    c.catalog_file = source.get_string("matching.catalog_file", c.catalog_file);
    c.orders = http::parse_http_url("matching.orders_url",
                                    source.get_string("matching.orders_url", "http://127.0.0.1:8082"));
    c.providers = http::parse_http_url("matching.providers_url",
                                       source.get_string("matching.providers_url", "http://127.0.0.1:8083"));
    c.consumer_group = source.get_string("matching.consumer_group", c.consumer_group);
    c.ratings_stream = source.get_string("matching.ratings_stream", c.ratings_stream);
    c.tick = std::chrono::milliseconds(source.get_int("matching.tick_ms", 1000, 50, 60000));
    c.tick_slots = static_cast<int>(source.get_int("matching.tick_slots", 10, 1, 100));
    c.lease = std::chrono::milliseconds(source.get_int("matching.lease_ms", 5000, 500, 600000));
    c.offer_expiry = std::chrono::seconds(source.get_int("matching.offer_expiry_s", 60, 5, 3600));
    c.offer_expiry_by_kind = per_kind<std::chrono::seconds>(
        "matching.offer_expiry_by_kind", source.get_string("matching.offer_expiry_by_kind", ""), 3600);
    c.asap_deadline = std::chrono::minutes(source.get_int("matching.asap_deadline_min", 120, 5, 1440));
    c.asap_deadline_by_kind = per_kind<std::chrono::minutes>(
        "matching.asap_deadline_by_kind", source.get_string("matching.asap_deadline_by_kind", ""), 1440);
    c.max_live_offers = static_cast<int>(source.get_int("matching.max_live_offers", 1, 1, 20));
    c.reconcile = std::chrono::seconds(source.get_int("matching.reconcile_s", 30, 1, 3600));
    c.stuck_after = std::chrono::seconds(source.get_int("matching.stuck_after_s", 10, 1, 600));
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)), owner(make_owner()) {}

const catalog_entry* context::find(const std::string& kind, const std::string& sub_type) const {
    for (const auto& e : catalog) {
        if (e.kind == kind && e.sub_type == sub_type) {
            return &e;
        }
    }
    return nullptr;
}

std::chrono::seconds context::offer_expiry(const std::string& kind) const {
    auto it = cfg.offer_expiry_by_kind.find(kind);
    return it == cfg.offer_expiry_by_kind.end() ? cfg.offer_expiry : it->second;
}

std::chrono::minutes context::asap_deadline(const std::string& kind) const {
    auto it = cfg.asap_deadline_by_kind.find(kind);
    return it == cfg.asap_deadline_by_kind.end() ? cfg.asap_deadline : it->second;
}

namespace {

// order.created as matching keeps it: waiting to be offered.
store::open_order created_order(const context& c, const json::object& p, const events::event& e) {
    store::open_order o;
    o.id = std::string(p.at("order_id").as_string());
    o.community_id = p.at("community_id").to_number<std::int64_t>();
    o.street = o.community_id / 1000;
    o.recipient_id = std::string(p.at("recipient_id").as_string());
    if (const auto* f = p.if_contains("family_id"); f != nullptr && f->is_string()) {
        o.family_id = std::string(f->as_string());
    }
    o.kind = std::string(p.at("kind").as_string());
    o.sub_type = std::string(p.at("sub_type").as_string());
    if (const auto* l = p.if_contains("location"); l && l->is_object()) {
        o.lat = l->at("lat").to_number<double>();
        o.lon = l->at("lon").to_number<double>();
    }
    o.window_start = epoch_of(std::string(p.at("window_start").as_string()));
    o.window_end = epoch_of(std::string(p.at("window_end").as_string()));
    o.asap = p.at("asap").as_bool();
    o.created_at = e.occurred_at.empty() ? o.window_start : epoch_of(e.occurred_at);
    o.deadline = o.asap ? o.created_at + std::chrono::duration<double>(c.asap_deadline(o.kind)).count()
                        : o.window_start;
    if (const auto* a = p.if_contains("ability_level"); a && a->is_number()) {
        o.ability_level = static_cast<int>(a->to_number<std::int64_t>());
    }
    if (const auto* pc = p.if_contains("priority_categories"); pc && pc->is_array()) {
        o.priority_categories = static_cast<int>(pc->as_array().size());
    }
    if (const auto* g = p.if_contains("gender_preference"); g && g->is_string()) {
        o.gender_preference = std::string(g->as_string());
    }
    if (const auto* crew = p.if_contains("crew"); crew && crew->is_int64()) {
        o.crew = static_cast<int>(std::clamp<std::int64_t>(crew->as_int64(), 1, 2));
    }
    o.state = "waiting";
    return o;
}

// Orders' facts, kept in matching's own tables inside the consumer's transaction.
void on_order_event(context& c, pqxx::work& tx, const events::event& e) {
    auto v = json::parse(e.payload);
    const auto& p = v.as_object();
    if (e.type == "rating.score_changed") {
        // A worker's rating score enters the cost; organisations' scores are not matching's concern.
        if (p.at("subject_type").as_string() == "worker") {
            store::set_score(
                tx, std::string(p.at("subject_id").as_string()), p.at("score").to_number<double>());
        }
        return;
    }
    const std::string order_id(p.at("order_id").as_string());
    if (e.type == "order.created") {
        store::upsert_created(tx, created_order(c, p, e));
    } else if (e.type == "order.cancelled" || e.type == "order.expired" || e.type == "order.failed") {
        store::close_order(tx, order_id, false);
    } else if (e.type == "order.completed") {
        auto order = store::find_order(tx, order_id);
        auto worker =
            store::close_order(tx, order_id, true, e.occurred_at.empty() ? 0.0 : epoch_of(e.occurred_at));
        if (order && worker) {
            store::add_continuity(tx, order->recipient_id, *worker);
        }
        // A crew: the elder knows the second worker too.
        if (const auto* second = p.if_contains("second_worker_id");
            order && second != nullptr && second->is_string() && second->as_string() != worker.value_or("")) {
            store::add_continuity(tx, order->recipient_id, std::string(second->as_string()));
        }
    }
}

}  // namespace

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("matching", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {
    auto& c = ctx();
    add_peer("orders", c.cfg.orders);
    add_peer("providers", c.cfg.providers);
    std::function<boost::asio::awaitable<void>()> ticks = [this]() -> boost::asio::awaitable<void> {
        co_await run_ticks();
    };
    add_loop("tick", std::move(ticks));
    std::function<boost::asio::awaitable<void>()> expire_task = [this]() -> boost::asio::awaitable<void> {
        (void)co_await expire();
    };
    add_task("expiry", std::chrono::seconds(1), std::move(expire_task));
    std::function<boost::asio::awaitable<void>()> repair_task = [this]() -> boost::asio::awaitable<void> {
        (void)co_await repair();
    };
    add_task("repair", c.cfg.stuck_after, std::move(repair_task));
    std::function<boost::asio::awaitable<void>()> reconcile_task = [this]() -> boost::asio::awaitable<void> {
        (void)co_await reconcile();
    };
    add_task("reconcile", c.cfg.reconcile, std::move(reconcile_task));
}

app::~app() = default;

const std::string& app::owner() const {
    return ctx().owner;
}

void app::on_start() {
    auto& c = ctx();
    const auto catalog = http::read_json_array_file("matching.catalog_file", c.cfg.catalog_file);
    try {
        for (const auto& v : catalog) {
            const auto& o = v.as_object();
            catalog_entry e;
            e.kind = std::string(o.at("kind").as_string());
            e.sub_type = std::string(o.at("sub_type").as_string());
            e.duration_min = static_cast<int>(o.at("duration_min").as_int64());
            for (const auto& cred : o.at("credentials").as_array()) {
                e.credentials.emplace_back(cred.as_string());
            }
            c.catalog.push_back(std::move(e));
        }
    } catch (const std::exception& e) {
        throw core::config_error("matching.catalog_file", std::string("malformed catalog: ") + e.what());
    }
    c.streets = runtime::read_streets("matching.regions_file", c.cfg.regions_file);
    events::consumer_settings s;
    s.group = c.cfg.consumer_group;
    s.consumer = c.owner;
    for (auto street : c.streets) {
        s.streams.push_back(runtime::orders_stream(street));
    }
    s.streams.push_back(c.cfg.ratings_stream);
    events::handler h = [&c](pqxx::work& tx, const events::event& e) { on_order_event(c, tx, e); };
    auto consumer = c.make_consumer(std::move(s), std::move(h));
    // A busy street's read is mostly order.created: each run of them is one statement, in stream order with
    // the rest.
    consumer->set_read_handler([&c](pqxx::work& tx, const std::vector<const events::event*>& es) {
        std::vector<store::open_order> created;
        for (const auto* e : es) {
            if (e->type == "order.created") {
                created.push_back(created_order(c, json::parse(e->payload).as_object(), *e));
                continue;
            }
            store::upsert_created(tx, created);
            created.clear();
            on_order_event(c, tx, *e);
        }
        store::upsert_created(tx, created);
    });
    consumer_ = consumer.get();
    add_consumer(std::move(consumer));
}

boost::asio::awaitable<std::size_t> app::consume_once() {
    co_return co_await consumer_->run_once();
}

void app::add_own_gauges(observability::metrics& m, const std::string& label) {
    auto& c = ctx();
    auto counter = [&](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
        m.add_gauge(std::string("carematch_matching_") + name + label, help, [&v] {
            return static_cast<double>(v.load());
        });
    };
    counter("offers_total", "Offers that reached a worker.", c.count.offers);
    counter("accepts_total", "Offers accepted.", c.count.accepts);
    counter("declines_total", "Offers declined.", c.count.declines);
    counter("offer_expiries_total", "Offers that expired unanswered.", c.count.expiries);
    counter("order_expiries_total",
            "Orders nobody was assigned to by their deadline.",
            c.count.deadline_expiries);
    counter("unassigned_with_free_worker_total",
            "Orders a tick left unassigned while a feasible worker stayed free.",
            c.count.unassigned_with_free_worker);
    counter("fenced_offers_total",
            "Offers refused because the street's lease had moved on.",
            c.count.refused_by_fence);
    counter("ticks_total", "Street solves run.", c.count.ticks);
    m.add_gauge("carematch_matching_last_solve_ms" + label,
                "Time the last street solve took in libs/match.",
                [&c] { return c.count.last_solve_ms.load(); });
    // The order → first offer latency as a histogram (cumulative buckets, seconds).
    const std::string inner = label.substr(1, label.size() - 2);
    for (std::size_t i = 0; i < latency_histogram::bounds.size(); ++i) {
        std::ostringstream le;
        le << latency_histogram::bounds[i];
        m.add_gauge("carematch_matching_order_to_offer_seconds_bucket{" + inner + ",le=\"" + le.str() + "\"}",
                    "Orders first offered within this many seconds of their creation.",
                    [&c, i] {
                        std::lock_guard lock(c.to_offer.mutex);
                        std::uint64_t n = 0;
                        for (std::size_t j = 0; j <= i; ++j) {
                            n += c.to_offer.counts[j];
                        }
                        return static_cast<double>(n);
                    });
    }
    m.add_gauge("carematch_matching_order_to_offer_seconds_count" + label, "Orders first offered.", [&c] {
        std::lock_guard lock(c.to_offer.mutex);
        return static_cast<double>(c.to_offer.count);
    });
    m.add_gauge(
        "carematch_matching_order_to_offer_seconds_sum" + label, "Seconds from order to first offer.", [&c] {
            std::lock_guard lock(c.to_offer.mutex);
            return c.to_offer.sum;
        });
}

std::string_view openapi_document();  // services/matching/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::matching
