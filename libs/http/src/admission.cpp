// Admission control by standing queue delay: two in-flight budgets moved once an interval.
#include <carematch/http/admission.hpp>

#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>

namespace carematch::http {

namespace {

using steady = std::chrono::steady_clock;

struct budget {
    std::atomic<int> in_flight{0};
    std::atomic<int> peak{0};      // the most in flight since the limits last moved
    std::atomic<double> limit{0};  // read without the lock
    std::atomic<std::uint64_t> refused{0};

    bool enter() {
        const int now = in_flight.fetch_add(1, std::memory_order_acq_rel) + 1;
        if (now > static_cast<int>(limit.load(std::memory_order_relaxed))) {
            in_flight.fetch_sub(1, std::memory_order_acq_rel);
            refused.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        int p = peak.load(std::memory_order_relaxed);
        while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
        }
        return true;
    }
};

}  // namespace

struct admission::state {
    admission_settings settings;
    std::vector<delay_signal> signals;
    budget reads;
    budget writes;
    std::mutex moving;  // one caller moves the limits; the others go on
    std::atomic<steady::rep> next_move{0};
    std::atomic<double> delay_ms{0};

    // Once an interval: the longest standing delay decides whether the limits fall or grow.
    void move_limits(steady::time_point now) {
        if (now.time_since_epoch().count() < next_move.load(std::memory_order_relaxed)) {
            return;
        }
        std::unique_lock lock(moving, std::try_to_lock);
        if (!lock.owns_lock() || now.time_since_epoch().count() < next_move.load(std::memory_order_relaxed)) {
            return;
        }
        next_move.store((now + settings.interval).time_since_epoch().count(), std::memory_order_relaxed);
        steady::duration delay{};
        for (const auto& s : signals) {
            delay = std::max(delay, s());
        }
        delay_ms.store(std::chrono::duration<double, std::milli>(delay).count(), std::memory_order_relaxed);
        const double floor = settings.floor;
        const double max = settings.max_in_flight;
        for (budget* b : {&reads, &writes}) {
            const double limit = b->limit.load(std::memory_order_relaxed);
            const double peak = b->peak.exchange(b->in_flight.load(std::memory_order_relaxed));
            double next = limit;
            if (delay > settings.target) {
                // Only a class that had work in flight is cut: a queue of writes says nothing about reads
                // that were not there.
                if (peak > floor) {
                    const double ratio = std::clamp(std::chrono::duration<double>(settings.target).count() /
                                                        std::chrono::duration<double>(delay).count(),
                                                    0.5,
                                                    0.9);
                    next = std::max(floor, std::min(limit, peak) * ratio);
                }
            } else {
                // Back up by a twentieth an interval: far above what is in flight, a limit admits whole bursts
                // into the queues it has just drained.
                next = std::min(max, limit * 1.05 + 1);
            }
            b->limit.store(next, std::memory_order_relaxed);
        }
    }
};

admission::admission(admission_settings settings, std::vector<delay_signal> signals)
    : state_(std::make_shared<state>()) {
    settings.floor = std::max(1, settings.floor);
    if (settings.max_in_flight > 0) {
        settings.floor = std::min(settings.floor, settings.max_in_flight);
    }
    if (settings.interval.count() <= 0) {
        settings.interval = std::chrono::milliseconds(100);
    }
    state_->settings = settings;
    state_->signals = std::move(signals);
    state_->reads.limit = settings.max_in_flight;
    state_->writes.limit = settings.max_in_flight;
}

middleware admission::door() const {
    return [st = state_](request& req, const handler& next) -> boost::asio::awaitable<response> {
        if (st->settings.max_in_flight <= 0 || req.path.starts_with("/v1/internal/")) {
            co_return co_await next(req);
        }
        st->move_limits(steady::now());
        budget& b = req.method == "GET" || req.method == "HEAD" ? st->reads : st->writes;
        if (!b.enter()) {
            response r = problem_response(
                core::problem{
                    503, "Service Unavailable", "overloaded: requests are queueing; try again shortly", {}},
                req.request_id);
            r.set_header("Retry-After", "1");
            co_return r;
        }
        struct leave {
            std::atomic<int>& n;
            ~leave() { n.fetch_sub(1, std::memory_order_acq_rel); }
        } guard{b.in_flight};
        co_return co_await next(req);
    };
}

admission::figures admission::snapshot() const {
    figures f;
    f.read_limit = static_cast<int>(state_->reads.limit.load());
    f.write_limit = static_cast<int>(state_->writes.limit.load());
    f.reads_in_flight = state_->reads.in_flight.load();
    f.writes_in_flight = state_->writes.in_flight.load();
    f.reads_refused = state_->reads.refused.load();
    f.writes_refused = state_->writes.refused.load();
    f.delay_ms = state_->delay_ms.load();
    return f;
}

}  // namespace carematch::http
