// Recovery from a writer killed mid-ingest: what it made durable is adopted, not stored again.
#pragma once

#include <cstddef>

#include "store/repo/repository.h"

namespace strata {

// Indexes every pack file that is neither in the index nor on the pending-deletion list: a writer
// killed after making a pack durable but before indexing it leaves such packs. Their blobs are then
// found and reused instead of being stored again. Needs the writer lock; returns how many packs it
// indexed. A pack whose trailer cannot be read is left alone (verify reports it). Nothing for a
// remote repository: lock_for_writing's refresh of its cache has done this already.
std::size_t adopt_unindexed_packs(Repository& repo);

}  // namespace strata
