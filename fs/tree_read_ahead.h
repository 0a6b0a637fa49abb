// Loads the trees of the subdirectories of a directory being listed into the tree cache on
// worker threads, before a walk (find, du, cp -a, rsync) descends into them: the disk reads of
// many directories then overlap instead of each waiting for the walker's next request. Requests
// go into a small queue; trees already cached are skipped, and when the workers fall behind new
// requests are dropped. Failures are ignored here: the listing that needs the tree loads it again
// and reports the error with the directory's path.
//
// Threads: request() may be called from any thread. The workers block every signal.
#pragma once

#include "fs/blob_prefetch.h"
#include "fs/tree_cache.h"

namespace strata::fs {

// Subdirectory trees fetched per listing: a walk descends into them soon; a directory with
// thousands of subdirectories gets its first ones ahead, the rest as the walk gets there.
inline constexpr std::size_t kTreesAheadPerListing = 64;

class TreeReadAhead {
  public:
    TreeReadAhead(TreeCache& cache, unsigned workers) : prefetch_(cache, workers, kMaxQueued) {}

    // Queues the subtrees of the directories among `listing` (at most kTreesAheadPerListing).
    void request(const Tree& listing) {
        prefetch_.offer(
            listing,
            [](const TreeEntry& e) { return e.type == EntryType::Dir ? &e.subtree : nullptr; },
            kTreesAheadPerListing);
    }

  private:
    // Enough for the subdirectories of a few listings ahead of a walk.
    static constexpr std::size_t kMaxQueued = 256;
    BlobPrefetch<TreeCache> prefetch_;
};

}  // namespace strata::fs
