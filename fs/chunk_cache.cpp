#include "fs/chunk_cache.h"

namespace strata::fs {

ChunkCache::ChunkCache(Loader load, std::size_t capacity_bytes)
    : load_(std::move(load)), capacity_(capacity_bytes) {}

Chunk ChunkCache::get(const BlobId& id) {
    std::promise<Chunk> promise;
    {
        std::unique_lock lock(mu_);
        auto it = slots_.find(id);
        if (it != slots_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            stats_.hits++;
            return it->second.chunk;
        }
        auto pending = loading_.find(id);
        if (pending != loading_.end()) {
            std::shared_future<Chunk> f = pending->second;
            stats_.joined++;
            lock.unlock();
            return f.get();
        }
        stats_.misses++;
        loading_.emplace(id, promise.get_future().share());
    }
    Chunk chunk;
    try {
        chunk = std::make_shared<const Bytes>(load_(id));
    } catch (...) {
        {
            std::lock_guard lock(mu_);
            loading_.erase(id);
        }
        promise.set_exception(std::current_exception());
        throw;
    }
    {
        std::lock_guard lock(mu_);
        loading_.erase(id);
        insert(id, chunk);
    }
    promise.set_value(chunk);
    return chunk;
}

void ChunkCache::insert(const BlobId& id, const Chunk& chunk) {
    if (chunk->size() > capacity_ || slots_.count(id)) return;
    lru_.push_front(id);
    slots_[id] = {chunk, lru_.begin()};
    bytes_ += chunk->size();
    while (bytes_ > capacity_) {
        auto victim = slots_.find(lru_.back());
        bytes_ -= victim->second.chunk->size();
        slots_.erase(victim);
        lru_.pop_back();
    }
}

bool ChunkCache::contains(const BlobId& id) const {
    std::lock_guard lock(mu_);
    return slots_.count(id) || loading_.count(id);
}

ChunkCache::Stats ChunkCache::stats() const {
    std::lock_guard lock(mu_);
    Stats s = stats_;
    s.bytes = bytes_;
    s.chunks = slots_.size();
    return s;
}

}  // namespace strata::fs
