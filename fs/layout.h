// The mounted tree, without the kernel: which names each directory holds, what node each name
// is, its attributes, and how long the kernel may trust them. fs/fuse_ops.cpp maps FUSE requests
// onto this class one to one; tests drive it directly (tests/fs/layout_test.cpp).
//
//   snapshots/<UTC time>/     one directory per snapshot ("-<short id>" added on a clash)
//   snapshots/latest          symlink to the newest
//   ids/<short id>            symlinks into snapshots/ (lookup also takes any unique prefix)
//   hosts/<host>/<time>       symlinks into snapshots/
//   tags/<tag>/<time>         symlinks into snapshots/
//   at/<time>                 lookup only: symlink to the newest snapshot at or before <time>
//   history/<path>/           every version of <path> (fs/history.h)
//
// The repository is read only through RepositoryReader; trees on demand through a bounded cache.
// Errors: repository failures propagate as StoreError; FsError carries an errno for requests
// that make no sense for a node (reading a directory, listing a file).
//
// Threads: every member may be called from any thread.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fs/file_content.h"
#include "fs/history.h"
#include "fs/inode_table.h"
#include "fs/node.h"
#include "fs/snapshot_catalog.h"
#include "fs/tree_cache.h"
#include "store/repo/reader.h"

namespace strata::fs {

// A request that cannot be answered for this node, with the errno to answer.
struct FsError : std::runtime_error {
    FsError(int err, const std::string& what) : std::runtime_error(what), error(err) {}
    int error;
};

// Snapshots never change: the kernel may trust what it learns about their content this long
// (a day is as good as forever, and keeps far from any overflow in the kernel's arithmetic).
inline constexpr double kContentTimeout = 86400;
// Names that come and go as snapshots are added and forgotten (snapshots/*, ids/*, at/*) are
// trusted this long, so changes show within about a second of being polled.
inline constexpr double kLiveTimeout = 1;
// Names under history/ are not trusted at all: which of them a user may reach depends on the user
// (find_child), and the kernel shares a name it has looked up between all users. With no entry
// timeout every path walk through history/ looks each name up again, as the walking user.
inline constexpr double kPerCallerTimeout = 0;
// Decoded trees kept in memory: about 50k directory entries, enough for the directories a walk
// is in and their neighbours, and small beside the chunk cache.
inline constexpr std::size_t kDefaultTreeCacheBytes = 16u << 20;
// Path histories kept: each holds one item per snapshot that has the path.
inline constexpr std::size_t kHistoryPaths = 512;

struct LayoutOptions {
    std::uint32_t owner_uid = 0, owner_gid = 0;  // owner of the mount's own directories and links
    std::size_t tree_cache_bytes = kDefaultTreeCacheBytes;
};

// Loads a data chunk through `repo`. A blob the trees name but the repository cannot find is
// damage (thrown as Corruption, answered EIO), never "no such file".
Bytes load_chunk(RepositoryReader& repo, const BlobId& id);

class MountLayout {
  public:
    MountLayout(RepositoryReader& repo, LayoutOptions options);

    // Reads the snapshot list again if the repository's snapshot generation changed since the
    // last call (or construction). Returns whether it did. Cheap when nothing changed.
    bool refresh();
    std::shared_ptr<const SnapshotCatalog> catalog() const;

    NodePtr root() const { return root_; }
    // The node the kernel knows as `ino`; throws FsError(ESTALE) for a number it should not have.
    NodePtr node(std::uint64_t ino) const;

    // The child `name` of directory `dir`, not yet remembered; nothing if there is none, or if
    // `caller` could not have reached it (below). Throws FsError(ENOTDIR) if `dir` is no
    // directory, FsError(EACCES) if `caller` could have looked up no name at all in it.
    //
    // The caller matters under history/ only: everywhere else the kernel checks the stored
    // owners, modes and ACLs of every directory on the path itself (default_permissions). Under
    // history/ the directories on the path are unions, so a caller finds a path or a version
    // only if it could have searched every directory above it in at least one snapshot that has
    // it (a version: in its own snapshot), and is listed (list) a directory version's names
    // only if it could have listed that directory there (fs/access.h). The kernel still checks
    // the version's own mode and ACLs.
    std::optional<Child> find_child(const NodePtr& dir, std::string_view name,
                                    const Caller& caller = Caller::root());
    // Installs a child's node found by find_child or child_at (or finds its live twin) with
    // `lookups` lookups for the kernel to forget later.
    NodePtr remember(Node child, std::uint64_t lookups = 1) {
        return inodes_.remember(std::move(child), lookups);
    }
    void forget(std::uint64_t ino, std::uint64_t lookups) { inodes_.forget(ino, lookups); }
    std::uint64_t number_of(const Node& n) const;

