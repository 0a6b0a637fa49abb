// The index of a remote repository is this host's cache of what the object store holds
// (docs/repository-format.md, "Remote repositories"): built from the packs' trailers and the
// snapshot records when absent or damaged, and brought up to date at every open by one listing of
// packs/ and one of snapshots/, reading only what is new.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "store/backend/object_store.h"
#include "store/format/blob_codec.h"
#include "store/index/index.h"
#include "store/repo/storage.h"

namespace strata {

// What a refresh names as its purpose when it holds the cache's lock (a writer finding it waits:
// refreshes are short).
inline constexpr const char* kRefreshPurpose = "refresh the index cache";

struct CacheRefresh {
    bool rebuilt = false;  // the cache was absent or damaged and was built anew
    std::size_t packs_added = 0, packs_removed = 0;
    // Index objects read, and new packs whose own trailer was read (no index object listed them).
    std::size_t index_objects_read = 0, packs_from_trailers = 0;
    std::size_t snapshots_added = 0, snapshots_removed = 0;
    // New snapshots whose record came from an index object rather than from snapshots/.
    std::size_t snapshots_from_index_objects = 0;
    std::vector<std::string> problems;  // packs or records that could not be read (skipped)
    // The deletion records whose packs were left out (store/repo/pending_deletion.h), and how
    // many packs they retire.
    std::vector<std::string> deletion_records;
    std::size_t packs_retired = 0;
};

// Makes `index` hold what `objects` holds: every pack listed in packs/ (but not retired by a
// deletion record) with the blobs its trailer lists, and every snapshot record in
// snapshots/; packs and snapshots no longer listed are dropped. Reads only what the index does
// not know yet: the index objects it has not read (when some pack is new), then the trailers of
// new packs that no index object describes, and the new records that no index object carried.
// Objects are opened with `codec` (the repository's).
CacheRefresh sync_index_with_objects(BlobIndex& index, ObjectStore& objects,
                                     const BlobCodec& codec);

// Brings the cache of `storage` (index_is_cache) up to date under its lock; a missing or damaged
// cache is built anew. On return the cache has been read back whole (probe_index) or was just
// built, so the caller need not probe it again. When another process of this host holds the lock
// (an ingest), waits for it only if there is no usable cache yet (at most `wait_seconds`), else
// leaves the cache as it is: that process keeps it up to date. Throws Locked when the wait ends
// without a usable cache.
CacheRefresh refresh_index_cache(RepositoryStorage& storage, const BlobCodec& codec,
                                 double wait_seconds = 300);

}  // namespace strata
