#include "hub.hpp"

#include <algorithm>

namespace carematch::realtime {

void hub::add(const std::vector<std::string>& audiences, const std::shared_ptr<listener>& l) {
    std::lock_guard lock(mutex_);
    for (const auto& a : audiences) {
        by_audience_[a].push_back(l);
    }
    ++listeners_;
}

void hub::remove(const std::vector<std::string>& audiences, const listener* l) {
    std::lock_guard lock(mutex_);
    for (const auto& a : audiences) {
        auto it = by_audience_.find(a);
        if (it == by_audience_.end()) {
            continue;
        }
        auto& v = it->second;
        v.erase(std::remove_if(v.begin(),
                               v.end(),
                               [l](const std::weak_ptr<listener>& w) {
                                   auto s = w.lock();
                                   return !s || s.get() == l;
                               }),
                v.end());
        if (v.empty()) {
            by_audience_.erase(it);
        }
    }
    --listeners_;
}

std::size_t hub::dispatch(const std::string& payload) {
    const auto first = payload.find('\n');
    const auto second = first == std::string::npos ? first : payload.find('\n', first + 1);
    if (second == std::string::npos) {
        return 0;
    }
    const std::string audience = payload.substr(0, first);
    const auto at = position::parse(std::string_view(payload).substr(first + 1, second - first - 1));
    const std::string_view message = std::string_view(payload).substr(second + 1);
    if (!at || message.size() < 2 || message.front() != '{') {
        return 0;
    }
    std::vector<std::shared_ptr<listener>> targets;
    {
        std::lock_guard lock(mutex_);
        auto it = by_audience_.find(audience);
        if (it == by_audience_.end()) {
            return 0;
        }
        for (const auto& w : it->second) {
            if (auto s = w.lock()) {
                targets.push_back(std::move(s));
            }
        }
    }
    if (targets.empty()) {
        return 0;
    }
    const std::string f = frame(*at, message);
    for (const auto& t : targets) {
        t->deliver(*at, f);
    }
    return targets.size();
}

std::size_t hub::size() const {
    std::lock_guard lock(mutex_);
    return listeners_;
}

bool hub::enter(const std::string& user, std::size_t max) {
    std::lock_guard lock(mutex_);
    auto& n = per_user_[user];
    if (n >= max) {
        if (n == 0) {
            per_user_.erase(user);
        }
        return false;
    }
    ++n;
    return true;
}

void hub::leave(const std::string& user) {
    std::lock_guard lock(mutex_);
    auto it = per_user_.find(user);
    if (it != per_user_.end() && --it->second == 0) {
        per_user_.erase(it);
    }
}

}  // namespace carematch::realtime
