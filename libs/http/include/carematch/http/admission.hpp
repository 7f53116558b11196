// Admission control: refuses at once (503) only what would stand in a queue, never a request for being slow.
#pragma once

#include <carematch/http/middleware.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace carematch::http {

struct admission_settings {
    int max_in_flight = 1024;  // per class (reads, writes) at the most; 0: no limit at all
    int floor = 8;             // the adaptive limit of a class never goes below this
    // Requests standing in a queue (the least wait of an interval, CoDel's measure) longer than this:
    // overload.
    std::chrono::milliseconds target{20};
    std::chrono::milliseconds interval{100};  // how often the limits move
};

/// A queue that admitted requests stand in (a connection pool, the io threads' run queue): its standing
/// delay, the least wait of its last interval (core::queue_delay::standing), zero when nothing queues.
using delay_signal = std::function<std::chrono::steady_clock::duration()>;

/// Two budgets, reads (GET, HEAD) and writes (the rest), each an in-flight limit between `floor` and
/// `max_in_flight`. Once an interval the limits move by the longest standing delay of the signals: above the
/// target, a class's limit falls to what it had in flight times target ÷ delay (by a tenth to a half); at or
/// below it, the limits grow by a twentieth. A request over its class's limit is answered 503 problem+json
/// with Retry-After at once, so what is admitted waits in no standing queue, and a route that is slow by
/// nature (a password hash, a PDF) never cuts anyone's limit. Calls between services (/v1/internal/...)
/// belong to requests already admitted and pass uncounted.
class admission {
  public:
    admission(admission_settings settings, std::vector<delay_signal> signals);

    /// The middleware; put it outside everything that waits. It shares this object's state: keep the
    /// admission alive as long as the handler.
    middleware door() const;

    struct figures {
        int read_limit = 0, write_limit = 0;
        int reads_in_flight = 0, writes_in_flight = 0;
        std::uint64_t reads_refused = 0, writes_refused = 0;
        double delay_ms = 0;  // the standing delay at the last move of the limits
    };
    figures snapshot() const;

  private:
    struct state;  // defined in admission.cpp
    std::shared_ptr<state> state_;
};

}  // namespace carematch::http
