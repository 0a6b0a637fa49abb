// Prune's mark phase: every blob id the snapshots reach, and the progress it reports on the way.
// Internal to store/maintenance/.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_set>

#include "store/maintenance/prune.h"
#include "store/repo/repository.h"

namespace strata::pruning {

constexpr auto kProgressInterval = std::chrono::milliseconds(250);

// True at most once per kProgressInterval: progress callbacks are throttled by it.
class Throttle {
  public:
    bool due() {
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < kProgressInterval) return false;
        last_ = now;
        return true;
    }

  private:
    std::chrono::steady_clock::time_point last_{};
};

// Collects every blob id the snapshots reach. A tree already in the set is not read again, so
// snapshots sharing most of their trees cost little more than one.
class Marker {
  public:
    Marker(Repository& repo, const PruneOptions& opts) : repo_(repo), opts_(opts) {}

    // Adds what snapshot `s` reaches to `used`. A tree that cannot be read throws StoreError,
    // naming the snapshot.
    void mark(const Snapshot& s);
    void report();

    std::unordered_set<BlobId, BlobIdHash> used;
    std::uint64_t done = 0, total = 0, trees = 0;

  private:
    Repository& repo_;
    const PruneOptions& opts_;
    Throttle throttle_;
};

}  // namespace strata::pruning
