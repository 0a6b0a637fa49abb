// Prune's repack checks every blob it copies, on several threads and several read spans ahead of
// the writing: a damaged blob still stops prune before anything is deleted, and the error names
// the first damaged blob in pack order, even when a later one (in a span checked meanwhile) is
// damaged too.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/prune.h"
#include "store/maintenance/retention.h"
#include "store/base/unique_fd.h"
#include "store/maintenance/verify.h"
#include "tests/store/repo_fixture.h"

namespace strata {
namespace {

using testing::TestRepo;

// The data blobs snapshot `s` uses, with their locations, in pack order.
std::vector<std::pair<BlobId, BlobLocation>> data_blobs_in_pack_order(Repository& repo, const Snapshot& s) {
    std::set<BlobId> ids;
    testing::for_each_chunk(repo, s, [&](const ChunkRef& c) { ids.insert(c.id); });
    std::vector<std::pair<BlobId, BlobLocation>> out;
    for (const auto& id : ids) out.emplace_back(id, *repo.index().find(id));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tie(a.second.pack, a.second.offset) < std::tie(b.second.pack, b.second.offset);
    });
    return out;
}

// Inverts one byte in the middle of the blob's stored bytes, in its pack file.
void flip_byte(TestRepo& t, const BlobLocation& loc) {
    std::string name;
    for (const auto& p : t.repo->index().packs())
        if (p.seq == loc.pack) name = pack_object_name(p.id);
    ASSERT_FALSE(name.empty());
    UniqueFd fd(::open((t.path + "/" + name).c_str(), O_RDWR));
    ASSERT_GE(fd.get(), 0) << name;
    const off_t at = static_cast<off_t>(loc.offset + loc.stored_size / 2);
    unsigned char b = 0;
    ASSERT_EQ(::pread(fd.get(), &b, 1, at), 1);
    b = static_cast<unsigned char>(~b);
    ASSERT_EQ(::pwrite(fd.get(), &b, 1, at), 1);
}

// Runs prune (repacking every partly used pack) and returns its Corruption message, or "" if it
// succeeded. Checks that a failed prune deleted nothing and took no pack out of the index.
std::string prune_error(TestRepo& t) {
    const auto files = t.pack_files();
    const auto indexed = t.repo->index().packs().size();
    PruneOptions o;
    o.grace_seconds = 0;
    o.max_unused = 0;
    try {
        prune(*t.repo, o);
        return "";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << e.what();
        for (const auto& f : files) EXPECT_TRUE(t.repo->objects().exists(f)) << f << " was deleted";
        EXPECT_FALSE(t.repo->objects().exists(format::kPendingDeletionFile));
        EXPECT_GE(t.repo->index().packs().size(), indexed);
        return e.what();
    }
}

bool names_blob(const std::string& message, const BlobId& id) {
    return message.find("blob " + id.short_hex() + " in ") != std::string::npos &&
           message.find("is damaged") != std::string::npos && message.find("nothing was deleted") != std::string::npos;
}

TEST(PruneDamage, StopsAtTheFirstDamagedBlobInPackOrder) {
    TestRepo t;
    // About 10 MB of used data: several of repack's 4 MiB read spans, checked concurrently.
    t.write("drop.bin", 300000, 2);
    t.write("keep.bin", 10u << 20, 1);
    Snapshot a = t.ingest_src();
    t.remove("drop.bin");
    Snapshot b = t.ingest_src();
    {
        auto lock = t.repo->lock_for_writing("test");
        forget_snapshots(*t.repo, {a.id});
    }
    auto blobs = data_blobs_in_pack_order(*t.repo, b);
    ASSERT_GT(blobs.size(), 10u);
    const auto& early = blobs[1];
    const auto& late = blobs.back();
    ASSERT_EQ(early.second.pack, late.second.pack);
    ASSERT_GT(late.second.offset - early.second.offset, 8u << 20) << "not several read spans apart";
    flip_byte(t, early.second);
    flip_byte(t, late.second);

    std::string err = prune_error(t);
    EXPECT_TRUE(names_blob(err, early.first)) << err;
    EXPECT_FALSE(names_blob(err, late.first)) << err;

    // With the early blob mended, the late one (the last blob copied) stops prune.
    flip_byte(t, early.second);
    err = prune_error(t);
    EXPECT_TRUE(names_blob(err, late.first)) << err;

    // With both mended, prune repacks and the repository verifies clean.
    flip_byte(t, late.second);
    EXPECT_EQ(prune_error(t), "");
    VerifyOptions vo;
    vo.read_data = VerifyOptions::ReadData::All;
    VerifyReport r = verify(*t.repo, vo);
    for (const auto& p : r.problems) ADD_FAILURE() << p.kind << " " << p.object << ": " << p.detail;
    EXPECT_EQ(t.repo->load_data(late.first).size(), late.second.raw_size);
}

}  // namespace
}  // namespace strata
