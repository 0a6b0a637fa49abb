// Decompressed, hash-checked data chunks, kept in a least-recently-used cache bounded in bytes
// (the mount's -o cache_size). A chunk wanted by several threads at once (a reader and the
// read-ahead worker, or parallel readers of one file) is loaded once; the others wait for it.
//
// Threads: every member may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "store/base/bytes.h"
#include "store/base/hash.h"

namespace strata::fs {

using Chunk = std::shared_ptr<const Bytes>;

class ChunkCache {
  public:
    // `load` returns a chunk's bytes (already checked against its id) or throws.
    using Loader = std::function<Bytes(const BlobId&)>;
    ChunkCache(Loader load, std::size_t capacity_bytes);

    // The chunk `id`, from the cache, from a load in progress, or loaded now. A failed load is
    // not remembered: every caller waiting on it gets the exception, the next call tries again.
    Chunk get(const BlobId& id);
    bool contains(const BlobId& id) const;  // cached or being loaded

    struct Stats {
        std::uint64_t hits = 0, misses = 0, joined = 0;  // joined: waited for another's load
        std::size_t bytes = 0, chunks = 0;
    };
    Stats stats() const;
    std::size_t capacity() const { return capacity_; }

  private:
    struct Slot {
        Chunk chunk;
        std::list<BlobId>::iterator lru;
    };
    void insert(const BlobId& id, const Chunk& chunk);  // mu_ held

    Loader load_;
    const std::size_t capacity_;
    mutable std::mutex mu_;
    std::list<BlobId> lru_;  // most recent first
    std::unordered_map<BlobId, Slot, BlobIdHash> slots_;
    std::unordered_map<BlobId, std::shared_future<Chunk>, BlobIdHash> loading_;
    std::size_t bytes_ = 0;
    Stats stats_;
};

}  // namespace strata::fs
