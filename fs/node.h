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

#include "store/hash.h"
#include "store/snapshot.h"
#include "store/tree.h"

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

struct Node {
    std::uint64_t ino = 0;  // set by the inode table
    NodeKey key;
    NodeKind kind = NodeKind::Root;
    // The directory it was first reached from (for the path shown in logs); null for the root.
    std::shared_ptr<const Node> parent;
    std::string name;  // its name in that directory
    NodeAttr attr;

    // Entry: the snapshot it belongs to and the tree listing it (zero for a snapshot's root), so
    // an open can fetch its chunk list again without keeping it in memory meanwhile.
    std::shared_ptr<const SnapshotInfo> snapshot;
    BlobId container;
    std::uint32_t container_index = 0;  // its position in that tree
    BlobId subtree;              // Entry directories
    std::string target;          // Entry symlinks and Link nodes
    std::vector<Xattr> xattrs;   // Entry nodes, sorted by name
    std::string history_path;    // HistoryDir: '/'-separated path inside snapshots, "" for history/

    bool is_dir() const { return (attr.mode & 0170000) == 0040000; }
    bool is_regular() const { return (attr.mode & 0170000) == 0100000; }
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
Node entry_node(const TreeEntry& e, std::uint32_t index, const BlobId& container,
                const NodeKey& parent_key, std::shared_ptr<const SnapshotInfo> snap,
                std::shared_ptr<const Node> parent, std::string name);
// The node of a snapshot's root directory, named `info->name` under snapshots/.
Node snapshot_root_node(std::shared_ptr<const SnapshotInfo> info, std::shared_ptr<const Node> parent);

}  // namespace strata::fs
