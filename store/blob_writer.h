// The write path of blobs: deduplicate, compress on worker threads, collect into packs, and make
// each full pack durable (object store put) before indexing its blobs in one LMDB transaction.
// A crash therefore leaves only complete, indexed packs plus, at most, files in tmp/.
//
// Threads: put() and flush() are called from one thread (the ingest's); compression and pack
// writing happen on the writer's own worker threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "store/pack.h"
#include "store/repository.h"

namespace strata {

class BlobWriter {
public:
    // `threads` compression workers (at least 1). The caller must hold the writer lock.
    BlobWriter(Repository& repo, unsigned threads);
    ~BlobWriter();  // stops the workers; anything not flushed is discarded (never indexed)

    // Hashes `data` and, if the repository does not have it yet, queues it for storing. Returns
    // its id at once. Blocks while too much data waits for compression (bounded memory).
    BlobId put(Bytes data, format::BlobType type);
    // Waits until every queued blob is in a durable, indexed pack. Rethrows a worker's failure.
    void flush();

    std::uint64_t bytes_added() const { return bytes_added_; }  // stored (compressed) bytes
    std::uint64_t blobs_added() const { return blobs_added_; }

private:
    struct Job {
        BlobId id;
        format::BlobType type;
        Bytes data;
    };
    void worker();
    void write_pack(PackBuilder& builder);  // called with write_mu_ held
    void rethrow_failure();

    Repository& repo_;
    const int level_;
    std::unordered_set<BlobId, BlobIdHash> queued_;  // stored or on the way, this session

    std::mutex mu_;
    std::condition_variable work_cv_, space_cv_, idle_cv_;
    std::deque<Job> jobs_;
    std::size_t queued_bytes_ = 0;
    unsigned busy_ = 0;
    bool stop_ = false;
    std::exception_ptr failure_;

    std::mutex write_mu_;  // guards builder_ and the counters below
    PackBuilder builder_;
    std::uint64_t bytes_added_ = 0, blobs_added_ = 0;
    std::vector<std::thread> workers_;
};

}  // namespace strata
