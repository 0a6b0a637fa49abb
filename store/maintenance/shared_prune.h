// The rules that let prune run beside other hosts' writers (docs/repository-format.md, "Deletion
// records" and "Repositories in object stores"): packs taken back by keep records, packs a
// snapshot still needs after they were retired, snapshots saved while prune planned, and deletion
// records that live writers have not seen yet. Internal to store/maintenance/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/maintenance/marker.h"
#include "store/repo/repository.h"

namespace strata::pruning {

// Indexes again the retired packs that hold blobs `used` needs and the index lacks, and takes
// them back from their deletion records. Returns how many it took back.
std::size_t rescue_pending_packs(Repository& repo,
                                 const std::unordered_set<BlobId, BlobIdHash>& used);

// Packs a keep record took back that the index lacks (a local repository's index dropped them
// when they were retired) are indexed again from their trailers: they are in use, and a pack
// file the index does not name would otherwise be retired again as a crash's leftover.
void index_kept_packs(Repository& repo);

// True if snapshots/ holds a record that is not among `snaps`.
bool new_snapshot_appeared(Repository& repo, const std::vector<Snapshot>& snaps);

// Object stores: marks the snapshots other hosts saved since `snaps` was read (after bringing the
// cache up to date, so that their packs are known), adds them to `snaps`, and takes every pack
// one of them uses out of `doomed`. False if one of them cannot be marked: then nothing may be
// retired this time.
bool spare_packs_of_new_snapshots(Repository& repo, Marker& marker, std::vector<Snapshot>& snaps,
                                  std::vector<std::uint32_t>& doomed,
                                  std::vector<PackInfo>& doomed_info);

// Object stores: the deletion records some live writer did not know when it took its lock
// (store/repo/writer_marker.h); their packs must wait. Removes the markers of writers that died.
std::unordered_set<std::string> records_held_by_writers(Repository& repo);

// Object stores: writes one index object describing every pack in the cache (every blob the cache
// locates in it, copies included), then removes the
// index objects the cache had read (each pack they name is in the new one, retired, or deleted).
// Index objects other hosts wrote since this cache last read indexes/ stay. Does nothing when the
// cache read exactly one and `changed` is false. Returns how many it removed.
std::size_t merge_index_objects(Repository& repo, bool changed);

}  // namespace strata::pruning
