// A clock passed into logic so that tests control time.
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

}  // namespace carematch::core
