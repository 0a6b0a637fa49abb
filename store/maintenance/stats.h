// Stats: how big the repository is, logically and on disk, how much deduplication and compression
// save, and per snapshot the bytes only it holds (what forgetting it, then pruning, would free).
// Reads only; takes no lock.
//
// Threads: one thread per call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "store/repo/repository.h"

namespace strata {

struct SnapshotStats {
    Snapshot snapshot;
    std::uint64_t logical_bytes = 0;  // the snapshot's file bytes as recorded at ingest
    std::uint64_t files = 0;
    // Blobs no other snapshot references: forgetting this snapshot and pruning frees about this.
    std::uint64_t exclusive_blobs = 0, exclusive_raw_bytes = 0, exclusive_stored_bytes = 0;
    // Every distinct blob the snapshot references (only computed for StatsOptions::only).
    std::uint64_t blobs = 0, raw_bytes = 0, stored_bytes = 0;
};

struct RepositoryStats {
    std::uint64_t snapshots = 0, files = 0;
    std::uint64_t logical_bytes = 0;  // sum over snapshots: what restoring every one would write
    // Distinct blobs the snapshots reference, after deduplication.
    std::uint64_t blobs = 0, raw_bytes = 0, stored_bytes = 0;
    std::uint64_t data_raw_bytes = 0;         // of raw_bytes, file content (the rest is trees)
    std::uint64_t packs = 0, pack_bytes = 0;  // on disk, as indexed
    std::uint64_t unreferenced_blobs = 0, unreferenced_stored_bytes = 0;  // prune reclaims these
    std::uint64_t missing_blobs = 0;          // referenced but not indexed (verify tells more)
    std::vector<SnapshotStats> per_snapshot;  // oldest first

    // Logical bytes per byte of distinct file content (1 = nothing deduplicated).
    double dedup_ratio() const {
        return data_raw_bytes
                   ? static_cast<double>(logical_bytes) / static_cast<double>(data_raw_bytes)
                   : 1;
    }
    // Distinct bytes before compression per byte stored (1 = nothing compressed).
    double compression_ratio() const {
        return stored_bytes ? static_cast<double>(raw_bytes) / static_cast<double>(stored_bytes)
                            : 1;
    }
};

struct StatsProgress {
    std::uint64_t snapshots_done = 0, snapshots_total = 0, trees = 0;
};

struct StatsOptions {
    // When set, per_snapshot holds only this snapshot, with its referenced sizes computed too
    // (exclusivity still considers every snapshot).
    std::optional<BlobId> only;
    std::function<void(const StatsProgress&)> on_progress;  // at most a few times per second
};

// Throws Corruption if a snapshot's tree cannot be read (run verify).
RepositoryStats compute_stats(Repository& repo, const StatsOptions& opts);

}  // namespace strata
