// Inode numbering: stable numbers from keys, lookup counts, and collisions.
#include "fs/inode_table.h"

#include <gtest/gtest.h>

#include <set>

namespace strata::fs {
namespace {

Node root_node() {
    Node r;
    r.kind = NodeKind::Root;
    r.mode = 0040555;
    return r;
}

Node node_with(NodeKey key, std::string name = "n") {
    Node n;
    n.kind = NodeKind::Entry;
    n.key = key;
    n.name = std::move(name);
    return n;
}

TEST(NodeKeys, AreStableAndDistinct) {
    EXPECT_EQ(key_of("abc"), key_of("abc"));
    EXPECT_NE(key_of("abc").number, key_of("abd").number);
    EXPECT_LT(key_of("abc").number, std::uint64_t{1} << 63);
    EXPECT_GT(key_of("abc").number, kRootInode);
    BlobId snap;
    snap.bytes[0] = 1;
    const NodeKey root = snapshot_root_key(snap);
    EXPECT_EQ(entry_key(root, "etc"), entry_key(snapshot_root_key(snap), "etc"));
    EXPECT_NE(entry_key(root, "etc"), entry_key(root, "usr"));
    EXPECT_NE(entry_key(entry_key(root, "a"), "b"), entry_key(entry_key(root, "b"), "a"));
    BlobId other = snap;
    other.bytes[1] = 2;
    EXPECT_NE(entry_key(root, "etc"), entry_key(snapshot_root_key(other), "etc"));
    EXPECT_EQ(link_group_key(snap, 3), link_group_key(snap, 3));
    EXPECT_NE(link_group_key(snap, 3), link_group_key(snap, 4));
    EXPECT_NE(symlink_key("snapshots/latest", "a"), symlink_key("snapshots/latest", "b"));
}

TEST(InodeTable, UsesTheKeyNumberAndCountsLookups) {
    InodeTable t(root_node());
    ASSERT_NE(t.find(kRootInode), nullptr);
    const NodeKey k = key_of("x");
    NodePtr a = t.remember(node_with(k), 1);
    EXPECT_EQ(a->ino, k.number);
    NodePtr b = t.remember(node_with(k, "other name"), 2);
    EXPECT_EQ(b, a);  // the live node wins; its name stays
    EXPECT_EQ(b->name, "n");
    t.forget(a->ino, 2);
    EXPECT_NE(t.find(a->ino), nullptr);
    t.forget(a->ino, 1);
    EXPECT_EQ(t.find(a->ino), nullptr);
    EXPECT_EQ(t.size(), 1u);  // the root stays
    t.forget(kRootInode, 100);
    EXPECT_NE(t.find(kRootInode), nullptr);
}

TEST(InodeTable, CollidingKeysGetDistinctNumbersConsistently) {
    InodeTable t(root_node());
    const NodeKey first{1000, 1}, second{1000, 2}, third{1000, 3};
    NodePtr a = t.remember(node_with(first), 1);
    NodePtr b = t.remember(node_with(second), 1);
    NodePtr c = t.remember(node_with(third), 1);
    EXPECT_EQ(a->ino, 1000u);
    std::set<std::uint64_t> numbers{a->ino, b->ino, c->ino};
    EXPECT_EQ(numbers.size(), 3u);
    EXPECT_EQ(t.displaced(), 2u);
    // The displaced keep their numbers while live, even once the holder is gone.
    t.forget(a->ino, 1);
    EXPECT_EQ(t.remember(node_with(second), 1)->ino, b->ino);
    EXPECT_EQ(t.number_of(second), b->ino);
    // The first key comes back to its own number, which is free again.
    EXPECT_EQ(t.remember(node_with(first), 1)->ino, 1000u);
    t.forget(b->ino, 2);
    t.forget(c->ino, 1);
    EXPECT_EQ(t.displaced(), 0u);
    EXPECT_NE(t.number_of(second), 1000u);  // 1000 is held by `first`
}

TEST(InodeTable, NumberOfDoesNotInstall) {
    InodeTable t(root_node());
    const NodeKey k = key_of("y");
    EXPECT_EQ(t.number_of(k), k.number);
    EXPECT_EQ(t.size(), 1u);
}

TEST(InodeTable, ForgetsEveryNodeTheKernelForgets) {
    InodeTable t(root_node());
    std::vector<NodePtr> nodes;
    for (int i = 0; i < 1000; ++i)
        nodes.push_back(t.remember(node_with(key_of("n" + std::to_string(i))), 2));
    EXPECT_EQ(t.size(), 1001u);
    for (const auto& n : nodes) t.forget(n->ino, 1);  // one of two lookups: all stay
    EXPECT_EQ(t.size(), 1001u);
    for (const auto& n : nodes) t.forget(n->ino, 1);
    EXPECT_EQ(t.size(), 1u);  // only the root, which is never forgotten
    t.forget(kRootInode, 100);
    EXPECT_NE(t.find(kRootInode), nullptr);
    for (const auto& n : nodes) EXPECT_EQ(t.find(n->ino), nullptr);
}

TEST(InodeTable, LeastRecentComesFirstAndUseRefreshes) {
    InodeTable t(root_node());
    std::vector<NodePtr> nodes;
    for (int i = 0; i < 10; ++i)
        nodes.push_back(t.remember(node_with(key_of("n" + std::to_string(i))), 1));
    t.find(nodes[0]->ino);                   // used again: now the most recent
    t.remember(node_with(key_of("n1")), 1);  // looked up again: likewise
    auto oldest = t.least_recent(3);
    ASSERT_EQ(oldest.size(), 3u);
    EXPECT_EQ(oldest[0], nodes[2]);
    EXPECT_EQ(oldest[1], nodes[3]);
    EXPECT_EQ(oldest[2], nodes[4]);
    auto all = t.least_recent(100);  // never more than there are, never the root
    ASSERT_EQ(all.size(), 10u);
    EXPECT_EQ(all[8], nodes[0]);
    EXPECT_EQ(all[9], nodes[1]);
    for (const auto& n : all) EXPECT_NE(n->ino, kRootInode);
}

}  // namespace
}  // namespace strata::fs
