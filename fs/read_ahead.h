// Fetches chunks a sequential reader will want next on worker threads, so that decompression and
// hash checks overlap with the kernel copying out the previous chunk. Requests go into a small
// queue; chunks already cached or being loaded are skipped, and when the workers fall behind new
// requests are dropped rather than queued without bound. Failures are ignored here: the read that
// needs the chunk loads it again and reports the error with the file's path.
//
// Threads: request() may be called from any thread. The workers block every signal.
#pragma once

#include <vector>

#include "fs/blob_prefetch.h"
#include "fs/chunk_cache.h"

namespace strata::fs {

class ReadAhead {
  public:
    ReadAhead(ChunkCache& cache, unsigned workers) : prefetch_(cache, workers, kMaxQueued) {}

    void request(const std::vector<BlobId>& ids) {
        prefetch_.offer(
            ids, [](const BlobId& id) { return &id; }, kMaxQueued);
    }

  private:
    // Enough for a few sequential readers several chunks ahead each.
    static constexpr std::size_t kMaxQueued = 64;
    BlobPrefetch<ChunkCache> prefetch_;
};

}  // namespace strata::fs
