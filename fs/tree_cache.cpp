#include "fs/tree_cache.h"

namespace strata::fs {

std::size_t approximate_size(const Tree& tree) {
    std::size_t n = sizeof(Tree) + tree.capacity() * sizeof(TreeEntry);
    auto heap = [](const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; };
    for (const auto& e : tree) {
        n += heap(e.name) + heap(e.user) + heap(e.group) + heap(e.target);
        n += e.chunks.capacity() * sizeof(ChunkRef) + e.xattrs.capacity() * sizeof(Xattr);
        for (const auto& x : e.xattrs) n += heap(x.name) + heap(x.value);
    }
    return n;
}

TreeCache::TreeCache(Loader load, std::size_t budget_bytes)
    : load_(std::move(load)), budget_(budget_bytes) {}

TreePtr TreeCache::get(const BlobId& id) {
    {
        std::lock_guard lock(mu_);
        auto it = slots_.find(id);
        if (it != slots_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.tree;
        }
    }
    auto tree = std::make_shared<const Tree>(load_(id));
    const std::size_t size = approximate_size(*tree);
    std::lock_guard lock(mu_);
    auto it = slots_.find(id);
    if (it != slots_.end()) return it->second.tree;  // another thread loaded it meanwhile
    lru_.push_front(id);
    slots_[id] = {tree, size, lru_.begin()};
    bytes_ += size;
    while (bytes_ > budget_ && lru_.size() > 1) {
        auto victim = slots_.find(lru_.back());
        bytes_ -= victim->second.bytes;
        slots_.erase(victim);
        lru_.pop_back();
    }
    return tree;
}

bool TreeCache::contains(const BlobId& id) const {
    std::lock_guard lock(mu_);
    return slots_.count(id) != 0;
}

std::size_t TreeCache::bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
}

std::size_t TreeCache::count() const {
    std::lock_guard lock(mu_);
    return slots_.size();
}

}  // namespace strata::fs
