#include "fs/file_content_cache.h"

namespace strata::fs {

FileContentCache::FileContentCache(std::size_t budget_bytes) : budget_(budget_bytes) {}

std::shared_ptr<ReadingFile> FileContentCache::get(const NodeKey& key,
                                                   const std::function<FileContent()>& make) {
    {
        std::lock_guard lock(mu_);
        auto it = slots_.find(key);
        if (it != slots_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.file;
        }
    }
    auto file = std::make_shared<ReadingFile>(make());
    const std::size_t bytes =
        sizeof(ReadingFile) + file->content.chunks().size() * sizeof(ChunkRef);
    std::lock_guard lock(mu_);
    auto it = slots_.find(key);
    if (it != slots_.end()) return it->second.file;  // another reader made it meanwhile
    lru_.push_front(key);
    slots_[key] = {file, bytes, lru_.begin()};
    bytes_ += bytes;
    while (bytes_ > budget_ && lru_.size() > 1) {
        auto victim = slots_.find(lru_.back());
        bytes_ -= victim->second.bytes;
        slots_.erase(victim);
        lru_.pop_back();
    }
    return file;
}

std::size_t FileContentCache::count() const {
    std::lock_guard lock(mu_);
    return slots_.size();
}

}  // namespace strata::fs
