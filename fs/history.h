// history/<path>/: every version a path has had across the snapshots, computed lazily from the
// history of its parent path (so looking up history/a/b/c reads, per distinct tree, one binary
// search per component) and kept in a small cache until the set of snapshots changes.
//
// A path's history holds the snapshots in which it is a directory (the union of their names is
// listed) and its distinct non-directory versions: identical contents (same type, size, chunks,
// symlink target or device number) collapse into one version, named after the first snapshot
// that has it. Metadata-only changes do not make a new version.
//
// Each version also carries the directories above it in its own snapshot that not everyone may
// search (fs/access.h), derived along with the history, so that history/ can show a caller only
// what that caller could have reached in the snapshots themselves (fs/layout.h says how).
//
// Threads: every member may be called from any thread.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fs/access.h"
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
        DirPermissions perms;   // the directory's own
        SearchChainPtr above;   // the directories above it in that snapshot
        SearchChainPtr inside;  // `above` and the directory itself: what reaching a child takes

        // Whether `caller` could have listed it in its snapshot (r and x on it, x above it).
        bool listable_by(const Caller& caller) const;
    };
    std::vector<DirVersion> dirs;  // oldest first
    // A distinct non-directory content: the entry as the first snapshot that has it stores it,
    // as a node whose parent is left for the caller to set.
    struct Version {
        std::string name;  // the first snapshot's directory name
        Child child;
        SearchChainPtr above;  // the directories above it in that snapshot
    };
    std::vector<Version> versions;  // oldest first
    // The distinct chains above the path in the snapshots that have it (any type), so whether a
    // caller could have reached the path in at least one snapshot is a short check.
    std::vector<SearchChainPtr> reach;

    const Version* version(std::string_view name) const;
    // Whether `caller` could have looked the path up in at least one snapshot that has it.
    bool reachable_by(const Caller& caller) const;
    // Whether `caller` could have looked up a name in at least one of the directory versions.
    bool searchable_by(const Caller& caller) const;
};

class HistoryIndex {
  public:
    // Keeps up to `max_paths` histories.
    HistoryIndex(TreeCache& trees, std::size_t max_paths);

    // The history of `path` ("" for the snapshot roots, else '/'-separated without a leading
    // '/'), under the snapshots of `catalog`. Throws what loading a tree throws.
    std::shared_ptr<const PathHistory> at(const SnapshotCatalog& catalog, const std::string& path);

    // The names history/<path>/ lists to `caller`: the union of the names held by the directory
    // versions it could have listed, then the names of the versions it could have reached (a
    // version name equal to a listed child's name is left out: the child wins).
    std::vector<std::string> names(const PathHistory& h, const Caller& caller = Caller::root());

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
