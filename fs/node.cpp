#include "fs/node.h"

#include <sys/stat.h>

#include "store/repo/reader.h"

namespace strata::fs {

NodeKey key_of(std::string_view identity) {
    BlobId h = sha256(as_bytes(identity));
    NodeKey k;
    for (int i = 7; i >= 0; --i) k.number = (k.number << 8) | h.bytes[static_cast<std::size_t>(i)];
    for (int i = 15; i >= 8; --i) k.check = (k.check << 8) | h.bytes[static_cast<std::size_t>(i)];
    // The top bit stays clear so the number survives signed 64-bit arithmetic in user tools; 0 is
    // no inode and 1 is the root.
    k.number &= ~(std::uint64_t{1} << 63);
    if (k.number <= 1) k.number += 2;
    return k;
}

namespace {

std::string tagged(std::string_view tag) { return std::string(tag) + '\0'; }

void append_u64(std::string& s, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) s += static_cast<char>(v >> (8 * i));
}

std::uint32_t type_bits(EntryType t) {
    switch (t) {
        case EntryType::File:
            return S_IFREG;
        case EntryType::Dir:
            return S_IFDIR;
        case EntryType::Symlink:
            return S_IFLNK;
        case EntryType::Fifo:
            return S_IFIFO;
        case EntryType::Socket:
            return S_IFSOCK;
        case EntryType::CharDev:
            return S_IFCHR;
        case EntryType::BlockDev:
            return S_IFBLK;
    }
    return S_IFREG;
}

}  // namespace

NodeKey snapshot_root_key(const BlobId& snapshot) {
    std::string id = tagged("snapshot");
    id.append(reinterpret_cast<const char*>(snapshot.bytes.data()), snapshot.bytes.size());
    return key_of(id);
}

NodeKey entry_key(const NodeKey& parent, std::string_view name) {
    std::string id = tagged("entry");
    append_u64(id, parent.number);
    append_u64(id, parent.check);
    id += name;
    return key_of(id);
}

NodeKey link_group_key(const BlobId& snapshot, std::uint64_t link_group) {
    std::string id = tagged("link-group");
    id.append(reinterpret_cast<const char*>(snapshot.bytes.data()), snapshot.bytes.size());
    append_u64(id, link_group);
    return key_of(id);
}

NodeKey virtual_key(std::string_view mount_path) {
    return key_of(tagged("virtual") + std::string(mount_path));
}

NodeKey symlink_key(std::string_view mount_path, std::string_view target) {
    return key_of(tagged("symlink") + std::string(mount_path) + '\0' + std::string(target));
}

namespace {

// What a restore allocates, in 512-byte units as st_blocks counts them, on a file system that
// allocates whole 4 KiB blocks (ext4, xfs, btrfs): every 4 KiB block a stored chunk touches; holes
// cost nothing. Directories are one block, as an ext4 directory of up to a few dozen entries is;
// a symlink target shorter than 60 bytes lives in the inode.
constexpr std::uint64_t kAllocBlock = 4096;
constexpr std::uint64_t kFastSymlinkMax = 59;

std::uint64_t allocated_blocks(const TreeEntry& e) {
    std::uint64_t blocks = 0;
    switch (e.type) {
        case EntryType::File: {
            std::uint64_t end = 0;  // of the blocks counted so far
            for (const auto& c : e.chunks) {
                std::uint64_t first = std::max(c.offset / kAllocBlock, end);
                std::uint64_t last = (c.offset + c.size + kAllocBlock - 1) / kAllocBlock;
                if (last > first) blocks += last - first;
                end = std::max(end, last);
            }
            break;
        }
        case EntryType::Dir:
            blocks = 1;
            break;
        case EntryType::Symlink:
            blocks = e.size > kFastSymlinkMax ? 1 : 0;
            break;
        default:
            break;
    }
    return blocks * (kAllocBlock / 512);
}

}  // namespace

NodeAttr attr_of(const TreeEntry& e) {
    NodeAttr a;
    a.mode = type_bits(e.type) | (e.mode & 07777);
    a.uid = e.uid;
    a.gid = e.gid;
    a.nlink = std::max<std::uint32_t>(e.nlink, 1);
    a.size = e.type == EntryType::File || e.type == EntryType::Symlink ? e.size
             : e.type == EntryType::Dir                                ? kAllocBlock
                                                                       : 0;
    // So that du through the mount matches du of the source, and cp --sparse sees the holes.
    a.blocks = allocated_blocks(e);
    a.rdev = e.rdev;
    a.mtime_sec = e.mtime_sec;
    a.mtime_nsec = e.mtime_nsec;
    a.ctime_sec = e.ctime_sec;
    a.ctime_nsec = e.ctime_nsec;
    return a;
}

Child entry_child(const TreeEntry& e, std::uint32_t index, const BlobId& container,
                  const NodeKey& parent_key, std::shared_ptr<const SnapshotInfo> snap,
                  std::shared_ptr<const Node> parent, std::string name) {
    Child c;
    Node& n = c.node;
    n.kind = NodeKind::Entry;
    n.key = e.type == EntryType::File && e.link_group != 0
                ? link_group_key(snap->snapshot.id, e.link_group)
                : entry_key(parent_key, e.name);
    c.attr = attr_of(e);
    n.mode = c.attr.mode;
    n.index = index;
    n.parent = std::move(parent);
    n.name = std::move(name);
    n.snapshot = std::move(snap);
    n.tree = container;
    return c;
}

TreeEntry snapshot_root(const SnapshotInfo& info) {
    TreeEntry root = snapshot_root_entry(info.snapshot);
    root.type = EntryType::Dir;
    return root;
}

Child snapshot_root_child(std::shared_ptr<const SnapshotInfo> info,
                          std::shared_ptr<const Node> parent) {
    Child c;
    Node& n = c.node;
    n.kind = NodeKind::Entry;
    n.key = snapshot_root_key(info->snapshot.id);
    c.attr = attr_of(snapshot_root(*info));
    n.mode = c.attr.mode;
    n.parent = std::move(parent);
    n.name = info->name;
    n.snapshot = std::move(info);
    return c;
}

}  // namespace strata::fs
