// The least wait per interval, kept in two slots that roll over as time passes.
#include <carematch/core/queue_delay.hpp>

namespace carematch::core {

queue_delay::queue_delay(std::chrono::milliseconds interval) noexcept
    : interval_(interval.count() > 0 ? interval : std::chrono::milliseconds(100)) {}

std::int64_t queue_delay::slot_of(clock::time_point t) const noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() /
           interval_.count();
}

void queue_delay::record(clock::duration waited, clock::time_point now) noexcept {
    const std::int64_t slot = slot_of(now);
    const std::int64_t w = std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count();
    last_record_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
    std::int64_t seen = current_slot_.load(std::memory_order_acquire);
    while (slot > seen) {
        // The first record of a new interval closes the one being filled. A record racing the roll-over may
        // land in either interval: the measure is a minimum, and one wait more or less in a window is noise.
        if (current_slot_.compare_exchange_weak(seen, slot, std::memory_order_acq_rel)) {
            previous_min_.store(current_min_.exchange(none, std::memory_order_acq_rel),
                                std::memory_order_release);
            previous_slot_.store(seen, std::memory_order_release);
            seen = slot;
            break;
        }
    }
    std::int64_t least = current_min_.load(std::memory_order_relaxed);
    while (w < least && !current_min_.compare_exchange_weak(least, w, std::memory_order_relaxed)) {
    }
}

queue_delay::clock::duration queue_delay::standing(clock::time_point now) const noexcept {
    const std::int64_t slot = slot_of(now);
    const std::int64_t current = current_slot_.load(std::memory_order_acquire);
    std::int64_t least = none;
    if (current == slot - 1) {
        least = current_min_.load(std::memory_order_relaxed);  // the interval just ended, not rolled over yet
    } else if (current == slot && previous_slot_.load(std::memory_order_acquire) == slot - 1) {
        least = previous_min_.load(std::memory_order_relaxed);
    }
    return least == none ? clock::duration::zero() : std::chrono::nanoseconds(least);
}

queue_delay::clock::time_point queue_delay::last_record() const noexcept {
    return clock::time_point(clock::duration(last_record_.load(std::memory_order_relaxed)));
}

}  // namespace carematch::core
