#include "store/index/index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/store/store_test_support.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

using testing::TempDir;

BlobId id_of(const std::string& s) { return sha256(as_bytes(s)); }

PackEntry entry(const std::string& name, std::uint64_t offset, std::uint32_t stored,
                format::BlobType type = format::BlobType::Data, format::Codec codec = format::Codec::Zstd) {
    return {id_of(name), type, codec, offset, stored, stored * 2};
}

Snapshot snapshot_at(std::int64_t sec, std::uint32_t nsec, const std::string& note) {
    SnapshotRecord r;
    r.time_sec = sec;
    r.time_nsec = nsec;
    r.host = "h";
    r.note = note;
    r.root = id_of("root " + note);
    r.root_meta.type = EntryType::Dir;
    r.root_meta.subtree = r.root;
    return {sha256(encode_snapshot(r)), r};
}

class IndexTest : public ::testing::Test {
protected:
    std::string dir() const { return tmp_ / "index"; }
    TempDir tmp_;
};

TEST_F(IndexTest, AddPackAndFind) {
    BlobIndex idx(dir(), BlobIndex::Access::Create);
    const BlobId pack_a = id_of("pack a");
    std::vector<PackEntry> a = {entry("x", 0, 100), entry("y", 100, 50, format::BlobType::Tree, format::Codec::Raw),
                                entry("z", 150, 7)};
    idx.add_pack(pack_a, 1000, a);
    ASSERT_EQ(idx.packs().size(), 1u);
    const PackInfo info = idx.packs()[0];
    EXPECT_EQ(info.id, pack_a);
    EXPECT_EQ(info.size, 1000u);
    EXPECT_EQ(info.blobs, 3u);
    EXPECT_EQ(info.last_verified, 0);
    ASSERT_TRUE(idx.pack(info.seq).has_value());
    EXPECT_EQ(idx.pack(info.seq)->id, pack_a);
    EXPECT_FALSE(idx.pack(info.seq + 100).has_value());
    for (const auto& e : a) {
        auto loc = idx.find(e.id);
        ASSERT_TRUE(loc.has_value());
        EXPECT_EQ(loc->pack, info.seq);
        EXPECT_EQ(loc->offset, e.offset);
        EXPECT_EQ(loc->stored_size, e.stored_size);
        EXPECT_EQ(loc->raw_size, e.raw_size);
        EXPECT_EQ(loc->type, e.type);
        EXPECT_EQ(loc->codec, e.codec);
    }
    EXPECT_FALSE(idx.find(id_of("absent")).has_value());
    EXPECT_FALSE(idx.contains(id_of("absent")));
    EXPECT_EQ(idx.blob_count(), 3u);

    // A second pack holding a blob already indexed: the first location stays.
    const BlobId pack_b = id_of("pack b");
    idx.add_pack(pack_b, 500, {entry("y", 0, 50), entry("w", 50, 10)});
    ASSERT_EQ(idx.packs().size(), 2u);
    const std::uint32_t seq_b = idx.packs()[1].seq;
    EXPECT_NE(seq_b, info.seq);
    EXPECT_EQ(idx.find(id_of("y"))->pack, info.seq);
    EXPECT_EQ(idx.find(id_of("y"))->offset, 100u);
    EXPECT_EQ(idx.find(id_of("w"))->pack, seq_b);
    EXPECT_EQ(idx.blob_count(), 4u);

    // Adding a pack that is already known changes nothing.
    idx.add_pack(pack_a, 1000, a);
    EXPECT_EQ(idx.packs().size(), 2u);

    // for_each_blob visits every blob once, in id order.
    std::vector<BlobId> seen;
    idx.for_each_blob([&](const BlobId& id, const BlobLocation&) { seen.push_back(id); });
    EXPECT_EQ(seen.size(), 4u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

    idx.set_pack_verified(info.seq, 1763700000);
    EXPECT_EQ(idx.pack(info.seq)->last_verified, 1763700000);
    EXPECT_EQ(idx.pack(seq_b)->last_verified, 0);
}

TEST_F(IndexTest, SnapshotsSortedByTimeWithGeneration) {
    BlobIndex idx(dir(), BlobIndex::Access::Create);
    const std::uint64_t g0 = idx.snapshot_generation();
    Snapshot late = snapshot_at(2000, 0, "late"), early = snapshot_at(1000, 999, "early"),
             mid = snapshot_at(1000, 1000, "mid");
    idx.put_snapshot(late);
    idx.put_snapshot(early);
    idx.put_snapshot(mid);
    EXPECT_EQ(idx.snapshot_generation(), g0 + 3);
    auto all = idx.snapshots();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, early.id);
    EXPECT_EQ(all[1].id, mid.id);
    EXPECT_EQ(all[2].id, late.id);
    EXPECT_EQ(all[1].rec.note, "mid");
    EXPECT_EQ(all[1].rec.time_nsec, 1000u);

    idx.remove_snapshot(mid.id);
    EXPECT_EQ(idx.snapshot_generation(), g0 + 4);
    all = idx.snapshots();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, early.id);
    EXPECT_EQ(all[1].id, late.id);
    idx.remove_snapshot(mid.id);  // absent: nothing changes
    EXPECT_EQ(idx.snapshot_generation(), g0 + 4);
}

