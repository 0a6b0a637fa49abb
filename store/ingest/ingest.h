// Ingest: walk source trees (with directory file descriptors, so paths of any length work), store
// new content through the BlobWriter, and record one snapshot. Files unchanged since the parent
// snapshot (same size, mtime, ctime and inode) are not read again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/repo/repository.h"

namespace strata {

struct IngestProgress {
    std::uint64_t files = 0, dirs = 0;
    std::uint64_t bytes = 0;           // logical bytes of the files done so far
    std::uint64_t bytes_read = 0;      // of them, read from the source (unchanged files are not)
    std::uint64_t expected_bytes = 0;  // the parent snapshot's total, 0 without a parent
    double elapsed_seconds = 0;
    std::string current;  // path being read
};

struct IngestWarning {
    std::string path;
    std::string reason;
};

struct IngestOptions {
    std::vector<std::string> paths;  // one: it becomes the root; several: side by side by base name
    std::vector<std::string> tags;
    std::string host;  // empty: this machine's host name
    std::string note;
    std::vector<std::string> excludes;
    std::vector<std::string> exclude_files;
    bool one_file_system = false;
    bool exclude_caches = false;  // skip directories holding a valid CACHEDIR.TAG
    bool force_reread = false;
    unsigned threads = 0;  // compression workers; 0: one per core
    double lock_wait_seconds = 0;
    // Called from the ingest thread about every 200 ms, and once at the end.
    std::function<void(const IngestProgress&)> on_progress;
    // Called for every file that could not be read completely (the snapshot is then partial).
    std::function<void(const IngestWarning&)> on_warning;
};

struct IngestResult {
    Snapshot snapshot;
    std::vector<IngestWarning> warnings;
    std::uint64_t bytes_read = 0;  // read from the source: files changed since the parent
};

// Takes the writer lock, ingests, saves the snapshot. Before writing anything, throws NotFound for
// a PATH that does not exist, Io for one that cannot be looked at, Usage for bad options, and
// Locked when another writer holds the repository. One PATH that is a symlink is followed (the
// snapshot records the PATH as given); symlinks below it, and among several PATHs, are stored
// as symlinks.
IngestResult ingest(Repository& repo, const IngestOptions& opts);

}  // namespace strata
