// The pending-deletion list: pack files prune removed from the index, each with the time it did,
// deleted once their grace period is over (docs/maintenance.md, "The pending-deletion list").
#pragma once

#include <cstdint>
#include <vector>

#include "store/backend/object_store.h"
#include "store/base/hash.h"

namespace strata {

// A pack file removed from the index and waiting for its grace period to end.
struct PendingDeletion {
    BlobId pack;
    std::int64_t since = 0;  // Unix seconds when prune removed it from the index
};

// The pending-deletion list (format::kPendingDeletionFile), a small text object:
//   "strata pending-deletion 1\n", then one "<pack id, 64 hex> <since, Unix seconds>\n" per pack.
// Loading an absent list gives an empty one; a malformed list throws Corruption.
std::vector<PendingDeletion> load_pending_deletions(ObjectStore& objects);
// Replaces the list atomically and durably.
void save_pending_deletions(ObjectStore& objects, const std::vector<PendingDeletion>& list);

// Whether an entry of the pending-deletion list is past `grace_seconds` at `now` (Unix seconds):
// a prune run now would finish deleting it (or, if a killed prune left it indexed, retire it
// again). Reads the list without the writer lock; a malformed list throws Corruption.
bool pending_deletions_due(ObjectStore& objects, std::int64_t grace_seconds, std::int64_t now);

}  // namespace strata