TEST_F(IndexTest, RemovePackRemovesExactlyItsBlobs) {
    BlobIndex idx(dir(), BlobIndex::Access::Create);
    // Interleave two packs' blobs in key order, many adjacent, so deletion while iterating is
    // exercised (a cursor that skips the entry after each delete would leave some behind).
    std::vector<PackEntry> one, two;
    for (int i = 0; i < 1000; ++i) (i % 3 ? one : two).push_back(entry("blob " + std::to_string(i), i * 10u, 10));
    idx.add_pack(id_of("one"), 1, one);
    idx.add_pack(id_of("two"), 1, two);
    const auto packs = idx.packs();
    ASSERT_EQ(packs.size(), 2u);
    idx.remove_pack(packs[0].seq);
    EXPECT_EQ(idx.blob_count(), two.size());
    for (const auto& e : one) EXPECT_FALSE(idx.contains(e.id));
    for (const auto& e : two) EXPECT_TRUE(idx.contains(e.id));
    ASSERT_EQ(idx.packs().size(), 1u);
    EXPECT_EQ(idx.packs()[0].id, id_of("two"));
    // The removed pack can be added again (its id is free) and gets a new sequence number.
    idx.add_pack(id_of("one"), 1, one);
    EXPECT_EQ(idx.blob_count(), 1000u);
    EXPECT_NE(idx.packs().back().seq, packs[0].seq);
}

TEST_F(IndexTest, ABlobWhosePackGoesMovesToItsCopyInAnotherPack) {
    BlobIndex idx(dir(), BlobIndex::Access::Create);
    // Two hosts stored "shared" each in their own pack; a third pack holds a copy too.
    idx.add_pack(id_of("one"), 1000, {entry("shared", 0, 10), entry("only one", 10, 5)});
    idx.add_pack(id_of("two"), 1000, {entry("only two", 0, 7), entry("shared", 7, 10)});
    idx.add_pack(id_of("three"), 1000, {entry("shared", 30, 10)});
    const auto packs = idx.packs();
    ASSERT_EQ(packs.size(), 3u);
    ASSERT_EQ(idx.find(id_of("shared"))->pack, packs[0].seq);
    std::size_t copies = 0;
    idx.for_each_duplicate([&](const BlobId& id, const BlobLocation&) {
        EXPECT_EQ(id, id_of("shared"));
        copies++;
    });
    EXPECT_EQ(copies, 2u);
    // The pack it is located in goes: it moves to its first copy, at that copy's offset.
    idx.remove_pack(packs[0].seq);
    auto loc = idx.find(id_of("shared"));
    ASSERT_TRUE(loc.has_value());
    EXPECT_EQ(loc->pack, packs[1].seq);
    EXPECT_EQ(loc->offset, 7u);
    EXPECT_FALSE(idx.contains(id_of("only one")));
    EXPECT_EQ(idx.blob_count(), 2u);
    // A copy whose pack goes is forgotten; the located blob stays where it is.
    idx.remove_pack(packs[2].seq);
    EXPECT_EQ(idx.find(id_of("shared"))->pack, packs[1].seq);
    copies = 0;
    idx.for_each_duplicate([&](const BlobId&, const BlobLocation&) { copies++; });
    EXPECT_EQ(copies, 0u);
    // Without a copy left, the blob goes with its last pack.
    idx.remove_pack(packs[1].seq);
    EXPECT_FALSE(idx.contains(id_of("shared")));
    EXPECT_EQ(idx.blob_count(), 0u);
}

