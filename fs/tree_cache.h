// Decoded trees, kept in a least-recently-used cache bounded by an estimate of their heap size,
// so directories visited again (lookups, readdir, opens reloading a chunk list) cost no decoding,
// and memory stays bounded however many trees the repository holds.
//
// Threads: get() may be called from any thread; two threads missing the same tree at the same
// time may both load it (harmless, trees are small next to the work of listing them).
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "store/base/hash.h"
#include "store/format/tree.h"

namespace strata::fs {

using Tree = std::vector<TreeEntry>;
using TreePtr = std::shared_ptr<const Tree>;

// Bytes a decoded tree occupies on the heap, roughly.
std::size_t approximate_size(const Tree& tree);

class TreeCache {
  public:
    // `load` returns a tree by id or throws (a StoreError for the funnel to map).
    using Loader = std::function<Tree(const BlobId&)>;
    TreeCache(Loader load, std::size_t budget_bytes);

    // The tree `id`, from the cache or loaded. The most recent tree is kept even if it alone
    // exceeds the budget, so a huge directory is not decoded once per lookup.
    TreePtr get(const BlobId& id);

    bool contains(const BlobId& id) const;  // cached now (does not count as a use)
    std::size_t bytes() const;
    std::size_t count() const;

  private:
    struct Slot {
        TreePtr tree;
        std::size_t bytes;
        std::list<BlobId>::iterator lru;
    };
    Loader load_;
    const std::size_t budget_;
    mutable std::mutex mu_;
    std::list<BlobId> lru_;  // most recent first
    std::unordered_map<BlobId, Slot, BlobIdHash> slots_;
    std::size_t bytes_ = 0;
};

}  // namespace strata::fs
