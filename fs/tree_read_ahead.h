// Loads the trees of the subdirectories of a directory being listed into the tree cache on
// worker threads, before a walk (find, du, cp -a, rsync) descends into them: the disk reads of
// many directories then overlap instead of each waiting for the walker's next request. Requests
// go into a small queue; trees already cached are skipped, and when the workers fall behind new
// requests are dropped. Failures are ignored here: the listing that needs the tree loads it again
// and reports the error with the directory's path.
//
// Threads: request() may be called from any thread. The workers block every signal.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "fs/tree_cache.h"

namespace strata::fs {

// Subdirectory trees fetched per listing: a walk descends into them soon; a directory with
// thousands of subdirectories gets its first ones ahead, the rest as the walk gets there.
inline constexpr std::size_t kTreesAheadPerListing = 64;

class TreeReadAhead {
  public:
    TreeReadAhead(TreeCache& cache, unsigned workers);
    ~TreeReadAhead();  // stops the workers; a tree being loaded finishes first
    TreeReadAhead(const TreeReadAhead&) = delete;
    TreeReadAhead& operator=(const TreeReadAhead&) = delete;

    // Queues the subtrees of the directories among `listing` (at most kTreesAheadPerListing).
    void request(const Tree& listing);

  private:
    void work();

    // Enough for the subdirectories of a few listings ahead of a walk.
    static constexpr std::size_t kMaxQueued = 256;
    TreeCache& cache_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<BlobId> queue_;
    std::unordered_set<BlobId, BlobIdHash> queued_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace strata::fs