    // A directory's entries as of opendir, for readdir to page through.
    struct Listing {
        std::shared_ptr<const SnapshotCatalog> catalog;
        TreePtr tree;  // stored directories: the tree's entries
        BlobId tree_id;
        std::vector<std::string> names;  // the mount's own directories
        std::size_t size() const { return tree ? tree->size() : names.size(); }
    };
    // Under history/ only the names `caller` may see (find_child); FsError(EACCES) if it could
    // have listed no version of the directory and sees no version of the path.
    Listing list(const NodePtr& dir, const Caller& caller = Caller::root());
    // Entry `i` of `listing` (of `dir`), which list() has filtered for its caller already;
    // nothing if it vanished since the listing was made.
    std::optional<Child> child_at(const NodePtr& dir, const Listing& listing, std::size_t i);

    // A node's attributes now (stored entries: read again from their tree, through the cache).
    NodeAttr attributes(const Node& node);
    // How long the kernel may trust a name in `dir` (found or not), and a node's attributes.
    double entry_timeout(const Node& dir) const;
    double attr_timeout(const Node& node) const;
    static struct stat stat_of(const Node& node, const NodeAttr& attr);

    // The content of a regular file. Throws FsError(EISDIR/EINVAL) for anything else.
    FileContent content(const Node& node);
    // A symlink's target. Throws FsError(EINVAL) for anything else.
    std::string link_target(const Node& node);
    // A node's extended attributes, sorted by name (none for the mount's own nodes).
    std::vector<Xattr> xattrs(const Node& node);

    // The node's path in the mount ("snapshots/2026-11-21T10:00:00Z/etc/hosts"), for messages.
    static std::string path_of(const Node& node);

    // What df reports: the repository's stored size as used and the free space of the file
    // system holding it as available; the newest snapshot's files and directories as inodes in
    // use, that file system's free inodes as free. Recomputed at most every kSpaceRefresh.
    struct Space {
        std::uint64_t used_bytes = 0, free_bytes = 0, used_files = 0, free_files = 0;
    };
    Space space();

    const InodeTable& inodes() const { return inodes_; }
    TreeCache& trees() { return trees_; }

  private:
    std::optional<Child> find_child(const NodePtr& dir, std::string_view name,
                                    const std::shared_ptr<const SnapshotCatalog>& catalog,
                                    const Caller& caller);
    Child virtual_dir(NodeKind kind, const NodePtr& parent, std::string name,
                      const SnapshotCatalog& catalog) const;
    Child link(const NodePtr& parent, std::string name, std::shared_ptr<const SnapshotInfo> target,
               const std::string& prefix);
    std::optional<Child> history_child(const NodePtr& dir, std::string_view name,
                                       const SnapshotCatalog& catalog, const Caller& caller);
    NodeAttr history_attr(const PathHistory& h) const;
    NodeAttr own_dir_attr(const SnapshotCatalog& catalog) const;
    // The stored entry behind an Entry node, sharing ownership of its cached tree (no copy).
    std::shared_ptr<const TreeEntry> stored_entry(const Node& node);
    BlobId subtree_of(const Node& dir);

    RepositoryReader& repo_;
    const LayoutOptions options_;
    const std::int64_t mounted_at_;
    TreeCache trees_;
    HistoryIndex history_;
    InodeTable inodes_;
    NodePtr root_;
    mutable std::mutex mu_;  // guards catalog_
    std::shared_ptr<const SnapshotCatalog> catalog_;
    std::mutex space_mu_;  // guards the two below
    std::optional<std::chrono::steady_clock::time_point> space_at_;
    Space space_;
};

}  // namespace strata::fs
