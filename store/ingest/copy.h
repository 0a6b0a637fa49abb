// Copying snapshots from one repository into another (`strata copy`): local to S3 for an offsite
// copy, S3 to local, or between any two. Only the blobs the destination lacks are read and sent;
// the snapshot records arrive unchanged, so a copied snapshot keeps its id, and copying it again
// sends nothing. Between repositories that identify blobs differently (another key, or a plain
// repository into an encrypted one) every blob is read and stored under the id the destination
// gives it, and the trees and records are encoded again: the copy gets another id there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/repo/repository.h"

namespace strata {

struct CopyOptions {
    double lock_wait_seconds = 0;  // for the destination's writer lock
    // Hears each snapshot as it is done (copied or found there already).
    std::function<void(const Snapshot&, bool already_there)> on_snapshot;
};

struct CopiedSnapshot {
    Snapshot snapshot;  // as the destination holds it
    BlobId source_id;   // the snapshot's id in the source (the same, unless it was re-encoded)
    bool already_there = false;
    std::uint64_t blobs_sent = 0, bytes_sent = 0;  // bytes: as stored in the destination
};

// Copies `snapshots` (of `source`) into `destination`, oldest first, taking the destination's
// writer lock. For each one: every tree and data blob it reaches that the destination's index
// lacks is read from the source (hash-checked) and stored in the destination; then the record.
// A copy interrupted at any point leaves the destination consistent (blobs in durable, indexed
// packs; no record before all its blobs), and the next copy sends only what is still missing.
// Between repositories that identify blobs differently, every blob of the snapshot is read (only
// those the destination lacks are sent) and the copy's record, naming the new root and no
// parent, gets an id of the destination's: CopiedSnapshot::snapshot is the copy there.
std::vector<CopiedSnapshot> copy_snapshots(Repository& source, Repository& destination,
                                           const std::vector<Snapshot>& snapshots,
                                           const CopyOptions& options = {});

}  // namespace strata
