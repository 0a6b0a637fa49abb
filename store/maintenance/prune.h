// Prune: give back the space of data no snapshot uses. It plans first (mark every blob the
// snapshots reach, then classify packs: keep, delete, repack), then executes in a crash-safe
// order. Pack files leave the repository only through the pending-deletion list, after a grace
// period, so a mount or reader that looked a blob up just before still finds its pack.
// The design and its reasoning: docs/maintenance.md.
//
// Threads: one thread per call. Takes the writer lock itself, but only after the long mark phase,
// so backups wait only for the planning of what they added meanwhile, the repacking and the
// index update.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/repo/pending_deletion.h"
#include "store/repo/repository.h"

namespace strata {

// How long a pack file stays after prune removed it from the index. Long enough for any read that
// looked up a location before the removal to finish (a mount's read takes milliseconds; a stalled
// restore or a paused process gets the rest), short enough that space comes back the same hour.
inline constexpr std::int64_t kDefaultGraceSeconds = 3600;
// Unused share of the repository tolerated after prune (restic's default too): rewriting packs
// to win back the last few percent costs more I/O than the space is worth.
inline constexpr double kDefaultMaxUnused = 0.05;

struct PruneProgress {
    const char* phase;                  // "mark", "repack", "delete"
    std::uint64_t done = 0, total = 0;  // snapshots (mark) or packs (repack, delete)
    std::uint64_t trees = 0;            // mark: trees read so far
};

struct PrunePlan {
    std::uint64_t snapshots = 0, used_blobs = 0;
    std::uint64_t packs = 0, pack_bytes = 0;           // indexed packs before prune
    std::uint64_t used_bytes = 0, unused_bytes = 0;    // of pack_bytes (trailer entries included)
    std::uint64_t keep_packs = 0, keep_bytes = 0;      // left as they are
    std::uint64_t delete_packs = 0, delete_bytes = 0;  // nothing in them is used
    std::uint64_t repack_packs = 0, repack_bytes = 0;  // partly used, rewritten
    std::uint64_t repack_copy_bytes = 0;               // the used blobs they hold, written anew
    std::uint64_t unused_after = 0;                    // unused bytes left in kept packs
    std::uint64_t unindexed_packs = 0, unindexed_bytes = 0;  // pack files the index does not name
    std::uint64_t pending_packs = 0, pending_bytes = 0;      // from earlier prunes, in grace period
    std::uint64_t expired_packs = 0, expired_bytes = 0;      // of those, deletable now
    bool locked = false;  // planned under the writer lock (false for --dry-run: an estimate)

    // Bytes that leave the repository once the grace period ends.
    std::uint64_t freed_bytes() const {
        return delete_bytes + repack_bytes - repack_copy_bytes + unindexed_bytes;
    }
};

struct PruneOptions {
    double max_unused = kDefaultMaxUnused;  // fraction, 0 to 1 (1: never repack)
    std::int64_t grace_seconds = kDefaultGraceSeconds;
    bool dry_run = false;  // plan only; takes no lock and writes nothing
    double lock_wait_seconds = 0;
    // Called from the pruning thread, at most a few times per second per phase.
    std::function<void(const PruneProgress&)> on_progress;
    // Called once with the plan, before anything is changed.
    std::function<void(const PrunePlan&)> on_plan;
};

struct PruneResult {
    PrunePlan plan;
    std::uint64_t packs_written = 0, bytes_written = 0;  // by repacking
    std::uint64_t packs_deleted = 0, bytes_deleted = 0;  // files removed in this run
    std::uint64_t packs_waiting = 0, bytes_waiting = 0;  // still in their grace period
    std::int64_t next_deletion = 0;  // Unix seconds when the next waiting pack may go; 0: none
    // Object stores: of the waiting packs, those held up by a writer on another host that
    // started before their deletion record was seen (it may still save a snapshot using them).
    std::uint64_t packs_held_by_writers = 0;
    // Object stores: a snapshot was saved on another host while this prune ran and could not be
    // taken into account, so nothing was retired this time (run prune again).
    bool retire_postponed = false;
    // Object stores: the index objects merged into the one this prune wrote (and removed).
    std::uint64_t index_objects_merged = 0;
};

// Plans and (unless dry_run) executes a prune. Throws Locked if the writer lock cannot be had in
// lock_wait_seconds, and Corruption, before changing anything, if a snapshot's trees cannot be
// read or a blob a snapshot uses is missing from the index (run verify, then repair-index).
PruneResult prune(Repository& repo, const PruneOptions& opts);

}  // namespace strata
