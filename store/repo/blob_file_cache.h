// Blobs of a remote repository kept on this host, one file each (<dir>/<hh>/<64 hex>): the trees
// (<cache>/<repository id>/trees/, unbounded: browsing, restoring and the next ingest's comparison
// with its parent do not fetch every directory over the network again) and, for the mount, data
// chunks (<cache>/<repository id>/chunks/, bounded in bytes: the second read of a file is local).
// Holds each blob's stored bytes exactly as its pack does (sealed by the repository's codec):
// reading one back goes through the codec like bytes from the pack, so a damaged or stale file is
// detected, dropped and fetched again. Only a cache: any file may go at any time.
//
// A bounded cache learns what its folder holds at its first use (one pass over it) and then
// drops the least recently used files to stay within its bound; a hit touches the file's mtime,
// so the order survives a restart. Several processes may share a folder: each keeps its own
// account, so together they may hold up to their bounds added, and a file one drops is a miss
// for the others.
//
// Threads: any member from any thread.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/base/bytes.h"
#include "store/base/hash.h"

namespace strata {

class BlobFileCache {
  public:
    // `capacity_bytes` 0: unbounded.
    explicit BlobFileCache(std::string dir, std::uint64_t capacity_bytes = 0)
        : dir_(std::move(dir)), capacity_(capacity_bytes) {}
    // The stored bytes of blob `id`, if this host has them.
    std::optional<Bytes> get(const BlobId& id);
    // Keeps `stored` for `id` (written whole under a temporary name, then renamed). Best effort:
    // a full disk or a read-only cache loses the copy, nothing else. A blob larger than the bound
    // is not kept.
    void put(const BlobId& id, ByteView stored) noexcept;
    void drop(const BlobId& id) noexcept;

    // Bounded caches: the bytes this process counts in the folder (after the first use).
    std::uint64_t bytes() const;
    std::uint64_t capacity() const { return capacity_; }
    const std::string& dir() const { return dir_; }

  private:
    struct Entry {
        std::uint64_t size = 0;
        std::list<BlobId>::iterator lru;
    };
    std::string path_of(const BlobId& id) const;
    void scan();                    // once, before the first use of a bounded cache
    void forget(const BlobId& id);  // mu_ held
    void add(const BlobId& id, std::uint64_t size);  // mu_ held; drops the oldest past the bound
    // mu_ held: removes the least recently used blobs, files and entries, while more than the
    // bound is kept and more than `keep` blobs are.
    void evict_past_bound(std::size_t keep);

    const std::string dir_;
    const std::uint64_t capacity_;
    std::once_flag scanned_;
    mutable std::mutex mu_;
    std::list<BlobId> lru_;  // most recently used first
    std::unordered_map<BlobId, Entry, BlobIdHash> entries_;
    std::uint64_t bytes_ = 0;
};

}  // namespace strata
