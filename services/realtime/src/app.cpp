// realtime wiring: config, the domain streams it fans out, the live channel, and GET /v1/ws.
#include "context.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/error.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/websocket.hpp>
#include <carematch/observability/metrics.hpp>
#include <carematch/runtime/regions.hpp>

#include <boost/asio/io_context.hpp>

namespace carematch::realtime {

const std::vector<db::migration>& migrations();

config read_config(core::config_source& source) {
    config c;
    c.service = core::read_service_config(source);
    c.schema = db::read_schema(source, "realtime.schema", c.schema, c.service);
    c.regions_file = source.get_string("realtime.regions_file", c.regions_file);
    c.complaints_stream = source.get_string("realtime.complaints_stream", c.complaints_stream);
    c.consumer_group = source.get_string("realtime.consumer_group", c.consumer_group);
    c.prefix = source.get_string("realtime.prefix", c.prefix);
    c.retention = std::chrono::seconds(source.get_int("realtime.retention_s", 600, 10, 86'400));
    c.send_queue = static_cast<std::size_t>(source.get_int("realtime.send_queue", 256, 8, 65'536));
    c.ping_interval = std::chrono::seconds(source.get_int("realtime.ping_interval_s", 20, 1, 300));
    c.auth_timeout = std::chrono::seconds(source.get_int("realtime.auth_timeout_s", 10, 1, 120));
    c.max_sockets_per_user =
        static_cast<std::size_t>(source.get_int("realtime.max_sockets_per_user", 10, 1, 10'000));
    c.auth = auth::read_token_config(source);
    return c;
}

context::context(boost::asio::io_context& io, config c, const core::clock& clk)
    : runtime::deps(io, c.service, c.schema, c.auth, clk), cfg(std::move(c)), feed(redis, cfg) {}

app::app(boost::asio::io_context& io, config cfg, const core::clock& clock)
    : service_with("realtime", std::make_unique<context>(io, std::move(cfg), clock), migrations()) {}

app::~app() = default;

void app::on_start() {
    auto& c = ctx();
    c.streets = runtime::read_streets("realtime.regions_file", c.cfg.regions_file);
    events::consumer_settings s;
    s.group = c.cfg.consumer_group;
    s.block = std::chrono::milliseconds(200);
    for (auto street : c.streets) {
        s.streams.push_back(runtime::orders_stream(street));
        s.streams.push_back("carematch:{region:" + std::to_string(street) + "}:matching");
        s.streams.push_back(runtime::nursery_stream(street));
    }
    s.streams.push_back(c.cfg.complaints_stream);
    events::async_handler h = [&c](const events::event& e) -> boost::asio::awaitable<void> {
        for (const auto& d : fan_out(e)) {
            co_await c.feed.push(e.id, d);
            ++c.count.pushed;
        }
    };
    auto consumer = c.make_consumer(std::move(s), std::move(h));
    consumer_ = consumer.get();
    add_consumer(std::move(consumer));

    c.live = std::make_unique<redis::subscriber>(c.io, c.service_settings.redis);
    add_loop("live channel", [&c]() -> boost::asio::awaitable<void> {
        if (!co_await c.live->subscribe(c.feed.channel())) {
            throw core::unavailable_error("redis: cannot subscribe to " + c.feed.channel());
        }
        while (!c.stopping) {
            auto m = co_await c.live->next();
            if (m.channel.empty()) {
                break;  // stopped
            }
            c.hub.dispatch(m.payload);
        }
    });
}

void app::on_stop() {
    if (auto& c = ctx(); c.live) {
        c.live->stop();
    }
}

void app::add_routes(http::router& r) {
    auto& c = ctx();
    r.add("GET", "/v1/ws", [&c](http::request& req) -> boost::asio::awaitable<http::response> {
        // The token comes in the protocol list ("carematch.v1, bearer.<token>") or in the first message,
        // never in the URL: URLs are logged.
        std::optional<auth::caller> who;
        bool offered = false;
        bool ours = false;
        if (auto protocols = req.header("sec-websocket-protocol")) {
            std::string_view rest = *protocols;
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                std::string_view p = rest.substr(0, comma);
                rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
                while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) {
                    p.remove_prefix(1);
                }
                while (!p.empty() && (p.back() == ' ' || p.back() == '\t')) {
                    p.remove_suffix(1);
                }
                offered = offered || !p.empty();
                if (p == "carematch.v1") {
                    ours = true;
                } else if (p.starts_with("bearer.")) {
                    auto v = c.verifier.verify(p.substr(7), auth::token_type::access);
                    if (!v) {
                        co_return auth::deny(v.error(), req.request_id);
                    }
                    who = *v;
                }
            }
        }
        if (offered && !ours) {
            auto res =
                http::problem_response(400, "offer the subprotocol carematch.v1", "Sec-WebSocket-Protocol");
            co_return res;
        }
        if (who && audiences_of(*who).empty()) {
            co_return auth::deny(core::errc::forbidden, req.request_id);
        }
        std::string last = req.query_param("last_event_id").value_or("");
        http::websocket_upgrade u;
        u.subprotocol = ours ? "carematch.v1" : "";
        u.send_queue = c.cfg.send_queue;
        u.ping_interval = c.cfg.ping_interval;
        u.message_limit = 16 * 1024;
        u.run = [&c, who, last](std::shared_ptr<http::websocket> ws) -> boost::asio::awaitable<void> {
            co_await serve(c, std::move(ws), who, last);
        };
        co_return http::upgrade_response(std::move(u));
    });
}

boost::asio::awaitable<std::size_t> app::consume_once() {
    co_return co_await consumer_->run_once();
}

std::size_t app::connections() const {
    return ctx().hub.size();
}

void app::add_own_gauges(observability::metrics& m, const std::string& label) {
    auto& c = ctx();
    m.add_gauge("carematch_realtime_connections" + label, "Open WebSockets with a verified user.", [&c] {
        return static_cast<double>(c.hub.size());
    });
    auto counter = [&](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
        m.add_gauge(std::string("carematch_realtime_") + name + label, help, [&v] {
            return static_cast<double>(v.load());
        });
    };
    counter("pushed_total", "Messages appended to an audience's feed.", c.count.pushed);
    counter("delivered_total", "Frames queued to a socket of this process.", c.count.delivered);
    counter("resumed_total", "Frames replayed to reconnecting sockets.", c.count.resumed);
    counter("resyncs_total",
            "Reconnects told to refetch over REST (their last id was too old).",
            c.count.resyncs);
    counter("refused_total", "Sockets closed for a missing, bad or expired token.", c.count.refused);
}

std::string_view openapi_document();  // services/realtime/openapi.json, embedded by carematch_embed_openapi

std::string_view app::openapi() const {
    return openapi_document();
}

}  // namespace carematch::realtime
