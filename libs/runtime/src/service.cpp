// runtime::service: start-up, probes, gauges and supervised background work shared by every service.
#include <carematch/core/error.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/migrate.hpp>
#include <carematch/runtime/deps.hpp>
#include <carematch/runtime/service.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace carematch::runtime {

namespace asio = boost::asio;

const core::clock& wall_clock() {
    static const core::system_clock clock;
    return clock;
}

deps::deps(asio::io_context& io_context,
           const core::service_config& service,
           const std::string& schema_name,
           const auth::token_config& auth,
           const core::clock& clk,
           http::client::settings peer_settings)
    : io(io_context),
      service_settings(service),
      schema(schema_name),
      auth_settings(auth),
      clock(clk),
      pool(service.db),
      redis(io_context, service.redis),
      relay(pool, redis, schema_name),
      peers(io_context, peer_settings),
      verifier(auth.tokens, clk) {}

deps::~deps() = default;

const auth::sealer& deps::require_sealer() const {
    if (!sealer) {
        throw core::config_error("auth.data_key",
                                 "required secret is missing: this service keeps personal data sealed (set "
                                 "CAREMATCH_AUTH_DATA_KEY or auth.data_key_file)");
    }
    return *sealer;
}

void deps::seal_plain_rows(const std::function<int(pqxx::work&, const auth::sealer&)>& seal) {
    const auth::sealer& s = require_sealer();
    pqxx::connection conn(service_settings.db.url);
    pqxx::work tx(conn);
    tx.exec("SET LOCAL search_path TO " + tx.quote_name(schema) + ", public");
    const int n = seal(tx, s);
    tx.commit();
    if (n > 0) {
        core::log::info("personal data written before sealing is now sealed",
                        {{"schema", schema}, {"rows", n}});
    }
}

std::unique_ptr<events::consumer> deps::make_consumer(events::consumer_settings settings, events::handler h) {
    return std::make_unique<events::consumer>(
        io, pool, service_settings.redis, schema, std::move(settings), std::move(h));
}

std::unique_ptr<events::consumer> deps::make_consumer(events::consumer_settings settings,
                                                      events::async_handler h) {
    return std::make_unique<events::consumer>(
        io, pool, service_settings.redis, schema, std::move(settings), std::move(h));
}

service::service(std::string name, std::unique_ptr<deps> d, const std::vector<db::migration>& migrations)
    : name_(std::move(name)), deps_(std::move(d)), migrations_(migrations) {
    std::function<asio::awaitable<void>()> relay = [this]() -> asio::awaitable<void> {
        co_await deps_->relay.run();
    };
    add_loop("outbox relay", std::move(relay));
}

service::~service() = default;

const std::string& service::name() const noexcept {
    return name_;
}

void service::start() {
    auto& d = *deps_;
    d.pool.check();
    db::migrate(d.service_settings.db.url, d.schema, migrations_);
    d.issuer = std::make_unique<auth::token_issuer>(
        auth::trust_keys(d.verifier, d.auth_settings.signing_key, d.auth_settings.verify_keys),
        d.auth_settings.tokens,
        d.clock);
    if (!d.auth_settings.data_key.empty()) {
        try {
            d.sealer = std::make_unique<auth::sealer>(d.auth_settings.data_key);
        } catch (const std::invalid_argument& e) {
            throw core::config_error("auth.data_key", e.what());
        }
    }
    on_start();
    core::log::info("service started", {{"service", name_}, {"schema", d.schema}});
}

std::vector<observability::probe> service::probes() {
    auto& d = *deps_;
    observability::probe postgres{
        "postgres", [&d]() -> asio::awaitable<bool> {
            try {
                co_await d.pool.transact([](pqxx::work& tx) { tx.exec("SELECT 1"); });
                co_return true;
            } catch (const core::overloaded_error&) {
                co_return true;  // busy, not down: refusing it traffic would only make the others busier
            } catch (const std::exception&) {
                co_return false;
            }
        }};
    observability::probe redis{"redis", [&d]() -> asio::awaitable<bool> {
                                   std::vector<std::string> ping{"PING"};
                                   auto r = co_await d.redis.command(std::move(ping));
                                   co_return r && r->type == redis::reply::kind::status && r->str == "PONG";
                               }};
    return {std::move(postgres), std::move(redis)};
}

