// Verify: checks a repository in passes and reports damage as the snapshots and paths it affects.
//   1. snapshot records: each decodes and matches its name (its id);
//   2. index against packs: every indexed pack exists with its indexed size, and its trailer lists
//      every blob the index locates in it, at the same place;
//   3. trees: every tree of every snapshot loads (hash-checked) and decodes, and every blob a
//      snapshot references is in the index;
//   4. with read_data: the selected packs are read whole, their checksums checked, and every blob
//      in them decompressed and re-hashed. A pack that passes gets its verification time recorded
//      in the index, so subset runs (percent) cover the packs verified longest ago first.
// Verify takes no lock: backups, prunes and mounts run meanwhile. Packs and snapshots that vanish
// while it runs (pruned, forgotten) are skipped, not reported. Design: docs/maintenance.md.
//
// Threads: one thread per call.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/index/index_probe.h"
#include "store/repo/repository.h"

namespace strata {

struct VerifyProgress {
    const char* phase;  // "snapshots", "packs", "trees", "read-data", "report"
    std::uint64_t done = 0, total = 0;
    std::uint64_t bytes = 0;  // read-data: bytes read so far
};

struct VerifyOptions {
    enum class ReadData { None, All, Percent, Slice };
    ReadData read_data = ReadData::None;
    double percent = 0;       // Percent: share of the packs to read, (0, 100]
    std::uint32_t slice = 0;  // Slice: read slice `slice` of `slices` (1-based), split by pack id
    std::uint32_t slices = 0;
    std::int64_t now = 0;  // Unix seconds recorded as verification time; 0: the clock
    std::function<void(const VerifyProgress&)> on_progress;  // at most a few times per second
};

// Parses the value of --read-data-subset: "10%", "2.5%" or "2/7". Throws Usage otherwise.
void parse_read_data_subset(const std::string& text, VerifyOptions& opts);

// One finding that means damage. `kind` is stable (scripts may match it):
//   index-unreadable, snapshot-record, pack-missing, pack-size, pack-trailer, pack-checksum,
//   index-dangling, blob-missing, blob-damaged, blob-mismatch, tree-damaged
struct VerifyProblem {
    std::string kind;
    std::string
        object;  // what is damaged: "packs/ab/ab….pack", "snapshots/…", "blob <id>", "index"
    std::string detail;  // a sentence saying what is wrong
};

struct AffectedSnapshot {
    BlobId id;
    bool record_damaged = false;  // the record itself: the whole snapshot is lost
    Snapshot snapshot;            // when the record is intact
    // Paths inside the snapshot ("/" is its root) whose content cannot be read in full; a
    // directory whose listing is damaged ends in "/". At most kMaxReportedPaths are kept.
    std::vector<std::string> paths;
    std::uint64_t paths_total = 0;
};

// Enough to act on; the rest is counted.
inline constexpr std::size_t kMaxReportedPaths = 1000;

struct VerifyReport {
    std::vector<VerifyProblem> problems;  // empty: no damage found
    std::vector<std::string> notes;       // harmless findings (packs awaiting deletion, …)
    std::vector<AffectedSnapshot> affected;
    std::uint64_t snapshots = 0, trees = 0, packs = 0, blobs = 0;
    std::uint64_t packs_read = 0, bytes_read = 0, blobs_read = 0;
    std::uint64_t packs_vanished = 0;  // removed by a concurrent prune while verify ran
    // False when the index could not be opened: the trees were not walked, so which snapshots
    // the damage reaches is unknown until repair-index has rebuilt it.
    bool affected_known = true;
    bool clean() const { return problems.empty(); }
};

VerifyReport verify(Repository& repo, const VerifyOptions& opts);

// For a repository whose index cannot be opened (missing or damaged; `index_error` says why):
// reports that, and checks what does not need the index: snapshot records, pack trailers, and
// with read_data every pack's checksum and blobs.
VerifyReport verify_without_index(Repository& repo, const std::string& index_error,
                                  const VerifyOptions& opts);

}  // namespace strata