TEST_F(IndexTest, AddPacksIndexesManyPacksAcrossSeveralTransactionsLikeAddPackDoes) {
    BlobIndex idx(dir(), BlobIndex::Access::Create);
    // More blobs than one transaction takes, a pack already known, and a blob in two packs.
    std::vector<IndexedPack> packs;
    for (int p = 0; p < 3; ++p) {
        IndexedPack pack{id_of("pack " + std::to_string(p)), 1u << 30, {}};
        for (std::uint64_t b = 0; b < BlobIndex::kBatchBlobs / 2; ++b)
            pack.entries.push_back(
                entry("blob " + std::to_string(p) + " " + std::to_string(b), b * 10, 10));
        pack.entries.push_back(entry("shared", 0, 10));
        packs.push_back(std::move(pack));
    }
    idx.add_pack(packs[0].id, packs[0].size, packs[0].entries);
    idx.add_packs(packs);
    const auto known = idx.packs();
    ASSERT_EQ(known.size(), 3u);
    EXPECT_EQ(idx.blob_count(), 3 * (BlobIndex::kBatchBlobs / 2) + 1);
    EXPECT_EQ(idx.find(id_of("shared"))->pack, known[0].seq);
    EXPECT_EQ(idx.find(id_of("blob 2 7"))->pack, known[2].seq);
    EXPECT_EQ(idx.find(id_of("blob 2 7"))->offset, 70u);
    std::size_t copies = 0;
    idx.for_each_duplicate([&](const BlobId&, const BlobLocation&) { copies++; });
    EXPECT_EQ(copies, 2u);

    idx.put_snapshots({snapshot_at(5, 0, "a"), snapshot_at(6, 0, "b")});
    EXPECT_EQ(idx.snapshots().size(), 2u);
}

TEST_F(IndexTest, PersistsAndOpensReadOnly) {
    Snapshot s = snapshot_at(5, 6, "kept");
    {
        BlobIndex idx(dir(), BlobIndex::Access::Create);
        idx.add_pack(id_of("p"), 10, {entry("a", 0, 10)});
        idx.put_snapshot(s);
    }
    {
        BlobIndex ro(dir(), BlobIndex::Access::ReadOnly);
        EXPECT_TRUE(ro.contains(id_of("a")));
        ASSERT_EQ(ro.snapshots().size(), 1u);
        EXPECT_EQ(ro.snapshots()[0].id, s.id);
    }
    BlobIndex rw(dir(), BlobIndex::Access::ReadWrite);
    rw.add_pack(id_of("q"), 10, {entry("b", 0, 10)});
    EXPECT_EQ(rw.blob_count(), 2u);
}

TEST_F(IndexTest, MissingIndexNamesRepair) {
    std::string msg = expect_store_error([&] { BlobIndex idx(dir(), BlobIndex::Access::ReadOnly); },
                                         StoreError::Kind::NotFound);
    EXPECT_NE(msg.find("repair-index"), std::string::npos) << msg;
}

}  // namespace
}  // namespace strata
