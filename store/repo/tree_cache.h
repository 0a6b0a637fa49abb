// Trees of a remote repository kept on this host (<cache>/<repository id>/trees/), so browsing,
// restoring and the next ingest's comparison with its parent do not fetch every directory over
// the network again. Holds each tree's stored bytes exactly as its pack does (sealed by the
// repository's codec): reading one back goes through the codec like bytes from the pack, so a
// damaged or stale file is detected, dropped and fetched again. Only a cache: any file may go.
//
// Threads: any member from any thread.
#pragma once

#include <optional>
#include <string>

#include "store/base/bytes.h"
#include "store/base/hash.h"

namespace strata {

class TreeCache {
  public:
    explicit TreeCache(std::string dir) : dir_(std::move(dir)) {}
    // The stored bytes of tree `id`, if this host has them.
    std::optional<Bytes> get(const BlobId& id) const;
    // Keeps `stored` for `id` (written whole under a temporary name, then renamed). Best effort:
    // a full disk or a read-only cache loses the copy, nothing else.
    void put(const BlobId& id, ByteView stored) const noexcept;
    void drop(const BlobId& id) const noexcept;

  private:
    std::string path_of(const BlobId& id) const;
    std::string dir_;
};

}  // namespace strata