void service::add_gauges(observability::metrics& m) {
    const db::pool& p = deps_->pool;
    const std::string label = "{service=\"" + name_ + "\"}";
    m.add_gauge("carematch_db_pool_size" + label, "Connections in the PostgreSQL pool.", [&p] {
        return static_cast<double>(p.stats().size);
    });
    m.add_gauge("carematch_db_pool_in_use" + label, "PostgreSQL transactions running.", [&p] {
        return static_cast<double>(p.stats().in_use);
    });
    m.add_gauge("carematch_db_pool_waiting" + label,
                "PostgreSQL transactions waiting for a connection.",
                [&p] { return static_cast<double>(p.stats().waiting); });
    m.add_gauge("carematch_db_pool_queue_delay_ms" + label,
                "How long transactions stand in line for a connection (the least wait of the last interval).",
                [&p] { return std::chrono::duration<double, std::milli>(p.queue_delay()).count(); });
    m.add_gauge("carematch_db_pool_shed" + label,
                "Transactions refused for overload (queue full, or no connection in time).",
                [&p] { return static_cast<double>(p.stats().shed); });
    m.add_gauge("carematch_db_pool_retries" + label,
                "Transactions repeated after serialization failure, deadlock or a broken connection.",
                [&p] { return static_cast<double>(p.stats().retries); });
    m.add_gauge("carematch_db_pool_reconnects" + label, "Connections reopened after a loss.", [&p] {
        return static_cast<double>(p.stats().reconnects);
    });
    for (const auto& c : consumers_) {
        const events::consumer& ref = *c;
        for (const auto& stream : ref.settings().streams) {
            m.add_gauge("carematch_events_lag{service=\"" + name_ + "\",stream=\"" + stream + "\"}",
                        "Stream entries not yet delivered to the service's consumer group.",
                        [&ref, stream] {
                            const auto lag = ref.lag();
                            const auto it = lag.find(stream);
                            return it == lag.end() ? 0.0 : static_cast<double>(it->second);
                        });
        }
        m.add_gauge(
            "carematch_events_dead_letters{service=\"" + name_ + "\",group=\"" + ref.settings().group + "\"}",
            "Events given up on after repeated handler failures (see the event_failures table).",
            [&ref] { return static_cast<double>(ref.stats().dead_lettered); });
        m.add_gauge(
            "carematch_events_handled{service=\"" + name_ + "\",group=\"" + ref.settings().group + "\"}",
            "Events handled by the service's consumer.",
            [&ref] { return static_cast<double>(ref.stats().handled); });
    }
    add_own_gauges(m, label);
}

void service::add_consumer(std::unique_ptr<events::consumer> c) {
    events::consumer& ref = *c;
    consumers_.push_back(std::move(c));
    std::function<asio::awaitable<void>()> loop = [&ref]() -> asio::awaitable<void> { co_await ref.run(); };
    add_loop("consumer " + ref.settings().group, std::move(loop));
}

asio::awaitable<void> service::supervise(task& t) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto backoff = std::chrono::milliseconds(100);
    while (!deps_->stopping) {
        try {
            co_await t.loop();
            if (deps_->stopping) {
                break;
            }
            core::log::error("background task returned before the service stopped; restarting",
                             {{"service", name_}, {"task", t.name}});
        } catch (const std::exception& e) {
            core::log::error("background task failed; restarting",
                             {{"service", name_}, {"task", t.name}, {"error", e.what()}});
        }
        timer.expires_after(backoff);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
    }
}

asio::awaitable<void> service::run_from(std::size_t first) {
    if (first >= tasks_.size()) {
        co_return;
    }
    if (first + 1 == tasks_.size()) {
        co_await supervise(tasks_[first]);
        co_return;
    }
    using namespace asio::experimental::awaitable_operators;
    co_await (supervise(tasks_[first]) && run_from(first + 1));
}

asio::awaitable<void> service::run() {
    co_await run_from(0);
}

void service::stop() {
    deps_->stopping = true;
    deps_->relay.stop();
    for (auto& c : consumers_) {
        c->stop();
    }
    on_stop();
}

const auth::token_verifier& service::verifier() const {
    return deps_->verifier;
}

db::pool& service::pool() {
    return deps_->pool;
}

std::vector<std::string> service::peer_names() const {
    std::vector<std::string> out;
    for (const auto& [n, where] : peers_) {
        out.push_back(n);
    }
    return out;
}

void service::set_peer(std::string_view name, const http::endpoint& where) {
    for (auto& [n, at] : peers_) {
        if (n == name) {
            *at = where;
        }
    }
}

void service::add_task(std::string name,
                       std::chrono::steady_clock::duration interval,
                       std::function<asio::awaitable<void>()> fn) {
    std::function<asio::awaitable<void>()> loop = [this, name, interval, fn]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (!deps_->stopping) {
            // At a fixed rate: the next run starts `interval` after this one started, so a run's own length
            // does not stretch the period (a matching tick of 300 ms still ticks every second); a run that
            // overruns is followed by the next at once, never by a burst of missed ones.
            const auto started = std::chrono::steady_clock::now();
            try {
                co_await fn();
            } catch (const std::exception& e) {
                core::log::warn("periodic task failed",
                                {{"service", name_}, {"task", name}, {"error", e.what()}});
            }
            timer.expires_at(std::max(started + interval, std::chrono::steady_clock::now()));
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    };
    add_loop(std::move(name), std::move(loop));
}

void service::add_loop(std::string name, std::function<asio::awaitable<void>()> loop) {
    tasks_.push_back(task{std::move(name), std::move(loop)});
}

void service::add_peer(std::string name, http::endpoint& where) {
    peers_.emplace_back(std::move(name), &where);
}

}  // namespace carematch::runtime
