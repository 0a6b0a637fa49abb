// history/<path>/: every version a path has had across the snapshots, computed lazily from the
// history of its parent path (so looking up history/a/b/c reads, per distinct tree, one binary
// search per component) and kept in a small cache until the set of snapshots changes.
//
// A path's history holds the snapshots in which it is a directory (the union of their names is
// listed) and its distinct non-directory versions: identical contents (same type, size, chunks,
// symlink target or device number) collapse into one version, named after the first snapshot
// that has it. Metadata-only changes do not make a new version.
//
// Threads: every member may be called from any thread.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fs/node.h"
#include "fs/snapshot_catalog.h"
#include "fs/tree_cache.h"

namespace strata::fs {

struct PathHistory {
    // A snapshot in which the path is a directory.
    struct DirVersion {
        SnapshotCatalog::Info snapshot;
        BlobId tree;  // the directory's tree
        NodeKey key;  // the directory's key in that snapshot
        NodeAttr attr;
    };
    std::vector<DirVersion> dirs;  // oldest first
    // A distinct non-directory content: the entry as the first snapshot that has it stores it,
    // as a node whose parent is left for the caller to set.
    struct Version {
        std::string name;  // the first snapshot's directory name
        Child child;
    };
    std::vector<Version> versions;  // oldest first

    const Version* version(std::string_view name) const;
};

class HistoryIndex {
  public:
    // Keeps up to `max_paths` histories.
    HistoryIndex(TreeCache& trees, std::size_t max_paths);

    // The history of `path` ("" for the snapshot roots, else '/'-separated without a leading
    // '/'), under the snapshots of `catalog`. Throws what loading a tree throws.
    std::shared_ptr<const PathHistory> at(const SnapshotCatalog& catalog, const std::string& path);

    // The names history/<path>/ lists: the union of the names its directory versions hold, then
    // its version names (a version name equal to a child's name is left out: the child wins).
    std::vector<std::string> names(const PathHistory& h);

  private:
    std::shared_ptr<const PathHistory> derive(const PathHistory& parent, const std::string& name);

    TreeCache& trees_;
    const std::size_t max_paths_;
    std::mutex mu_;
    std::uint64_t generation_ = 0;
    std::list<std::string> lru_;  // most recent first
    struct Slot {
        std::shared_ptr<const PathHistory> history;
        std::list<std::string>::iterator lru;
    };
    std::unordered_map<std::string, Slot> slots_;
};

}  // namespace strata::fs
