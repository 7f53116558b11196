// The dependencies matching's handlers and passes share: the runtime's, its config, the catalog, the streets
// it serves and its counters.
#pragma once

#include <carematch/matching/app.hpp>
#include <carematch/runtime/deps.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace carematch::matching {

struct catalog_entry {
    std::string kind;
    std::string sub_type;
    int duration_min = 60;
    std::vector<std::string> credentials;
};

/// Order → offer latency, in seconds, as a cumulative histogram.
struct latency_histogram {
    static constexpr std::array<double, 10> bounds{0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60};
    void observe(double seconds);
    std::mutex mutex;
    std::array<std::uint64_t, bounds.size()> counts{};  // not cumulative
    std::uint64_t count = 0;
    double sum = 0;
};

struct counters {
    std::atomic<std::uint64_t> offers{0};
    std::atomic<std::uint64_t> accepts{0};
    std::atomic<std::uint64_t> declines{0};
    std::atomic<std::uint64_t> expiries{0};
    std::atomic<std::uint64_t> deadline_expiries{0};
    std::atomic<std::uint64_t> unassigned_with_free_worker{0};
    std::atomic<std::uint64_t> refused_by_fence{0};
    std::atomic<std::uint64_t> ticks{0};
    std::atomic<double> last_solve_ms{0};
};

struct context : runtime::deps {
    context(boost::asio::io_context& io, config c, const core::clock& clk);

    config cfg;
    std::vector<catalog_entry> catalog;
    std::vector<std::int64_t> streets;
    std::string owner;  // this process in the leases: host, pid and a random part
    counters count;
    latency_histogram to_offer;

    /// The streets this process owns (street, fencing token), as of its last lease pass.
    std::vector<std::pair<std::int64_t, std::int64_t>> owned_streets() const {
        std::lock_guard lock(owned_mutex);
        return owned;
    }
    void set_owned(std::vector<std::pair<std::int64_t, std::int64_t>> now) {
        std::lock_guard lock(owned_mutex);
        owned = std::move(now);
    }
    /// Marks `street` as being solved; false when it still is (from an earlier slot).
    bool begin_solving(std::int64_t street) {
        std::lock_guard lock(owned_mutex);
        return solving.insert(street).second;
    }
    void end_solving(std::int64_t street) {
        std::lock_guard lock(owned_mutex);
        solving.erase(street);
    }
    mutable std::mutex owned_mutex;
    std::set<std::int64_t> solving;
    std::vector<std::pair<std::int64_t, std::int64_t>> owned;

    const catalog_entry* find(const std::string& kind, const std::string& sub_type) const;
    std::chrono::seconds offer_expiry(const std::string& kind) const;
    std::chrono::minutes asap_deadline(const std::string& kind) const;
    static std::string events_stream(std::int64_t street) {
        return "carematch:{region:" + std::to_string(street) + "}:matching";
    }
};

}  // namespace carematch::matching
