// CoDel's measure of a queue: the least time any item waited during the last interval. Thread-safe,
// lock-free.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace carematch::core {

/// A burst makes some items wait and drains; a standing queue makes every item wait. So the least wait of an
/// interval (100 ms by default) tells overload apart from a burst, whatever the work costs once started: a
/// slow request that waited for nothing is no sign of overload.
class queue_delay {
  public:
    using clock = std::chrono::steady_clock;

    explicit queue_delay(std::chrono::milliseconds interval = std::chrono::milliseconds(100)) noexcept;

    /// One item left the queue at `now` after waiting `waited`.
    void record(clock::duration waited, clock::time_point now = clock::now()) noexcept;

    /// The least wait of the last complete interval. Zero when that interval saw no item: a queue that
    /// nothing left is either empty or stuck, and the caller, which knows whether anything waits, tells those
    /// apart.
    clock::duration standing(clock::time_point now = clock::now()) const noexcept;

    /// When an item last left the queue (the epoch when none has).
    clock::time_point last_record() const noexcept;

    std::chrono::milliseconds interval() const noexcept { return interval_; }

  private:
    static constexpr std::int64_t none = INT64_MAX;
    std::int64_t slot_of(clock::time_point t) const noexcept;

    std::chrono::milliseconds interval_;
    // The interval being filled (its number since the clock's epoch) and its least wait, and the one before.
    std::atomic<std::int64_t> current_slot_{0};
    std::atomic<std::int64_t> current_min_{none};
    std::atomic<std::int64_t> previous_slot_{-1};
    std::atomic<std::int64_t> previous_min_{none};
    std::atomic<std::int64_t> last_record_{0};
};

}  // namespace carematch::core
