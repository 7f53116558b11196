// A clock passed into logic so that tests control time, and the local calendar that turns its instants into
// days.
#pragma once

#include <atomic>
#include <chrono>

namespace carematch::core {

/// The source of "now" for pure logic and expiry decisions.
class clock {
  public:
    using time_point = std::chrono::system_clock::time_point;
    virtual ~clock() = default;
    virtual time_point now() const = 0;
};

/// The system's wall clock.
class system_clock final : public clock {
  public:
    time_point now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that moves only when told to (tests).
class manual_clock final : public clock {
  public:
    explicit manual_clock(time_point start = time_point{}) : now_(start.time_since_epoch().count()) {}
    time_point now() const override { return time_point(time_point::duration(now_.load())); }
    void advance(std::chrono::system_clock::duration d) { now_ += d.count(); }

  private:
    std::atomic<time_point::rep> now_;
};

/// The platform's local calendar: days are local days (Asia/Shanghai by default: UTC+8, no daylight saving).
/// Every "today" and every local time of day goes through one of these, with `now` from the injected clock.
class calendar {
  public:
    explicit calendar(std::chrono::minutes utc_offset = std::chrono::hours(8)) : offset_(utc_offset) {}

    /// The local day at instant `t` (23:30 UTC is 07:30 the next day in China).
    std::chrono::sys_days day(clock::time_point t) const {
        return std::chrono::floor<std::chrono::days>(t + offset_);
    }
    /// The instant of `minute_of_day` on local day `d`.
    clock::time_point at(std::chrono::sys_days d, std::chrono::minutes minute_of_day) const {
        return clock::time_point(d) + minute_of_day - offset_;
    }
    std::chrono::minutes utc_offset() const noexcept { return offset_; }

  private:
    std::chrono::minutes offset_;
};

}  // namespace carematch::core
