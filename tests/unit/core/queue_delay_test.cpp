// queue_delay: the least wait of the last complete interval, CoDel's measure of a standing queue.
#include <carematch/core/queue_delay.hpp>

#include <gtest/gtest.h>

namespace carematch::core {
namespace {

using namespace std::chrono_literals;
using clock = queue_delay::clock;

clock::time_point at(long ms) {
    return clock::time_point(std::chrono::milliseconds(ms));
}

TEST(queue_delay, a_burst_that_drains_shows_no_standing_queue) {
    queue_delay q(100ms);
    q.record(80ms, at(1'010));  // a burst waited long...
    q.record(40ms, at(1'020));
    q.record(0ms, at(1'090));  // ...but the line emptied within the interval
    EXPECT_EQ(q.standing(at(1'150)), 0ms);
}

TEST(queue_delay, every_item_of_an_interval_waiting_long_is_a_standing_queue) {
    queue_delay q(100ms);
    for (long t = 1'000; t < 1'100; t += 10) {
        q.record(std::chrono::milliseconds(30 + (t % 30)), at(t));
    }
    EXPECT_EQ(q.standing(at(1'050)), 0ms);   // the interval is not over yet: nothing to say
    EXPECT_EQ(q.standing(at(1'120)), 30ms);  // its least wait, read before the next record
    q.record(5ms, at(1'130));                // the next interval begins
    EXPECT_EQ(q.standing(at(1'140)), 30ms);  // still the last complete one
    EXPECT_EQ(q.standing(at(1'210)), 5ms);
}

TEST(queue_delay, a_queue_nothing_left_for_a_while_says_nothing) {
    queue_delay q(100ms);
    q.record(50ms, at(1'000));
    EXPECT_EQ(q.standing(at(1'100)), 50ms);
    EXPECT_EQ(q.standing(at(1'300)), 0ms);  // two intervals later: old news, the caller decides
    EXPECT_EQ(q.last_record(), at(1'000));
}

}  // namespace
}  // namespace carematch::core
