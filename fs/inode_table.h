// Inode numbers for the mount, derived from what a node is rather than the order it was visited:
// a node's key (fs/node.h) proposes its number, so the same snapshot path gets the same number in
// every mount, and hard links (which share a key) share one number.
//
// The table holds the nodes the kernel currently knows (lookup count > 0) and nothing else; FUSE
// `forget` drops them, so its size follows the kernel's inode cache, not the repository. The
// kernel forgets only under memory pressure, so a walk over millions of entries would keep
// millions here: the mount therefore asks the kernel to drop the names of the least recently
// used nodes once the table holds more than kMaxLiveNodes (least_recent(), fs/mount.cpp), and
// the kernel's forgets then shrink the table.
//
// Collisions: numbers are 63 bits of a SHA-256. If a live node already holds the number another
// key proposes, the newcomer gets the next free number of a fixed probe sequence for as long as
// it stays live, and the table remembers that displacement, so both stay distinct and each key
// keeps one number within a mount. Only then can a number differ between mounts (it depends on
// which of the two was reached first); with 63-bit numbers that needs billions of live nodes to
// become likely. Two keys equal in all 128 bits are taken to be the same node.
//
// Threads: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "fs/node.h"

namespace strata::fs {

inline constexpr std::uint64_t kRootInode = 1;  // FUSE_ROOT_ID

// Live nodes above which the mount asks the kernel to forget the least recently used ones, and
// how many it then keeps: at ~250 bytes per node (with the table's own slot), about 16 MiB, and
// more than a walk of one large directory tree holds at once (bench/mount_rss_bench.sh).
inline constexpr std::size_t kMaxLiveNodes = 65536;
inline constexpr std::size_t kTrimmedLiveNodes = 49152;

class InodeTable {
  public:
    // `root` becomes inode 1 and is never forgotten.
    explicit InodeTable(Node root);

    // Returns the live node with `node.key`, adding `lookups` to its count; or, if there is none,
    // installs `node` under a free number (its key's own when possible) with that count.
    NodePtr remember(Node node, std::uint64_t lookups);
    // The live node with number `ino`, or null.
    NodePtr find(std::uint64_t ino) const;
    // The live node with `key`, or null; adds no lookup.
    NodePtr live(const NodeKey& key) const;
    // The number `key` has (if live) or would get if remembered now; for readdir entries that are
    // not looked up.
    std::uint64_t number_of(const NodeKey& key) const;
    // Subtracts `lookups` from the count; at zero the node leaves the table.
    void forget(std::uint64_t ino, std::uint64_t lookups);

    std::size_t size() const;
    std::size_t displaced() const;  // live nodes not holding their key's own number

    // Up to `count` live nodes, least recently remembered or found first (never the root).
    std::vector<NodePtr> least_recent(std::size_t count) const;

  private:
    struct Slot {
        NodeKey key;  // a copy, so probing does not touch the node
        std::shared_ptr<Node> node;
        std::uint64_t lookups = 0;
        std::uint64_t used = 0;  // clock_ when last remembered or found
    };
    std::uint64_t probe_free_number(const NodeKey& key) const;  // mu_ held
    Slot* live_slot(const NodeKey& key);                        // mu_ held

    mutable std::mutex mu_;
    mutable std::uint64_t clock_ = 0;  // counts remember() and find() calls
    // Buckets for this many nodes are made up front: a walk into a large tree fills the table
    // quickly, and rehashing it on the way costs more than the memory.
    static constexpr std::size_t kInitialBuckets = 1 << 16;
    mutable std::unordered_map<std::uint64_t, Slot> by_number_;  // `used` changes on find()
    std::unordered_map<NodeKey, std::uint64_t, NodeKeyHash> displaced_;
};

}  // namespace strata::fs
