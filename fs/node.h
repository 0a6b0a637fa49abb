// The nodes of the mounted tree, as the kernel-free layout (fs/layout.h) hands them out: what a
// node is (its kind and the key that names it), its attributes, and just enough to find its
// content again in the repository. Nodes are immutable once created and shared by pointer, so a
// FUSE worker may keep using one while another thread forgets it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/base/hash.h"
#include "store/format/snapshot.h"
#include "store/format/tree.h"

namespace strata::fs {

// 128 bits naming a node for good: the first 64 (less the top bit) are its preferred inode
// number, the rest tell two identities apart when those collide (fs/inode_table.h).
struct NodeKey {
    std::uint64_t number = 0;
    std::uint64_t check = 0;

    bool operator==(const NodeKey&) const = default;
};

struct NodeKeyHash {
    std::size_t operator()(const NodeKey& k) const noexcept { return k.number ^ (k.check * 31); }
};

// A snapshot as the mount shows it: its record and its directory name under snapshots/.
struct SnapshotInfo {
    Snapshot snapshot;
    std::string name;      // "2026-11-21T10:00:00Z", or with "-<short id>" on a clash
    std::string short_id;  // the shortest unique id prefix of at least 8 hex digits
};

enum class NodeKind : std::uint8_t {
    Root,
    SnapshotsDir,  // snapshots/
    IdsDir,        // ids/
    HostsDir,      // hosts/
    HostDir,       // hosts/<host>/
    TagsDir,       // tags/
    TagDir,        // tags/<tag>/
    AtDir,         // at/ (lookup only)
    HistoryDir,    // history/ and every history/<path>/
    Link,          // a symlink made by the mount: latest, ids/*, hosts/*/*, tags/*/*, at/*
    Entry,         // something stored in a snapshot (its root directory included)
};

// Attributes in the units of struct stat.
struct NodeAttr {
    std::uint32_t mode = 0;  // file type bits and permission bits
    std::uint32_t uid = 0, gid = 0;
    std::uint32_t nlink = 1;
    std::uint64_t size = 0;
    std::uint64_t blocks = 0;  // 512-byte units actually stored (holes excluded)
    std::uint64_t rdev = 0;
    std::int64_t mtime_sec = 0, ctime_sec = 0;
    std::uint32_t mtime_nsec = 0, ctime_nsec = 0;
};

// A node as the inode table keeps it while the kernel knows it: small (about 150 bytes), because
// the kernel may hold hundreds of thousands. What a stored entry looks like (attributes, xattrs,
// symlink target, chunks) is fetched again from its tree, through the tree cache, when asked.
struct Node {
    std::uint64_t ino = 0;  // set by the inode table
    NodeKey key;
    NodeKind kind = NodeKind::Root;
    std::uint32_t mode = 0;   // file type and permission bits
    std::uint32_t index = 0;  // Entry: its position in `tree`
    // The directory it was first reached from (for the path shown in logs); null for the root.
    std::shared_ptr<const Node> parent;
    std::string name;  // its name in that directory
    // Entry: its snapshot; Link: the snapshot it points to.
    std::shared_ptr<const SnapshotInfo> snapshot;
    BlobId tree;  // Entry: the tree listing it; zero for a snapshot's root directory
    // Link: its target. HistoryDir: its path inside the snapshots ("" for history/ itself).
    std::shared_ptr<const std::string> text;

    bool is_dir() const { return (mode & 0170000) == 0040000; }
    bool is_regular() const { return (mode & 0170000) == 0100000; }
    bool is_symlink() const { return (mode & 0170000) == 0120000; }
    bool is_snapshot_root() const { return kind == NodeKind::Entry && tree.is_zero(); }
};

// A node found by a lookup or a listing, with its attributes (the reply needs them, and they
// are at hand then).
struct Child {
    Node node;
    NodeAttr attr;
};

using NodePtr = std::shared_ptr<const Node>;

// The key of an identity string: the first 128 bits of its SHA-256.
NodeKey key_of(std::string_view identity);

// Keys of stored entries. A snapshot's root directory is named by the snapshot id; every other
// entry by its parent directory's key and its name, so a path in a snapshot keeps its key (and
// inode number) in every mount; the files of a hard-link group share the group's key.
NodeKey snapshot_root_key(const BlobId& snapshot);
NodeKey entry_key(const NodeKey& parent, std::string_view name);
NodeKey link_group_key(const BlobId& snapshot, std::uint64_t link_group);
// Keys of the mount's own nodes, by their path in the mount ("snapshots", "hosts/web1", …);
// symlinks also by their target, so a link that now points elsewhere is a new node.
NodeKey virtual_key(std::string_view mount_path);
NodeKey symlink_key(std::string_view mount_path, std::string_view target);

// The attributes of a stored entry.
NodeAttr attr_of(const TreeEntry& e);

// The node of entry number `index` of tree `container` (whose directory has key `parent_key`)
// in snapshot `snap`. `parent` is the directory it is reached from; `name` its name there.
Child entry_child(const TreeEntry& e, std::uint32_t index, const BlobId& container,
                  const NodeKey& parent_key, std::shared_ptr<const SnapshotInfo> snap,
                  std::shared_ptr<const Node> parent, std::string name);
// The node of a snapshot's root directory, named `info->name` under snapshots/.
Child snapshot_root_child(std::shared_ptr<const SnapshotInfo> info,
                          std::shared_ptr<const Node> parent);
// The root directory's entry as its snapshot record stores it.
TreeEntry snapshot_root(const SnapshotInfo& info);

}  // namespace strata::fs
