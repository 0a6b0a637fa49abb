// Fetches chunks a sequential reader will want next on worker threads, so that decompression and
// hash checks overlap with the kernel copying out the previous chunk. Requests go into a small
// queue; chunks already cached or being loaded are skipped, and when the workers fall behind new
// requests are dropped rather than queued without bound. Failures are ignored here: the read that
// needs the chunk loads it again and reports the error with the file's path.
//
// Threads: request() may be called from any thread. The workers block every signal.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "fs/chunk_cache.h"

namespace strata::fs {

class ReadAhead {
  public:
    ReadAhead(ChunkCache& cache, unsigned workers);
    ~ReadAhead();  // stops the workers; a chunk being loaded finishes first
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    void request(const std::vector<BlobId>& ids);

  private:
    void work();

    // Enough for a few sequential readers several chunks ahead each.
    static constexpr std::size_t kMaxQueued = 64;
    ChunkCache& cache_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<BlobId> queue_;
    std::unordered_set<BlobId, BlobIdHash> queued_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace strata::fs
