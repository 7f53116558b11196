// The sockets of this process by audience: where a live message from the channel goes.
#pragma once

#include "feed.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace carematch::realtime {

class hub {
  public:
    /// One connection's end: receives frames in position order.
    class listener {
      public:
        virtual ~listener() = default;
        virtual void deliver(const position& at, const std::string& frame) = 0;
    };

    void add(const std::vector<std::string>& audiences, const std::shared_ptr<listener>& l);
    void remove(const std::vector<std::string>& audiences, const listener* l);

    /// A message from the channel ("<audience>\n<position>\n<message>") to the listeners of its audience.
    /// Returns how many it reached; a malformed one reaches none.
    std::size_t dispatch(const std::string& payload);

    /// Listeners registered.
    std::size_t size() const;

    /// Counts one more socket of `user` in this process, unless it holds `max` already (then false, and
    /// nothing is counted). Every true is followed by one leave().
    bool enter(const std::string& user, std::size_t max);
    void leave(const std::string& user);

  private:
    std::unordered_map<std::string, std::size_t> per_user_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<std::weak_ptr<listener>>> by_audience_;
    std::size_t listeners_ = 0;
};

}  // namespace carematch::realtime
