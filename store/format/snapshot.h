// Snapshot records: small objects under snapshots/<id>, where the id is the SHA-256 of the record's
// bytes. They are the only place a snapshot is defined; the LMDB index keeps a copy for speed.
// Layout: docs/repository-format.md, "Snapshots".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/format/object_names.h"
#include "store/format/tree.h"

namespace strata {

struct SnapshotRecord {
    std::int64_t time_sec = 0;  // UTC, when the ingest started
    std::uint32_t time_nsec = 0;
    std::string host;
    std::vector<std::string> paths;  // absolute source paths as given
    std::vector<std::string> tags;   // sorted, unique
    std::string note;
    std::optional<BlobId> parent;
    BlobId root;  // tree of the snapshot's root directory
    // The root directory's own metadata (mode, owner, times, xattrs); name empty, subtree == root.
    TreeEntry root_meta;
    std::uint64_t files = 0, dirs = 0, bytes = 0;    // totals in the snapshot
    std::uint64_t bytes_added = 0, blobs_added = 0;  // new to the repository (stored size)
    std::uint64_t duration_ns = 0;
    bool partial = false;  // some files could not be read and are missing or incomplete
};

Bytes encode_snapshot(const SnapshotRecord& s);
SnapshotRecord decode_snapshot(ByteView data);

struct Snapshot {
    BlobId id;
    SnapshotRecord rec;
};

}  // namespace strata
