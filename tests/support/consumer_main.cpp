// A bare event consumer as its own process, so that a test can kill it (SIGKILL) in the middle of a batch:
//   carematch-test-consumer <postgresql url> <redis url> <schema> <stream> <group> <consumer>
// Its handler records each event's effect in <schema>.effects (no unique constraint: the inbox alone must
// keep effects to one per event) and takes a few milliseconds; at its 120th event (the third read of 50,
// whose transaction holds 19 effects) it stops for a minute, so that a kill surely lands inside a read batch.
#include <carematch/core/config.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/events/consumer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char** argv) {
    using namespace carematch;
    if (argc != 7) {
        std::fprintf(
            stderr, "usage: %s <postgresql url> <redis url> <schema> <stream> <group> <consumer>\n", argv[0]);
        return 2;
    }
    const std::string schema = argv[3];
    boost::asio::io_context io;
    db::pool pool(core::db_settings{argv[1], 2, std::chrono::milliseconds(5000), schema});
    events::consumer_settings s;
    s.group = argv[5];
    s.consumer = argv[6];
    s.streams = {argv[4]};
    s.batch = 50;
    events::consumer c(io,
                       pool,
                       core::parse_redis_url("redis", argv[2]),
                       schema,
                       s,
                       [](pqxx::work& tx, const events::event& e) {
                           static int calls = 0;
                           if (++calls == 120) {
                               std::this_thread::sleep_for(std::chrono::minutes(1));  // killed meanwhile
                           }
                           tx.exec_params(
                               "INSERT INTO effects (event_id) SELECT $1::uuid FROM pg_sleep(0.002)", e.id);
                       });
    boost::asio::co_spawn(io, c.run(), boost::asio::detached);
    io.run();
    return 0;
}
