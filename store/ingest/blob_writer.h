// The write path of blobs: deduplicate, compress on worker threads, stream into packs, and seal
// each full pack (fsync, rename into place) on a sealing thread before indexing its blobs in one
// LMDB transaction. A crash therefore leaves only complete, indexed packs, plus at most some
// files in tmp/ that the next writer removes.
//
// Threads: put() and flush() are called from one thread (the ingest's); compression runs on
// `threads` workers, sealing on one more, so fsync never stalls compression.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "store/format/pack.h"
#include "store/repo/repository.h"

namespace strata {

class BlobWriter {
  public:
    // `threads` compression workers (at least 1). The caller must hold the writer lock.
    BlobWriter(Repository& repo, unsigned threads);
    ~BlobWriter();  // stops the threads; anything not flushed is discarded (never indexed)

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
    void compress_loop();
    void seal_loop();
    void seal_current();  // write_mu_ held: hands the open pack to the sealing thread
    // A blob sealed and waiting for its place in a pack (BlobCodec::placement_shuffle).
    struct Placed {
        BlobId id;
        format::BlobType type;
        format::Codec codec;
        Bytes stored;
        std::uint32_t raw_size;
    };
    void place(Placed blob);     // write_mu_ held: appends it to the open pack
    void place_one_held_back();  // write_mu_ held: places a random one of held_back_
    void fail(std::exception_ptr e);
    void rethrow_failure();

    Repository& repo_;
    const BlobCodec& codec_;
    std::unordered_set<BlobId, BlobIdHash> queued_;  // stored or on the way, this session

    std::mutex mu_;  // guards everything below up to write_mu_
    std::condition_variable work_cv_, space_cv_, idle_cv_, seal_cv_;
    std::deque<Job> jobs_;
    std::size_t queued_bytes_ = 0;
    unsigned busy_ = 0;
    std::deque<std::unique_ptr<PackWriter>> to_seal_;
    bool sealing_ = false;
    bool stop_ = false;
    std::exception_ptr failure_;

    std::mutex write_mu_;  // guards pack_, held_back_ and the counters
    std::unique_ptr<PackWriter> pack_;
    std::vector<Placed> held_back_;
    std::mt19937_64 shuffle_;
    std::uint64_t bytes_added_ = 0, blobs_added_ = 0;

    std::vector<std::thread> workers_;
    std::thread sealer_;
};

}  // namespace strata
