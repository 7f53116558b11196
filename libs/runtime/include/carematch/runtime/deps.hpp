// The dependencies every service's handlers share, built once by the runtime: pool, Redis, outbox relay,
// peer client, token verifier and issuer, the clock. A service's context derives from it and adds its own.
#pragma once

#include <carematch/auth/jwt.hpp>
#include <carematch/auth/sealer.hpp>
#include <carematch/core/clock.hpp>
#include <carematch/core/config.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/events/consumer.hpp>
#include <carematch/http/client.hpp>
#include <carematch/redis/client.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace carematch::runtime {

struct deps {
    /// Copies what the runtime needs of the service's config; connects nothing yet.
    deps(boost::asio::io_context& io,
         const core::service_config& service,
         const std::string& schema,
         const auth::token_config& auth,
         const core::clock& clock,
         http::client::settings peer_settings = {});
    virtual ~deps();

    boost::asio::io_context& io;
    core::service_config service_settings;
    std::string schema;
    auth::token_config auth_settings;
    const core::clock& clock;
    db::pool pool;
    redis::client redis;
    db::outbox_relay relay;
    http::client peers;
    auth::token_verifier verifier;
    std::unique_ptr<auth::token_issuer> issuer;  // set at start, once the signing key is parsed
    std::unique_ptr<auth::sealer> sealer;        // set at start when auth.data_key is configured
    std::atomic<bool> stopping{false};

    /// A consumer of other services' events into this service's inbox (hand it to service::add_consumer).
    std::unique_ptr<events::consumer> make_consumer(events::consumer_settings settings, events::handler h);
    /// The same for an effect outside PostgreSQL, idempotent by event id (events::async_handler).
    std::unique_ptr<events::consumer> make_consumer(events::consumer_settings settings,
                                                    events::async_handler h);

    /// For services that keep personal data (call from on_start): the sealer, or core::config_error naming
    /// auth.data_key when it is not configured.
    const auth::sealer& require_sealer() const;
    /// For the same services (from on_start): `seal` seals what rows written before sealing hold in plain
    /// text, in one transaction on the service's schema, and answers how many rows it sealed (logged).
    void seal_plain_rows(const std::function<int(pqxx::work&, const auth::sealer&)>& seal);

    /// The local day at the clock's now: the one "today" of every service.
    std::chrono::sys_days today() const { return service_settings.local.day(clock.now()); }
};

}  // namespace carematch::runtime
