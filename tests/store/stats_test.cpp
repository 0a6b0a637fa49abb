// Stats: logical and stored sizes, dedup and compression ratios, and the bytes only one snapshot
// holds, checked against what forgetting it and pruning really frees.
#include "store/maintenance/stats.h"

#include <gtest/gtest.h>

#include "store/maintenance/prune.h"
#include "store/maintenance/retention.h"
#include "tests/store/repo_fixture.h"

namespace strata {
namespace {

using testing::TestRepo;

TEST(Stats, SizesRatiosAndExclusiveBytes) {
    TestRepo t;
    constexpr std::size_t kShared = 200000, kOnlyA = 120000, kOnlyB = 90000;
    t.write("shared.bin", kShared, 1);
    t.write("only_a.bin", kOnlyA, 2);
    Snapshot a = t.ingest_src();
    t.remove("only_a.bin");
    t.write("only_b.bin", kOnlyB, 3);
    // Compressible content: the compression ratio must show it.
    testing::write_file(t.src + "/text.txt", std::string(100000, 'z'));
    Snapshot b = t.ingest_src();

    RepositoryStats st = compute_stats(*t.repo, {});
    EXPECT_EQ(st.snapshots, 2u);
    EXPECT_EQ(st.logical_bytes, kShared + kOnlyA + kShared + kOnlyB + 100000);
    EXPECT_EQ(st.data_raw_bytes, kShared + kOnlyA + kOnlyB + 100000);
    EXPECT_NEAR(st.dedup_ratio(), static_cast<double>(st.logical_bytes) / static_cast<double>(st.data_raw_bytes), 1e-9);
    EXPECT_GT(st.dedup_ratio(), 1.3);
    EXPECT_GT(st.compression_ratio(), 1.1);  // the text file shrinks to almost nothing
    EXPECT_LT(st.stored_bytes, st.raw_bytes);
    EXPECT_EQ(st.unreferenced_blobs, 0u);
    EXPECT_EQ(st.missing_blobs, 0u);
    ASSERT_EQ(st.per_snapshot.size(), 2u);
    const SnapshotStats& sa = st.per_snapshot[0];
    const SnapshotStats& sb = st.per_snapshot[1];
    EXPECT_EQ(sa.snapshot.id, a.id);
    // Only a holds only_a.bin (random: stored as is) and its root tree.
    EXPECT_GE(sa.exclusive_raw_bytes, kOnlyA);
    EXPECT_LT(sa.exclusive_raw_bytes, kOnlyA + 2000);
    EXPECT_GE(sb.exclusive_raw_bytes, kOnlyB + 100000);

    // Forget a: its exclusive blobs become unreferenced, exactly.
    {
        auto lock = t.repo->lock_for_writing("test");
        forget_snapshots(*t.repo, {a.id});
    }
    RepositoryStats after = compute_stats(*t.repo, {});
    EXPECT_EQ(after.unreferenced_blobs, sa.exclusive_blobs);
    EXPECT_EQ(after.unreferenced_stored_bytes, sa.exclusive_stored_bytes);
    // And prune (wasting nothing) frees that much, give or take pack overhead.
    PruneOptions po;
    po.grace_seconds = 0;
    po.max_unused = 0;
    prune(*t.repo, po);
    RepositoryStats pruned = compute_stats(*t.repo, {});
    EXPECT_EQ(pruned.unreferenced_blobs, 0u);
    const std::uint64_t freed = st.pack_bytes - pruned.pack_bytes;
    EXPECT_GE(freed, sa.exclusive_stored_bytes);
    EXPECT_LT(freed, sa.exclusive_stored_bytes + 4096);

    // One snapshot: its referenced sizes too.
    StatsOptions only;
    only.only = b.id;
    RepositoryStats one = compute_stats(*t.repo, only);
    ASSERT_EQ(one.per_snapshot.size(), 1u);
    EXPECT_EQ(one.per_snapshot[0].blobs, pruned.blobs);
    EXPECT_EQ(one.per_snapshot[0].stored_bytes, pruned.stored_bytes);
    EXPECT_EQ(one.per_snapshot[0].exclusive_stored_bytes, pruned.stored_bytes);
}

TEST(Stats, SharedSubtreesAreNotExclusive) {
    TestRepo t;
    t.mkdir("deep");
    t.mkdir("deep/er");
    t.write("deep/er/f.bin", 80000, 5);
    t.ingest_src();
    t.write("top.bin", 50000, 6);  // changes only the root tree
    t.ingest_src();
    RepositoryStats st = compute_stats(*t.repo, {});
    ASSERT_EQ(st.per_snapshot.size(), 2u);
    // Everything below the root is shared; each holds only its root tree (and b its new file).
    EXPECT_LT(st.per_snapshot[0].exclusive_raw_bytes, 1000u);
    EXPECT_EQ(st.per_snapshot[0].exclusive_blobs, 1u);
    EXPECT_GE(st.per_snapshot[1].exclusive_raw_bytes, 50000u);
    EXPECT_LT(st.per_snapshot[1].exclusive_raw_bytes, 51000u);
}

}  // namespace
}  // namespace strata
