// A bare outbox relay for one schema, as its own process, so that a test can kill it (SIGKILL) mid-way:
//   carematch-test-relay <postgresql url> <redis url> <schema> <batch>
#include <carematch/core/config.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/redis/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    using namespace carematch;
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s <postgresql url> <redis url> <schema> <batch>\n", argv[0]);
        return 2;
    }
    boost::asio::io_context io;
    db::pool pool(core::db_settings{argv[1], 2, std::chrono::milliseconds(5000), {}});
    redis::client redis(io, core::parse_redis_url("redis", argv[2]));
    db::relay_settings settings;
    settings.batch = static_cast<std::size_t>(std::stoul(argv[4]));
    db::outbox_relay relay(pool, redis, argv[3], settings);
    boost::asio::co_spawn(io, relay.run(), boost::asio::detached);
    io.run();
    return 0;
}
