// Verify on real repositories with real damage: a flipped byte in a data blob, in a tree blob and
// in a snapshot record, a truncated pack, a deleted pack, a deleted and a corrupted index. Each is
// reported precisely, as the snapshots and paths it affects; repair-index rebuilds what the packs
// still hold. Also: incremental scrubbing covers the oldest-verified packs first.
#include "store/verify.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "store/format.h"
#include "tests/store/repo_fixture.h"

namespace strata {
namespace {

using testing::TestRepo;

VerifyOptions read_all() {
    VerifyOptions o;
    o.read_data = VerifyOptions::ReadData::All;
    return o;
}

std::string describe(const VerifyReport& r) {
    std::string s;
    for (const auto& p : r.problems) s += p.kind + " " + p.object + ": " + p.detail + "\n";
    for (const auto& a : r.affected) {
        s += "affected " + a.id.short_hex() + ":";
        for (const auto& p : a.paths) s += " " + p;
        s += "\n";
    }
    return s;
}

bool has_problem(const VerifyReport& r, const std::string& kind, const std::string& object_part = "") {
    return std::any_of(r.problems.begin(), r.problems.end(), [&](const VerifyProblem& p) {
        return p.kind == kind && p.object.find(object_part) != std::string::npos;
    });
}

std::set<std::string> affected_paths(const VerifyReport& r, const BlobId& snapshot) {
    for (const auto& a : r.affected)
        if (a.id == snapshot) return {a.paths.begin(), a.paths.end()};
    return {};
}

// Flips one byte of the file at `path`.
void flip_byte(const std::string& path, std::uint64_t offset) {
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    unsigned char c;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
    c ^= 0x5a;
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
    ::close(fd);
}

// The first chunk of `file` in `snap` (a top-level file) and where the index puts it.
struct Placed {
    BlobId id;
    BlobLocation loc;
    PackInfo pack;
};
Placed place_first_chunk(Repository& repo, const Snapshot& snap, const std::string& file) {
    TreeEntry e = find_path(repo, snap, file);
    Placed p;
    p.id = e.chunks.at(0).id;
    p.loc = *repo.index().find(p.id);
    p.pack = *repo.index().pack(p.loc.pack);
    return p;
}

// Two snapshots in separate packs: `a` holds one.bin and dir/two.bin; `b` adds three.bin.
struct Damageable : TestRepo {
    Damageable() {
        mkdir("dir");
        write("one.bin", 150000, 1);
        write("dir/two.bin", 150000, 2);
        a = ingest_src();
        write("three.bin", 150000, 3);
        b = ingest_src();
    }
    std::string file_of(const PackInfo& p) { return path + "/" + pack_object_name(p.id); }
    Snapshot a, b;
};

TEST(Verify, CleanRepositoryAndReadDataRecordsVerificationTimes) {
    Damageable t;
    VerifyReport r = verify(*t.repo, {});
    EXPECT_TRUE(r.clean()) << describe(r);
    EXPECT_EQ(r.snapshots, 2u);
    EXPECT_GE(r.trees, 3u);
    EXPECT_EQ(r.packs_read, 0u);
    VerifyOptions o = read_all();
    o.now = 1234567;
    r = verify(*t.repo, o);
    EXPECT_TRUE(r.clean()) << describe(r);
    EXPECT_EQ(r.packs_read, r.packs);
    EXPECT_EQ(r.blobs_read, r.blobs);
    for (const auto& p : t.repo->index().packs()) EXPECT_EQ(p.last_verified, 1234567);
}

TEST(Verify, FlippedByteInADataBlobNamesTheFile) {
    Damageable t;
    Placed c = place_first_chunk(*t.repo, t.a, "dir/two.bin");
    flip_byte(t.file_of(c.pack), c.loc.offset + 100);
    // The structure pass reads trees, not file data: it cannot see this.
    EXPECT_TRUE(verify(*t.repo, {}).clean());
    VerifyOptions o = read_all();
    o.now = 99;
    VerifyReport r = verify(*t.repo, o);
    EXPECT_FALSE(r.clean());
    EXPECT_TRUE(has_problem(r, "blob-damaged", c.id.hex())) << describe(r);
    EXPECT_TRUE(has_problem(r, "pack-checksum", c.pack.id.hex())) << describe(r);
    // Both snapshots hold that file, and only that file is damaged.
    EXPECT_EQ(affected_paths(r, t.a.id), std::set<std::string>{"/dir/two.bin"}) << describe(r);
    EXPECT_EQ(affected_paths(r, t.b.id), std::set<std::string>{"/dir/two.bin"}) << describe(r);
    // The damaged pack is not recorded as verified, so the next subset run reads it first.
    EXPECT_EQ(t.repo->index().pack(c.pack.seq)->last_verified, 0);
}

TEST(Verify, FlippedByteInATreeIsFoundWithoutReadingData) {
    Damageable t;
    TreeEntry dir = find_path(*t.repo, t.a, "dir");
    auto loc = *t.repo->index().find(dir.subtree);
    PackInfo pack = *t.repo->index().pack(loc.pack);
    flip_byte(t.file_of(pack), loc.offset + loc.stored_size / 2);
    VerifyReport r = verify(*t.repo, {});
    EXPECT_TRUE(has_problem(r, "tree-damaged", dir.subtree.hex())) << describe(r);
    EXPECT_EQ(affected_paths(r, t.a.id), std::set<std::string>{"/dir/"}) << describe(r);
    EXPECT_EQ(affected_paths(r, t.b.id), std::set<std::string>{"/dir/"}) << describe(r);
}

TEST(Verify, TruncatedPackReportsTheBlobsPastTheEnd) {
    Damageable t;
    Placed c = place_first_chunk(*t.repo, t.b, "three.bin");
    // Cut the pack in the middle of three.bin's first chunk.
    ASSERT_EQ(::truncate(t.file_of(c.pack).c_str(), static_cast<off_t>(c.loc.offset + 10)), 0);
    VerifyReport r = verify(*t.repo, {});
    EXPECT_TRUE(has_problem(r, "pack-size", c.pack.id.hex())) << describe(r);
    EXPECT_NE(r.problems.at(0).detail.find("truncated"), std::string::npos) << describe(r);
    // three.bin is only in b, and the pack of b holds b's root tree too (written after the data).
    auto paths = affected_paths(r, t.b.id);
    EXPECT_TRUE(paths.count("/") || paths.count("/three.bin")) << describe(r);
    EXPECT_TRUE(affected_paths(r, t.a.id).empty()) << describe(r);
    // With read-data the checksum failure is not reported twice.
    r = verify(*t.repo, read_all());
    EXPECT_FALSE(has_problem(r, "pack-checksum")) << describe(r);
}

TEST(Verify, DeletedPackAffectsExactlyTheSnapshotsUsingIt) {
    Damageable t;
    Placed c = place_first_chunk(*t.repo, t.a, "one.bin");
    ASSERT_EQ(::unlink(t.file_of(c.pack).c_str()), 0);
    VerifyReport r = verify(*t.repo, {});
    EXPECT_TRUE(has_problem(r, "pack-missing", c.pack.id.hex())) << describe(r);
    // a's pack held all of a (data and trees); b reuses one.bin and dir/ from it.
    EXPECT_EQ(affected_paths(r, t.a.id), std::set<std::string>{"/"}) << describe(r);
    auto b_paths = affected_paths(r, t.b.id);
    EXPECT_TRUE(b_paths.count("/one.bin")) << describe(r);
    EXPECT_TRUE(b_paths.count("/dir/")) << describe(r);
    EXPECT_FALSE(b_paths.count("/three.bin")) << describe(r);
    // repair-index drops the lost pack; verify then reports the blobs as missing, same paths.
    {
        auto lock = t.repo->lock_for_writing("test");
        auto rep = t.repo->repair_index();
        EXPECT_TRUE(rep.problems.empty());
    }
    r = verify(*t.repo, {});
    EXPECT_TRUE(has_problem(r, "blob-missing")) << describe(r);
    EXPECT_FALSE(has_problem(r, "pack-missing")) << describe(r);
    EXPECT_TRUE(affected_paths(r, t.b.id).count("/one.bin")) << describe(r);
}

TEST(Verify, DamagedSnapshotRecordIsReported) {
    Damageable t;
    flip_byte(t.path + "/" + snapshot_object_name(t.a.id), 20);
    VerifyReport r = verify(*t.repo, {});
    EXPECT_TRUE(has_problem(r, "snapshot-record", t.a.id.hex())) << describe(r);
    ASSERT_FALSE(r.affected.empty());
    EXPECT_TRUE(r.affected[0].record_damaged);
    EXPECT_EQ(r.affected[0].id, t.a.id);
}

TEST(Verify, MissingIndexIsReportedAndRepairIndexRebuildsIt) {
    Damageable t;
    t.repo.reset();
    ASSERT_EQ(::unlink((t.path + "/index/data.mdb").c_str()), 0);
    std::string why;
    try {
        Repository::open(t.path);
    } catch (const StoreError& e) {
        why = e.what();
    }
    ASSERT_FALSE(why.empty());
    auto bare = Repository::open_for_repair(t.path);
    VerifyReport r = verify_without_index(*bare, why, read_all());
    EXPECT_TRUE(has_problem(r, "index-unreadable", "index")) << describe(r);
    EXPECT_EQ(r.problems.size(), 1u) << describe(r);  // the packs themselves are fine
    EXPECT_EQ(r.snapshots, 2u);
    EXPECT_EQ(r.packs_read, r.packs);
    {
        auto lock = bare->lock_for_writing("repair-index");
        auto rep = bare->repair_index();
        EXPECT_EQ(rep.snapshots, 2u);
    }
    t.reopen();
    EXPECT_TRUE(verify(*t.repo, read_all()).clean());
}

TEST(Verify, CorruptedIndexIsReportedAndRepairIndexRebuildsIt) {
    Damageable t;
    t.repo.reset();
    // Overwrite both LMDB meta pages (the first two 4 KiB pages).
    const std::string data = t.path + "/index/data.mdb";
    int fd = ::open(data.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    std::string junk(8192, 'x');
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
    ::close(fd);
    std::string why = probe_index(t.path);
    ASSERT_FALSE(why.empty()) << "a corrupted index opened without complaint";
    EXPECT_THROW(Repository::open(t.path), StoreError);
    auto bare = Repository::open_for_repair(t.path);
    VerifyReport r = verify_without_index(*bare, why, {});
    EXPECT_TRUE(has_problem(r, "index-unreadable")) << describe(r);
    {
        auto lock = bare->lock_for_writing("repair-index");
        bare->repair_index();
    }
    t.reopen();
    EXPECT_TRUE(verify(*t.repo, read_all()).clean());
}

TEST(Verify, IndexWhosePagesAreDamagedIsProbedWithoutCrashing) {
    Damageable t;
    for (int i = 0; i < 30; ++i) t.write("many" + std::to_string(i), 20000, 50 + static_cast<std::uint64_t>(i));
    t.ingest_src();
    t.repo.reset();
    EXPECT_EQ(probe_index(t.path), "");
    // Garble every page after the two meta pages: LMDB follows the page numbers it finds there.
    const std::string data = t.path + "/index/data.mdb";
    std::string bytes = testing::read_file(data);
    for (std::size_t page = 8192; page + 4096 <= bytes.size(); page += 4096)
        for (std::size_t k = 16; k < 200; ++k) bytes[page + k] = static_cast<char>(bytes[page + k] ^ 0xa5);
    testing::write_file(data, bytes);
    std::string why = probe_index(t.path);
    EXPECT_FALSE(why.empty()) << "the damaged index read back without complaint";
    EXPECT_NE(why.find("repair-index"), std::string::npos) << why;
    auto bare = Repository::open_for_repair(t.path);
    VerifyReport r = verify_without_index(*bare, why, read_all());
    EXPECT_TRUE(has_problem(r, "index-unreadable")) << describe(r);
    EXPECT_EQ(r.problems.size(), 1u) << describe(r);
    {
        auto lock = bare->lock_for_writing("repair-index");
        bare->repair_index();
    }
    EXPECT_EQ(probe_index(t.path), "");
    t.reopen();
    EXPECT_TRUE(verify(*t.repo, read_all()).clean());
}

TEST(Verify, TruncatedIndexThatCrashesLmdbIsReported) {
    Damageable t;
    for (int i = 0; i < 30; ++i) t.write("many" + std::to_string(i), 20000, 50 + static_cast<std::uint64_t>(i));
    t.ingest_src();
    t.repo.reset();
    // The meta pages survive and name root pages past the end of the file: touching them through
    // LMDB's memory map raises SIGBUS, which only a separate process can survive.
    ASSERT_EQ(::truncate((t.path + "/index/data.mdb").c_str(), 3 * 4096), 0);
    std::string why = probe_index(t.path);
    EXPECT_NE(why.find("crashed"), std::string::npos) << why;
    auto bare = Repository::open_for_repair(t.path);
    VerifyReport r = verify_without_index(*bare, why, {});
    EXPECT_TRUE(has_problem(r, "index-unreadable")) << describe(r);
    {
        auto lock = bare->lock_for_writing("repair-index");
        bare->repair_index();
    }
    t.reopen();
    EXPECT_TRUE(verify(*t.repo, read_all()).clean());
}

TEST(Verify, PercentSubsetsCoverTheOldestVerifiedFirst) {
    TestRepo t;
    for (int i = 0; i < 4; ++i) {
        t.write("f" + std::to_string(i), 40000, 10 + static_cast<std::uint64_t>(i));
        t.ingest_src();
    }
    const std::size_t n = t.repo->index().packs().size();
    ASSERT_GE(n, 4u);
    VerifyOptions o;
    parse_read_data_subset("25%", o);
    std::set<std::uint32_t> covered;
    std::vector<std::uint32_t> order;
    for (std::size_t run = 0; covered.size() < n && run < 2 * n; ++run) {
        o.now = 1000 + static_cast<std::int64_t>(run);
        VerifyReport r = verify(*t.repo, o);
        EXPECT_TRUE(r.clean());
        EXPECT_EQ(r.packs_read, (n + 3) / 4);
        for (const auto& p : t.repo->index().packs())
            if (p.last_verified == o.now) {
                EXPECT_TRUE(covered.insert(p.seq).second) << "pack " << p.seq << " read twice";
                order.push_back(p.seq);
            }
    }
    EXPECT_EQ(covered.size(), n);
    // The next run starts over with the pack verified longest ago.
    o.now = 5000;
    verify(*t.repo, o);
    EXPECT_EQ(t.repo->index().pack(order.front())->last_verified, 5000);
}

TEST(Verify, SlicesPartitionThePacks) {
    TestRepo t;
    for (int i = 0; i < 5; ++i) {
        t.write("f" + std::to_string(i), 30000, 20 + static_cast<std::uint64_t>(i));
        t.ingest_src();
    }
    std::uint64_t total = 0;
    for (int k = 1; k <= 3; ++k) {
        VerifyOptions o;
        parse_read_data_subset(std::to_string(k) + "/3", o);
        total += verify(*t.repo, o).packs_read;
    }
    EXPECT_EQ(total, t.repo->index().packs().size());
}

TEST(Verify, SubsetSyntax) {
    VerifyOptions o;
    parse_read_data_subset("2.5%", o);
    EXPECT_EQ(o.read_data, VerifyOptions::ReadData::Percent);
    EXPECT_DOUBLE_EQ(o.percent, 2.5);
    parse_read_data_subset("2/7", o);
    EXPECT_EQ(o.read_data, VerifyOptions::ReadData::Slice);
    EXPECT_EQ(o.slice, 2u);
    EXPECT_EQ(o.slices, 7u);
    for (const char* bad : {"", "%", "0%", "101%", "x%", "0/3", "4/3", "1/0", "1/", "/2", "12", "1/2/3"})
        EXPECT_THROW(parse_read_data_subset(bad, o), StoreError) << bad;
}

}  // namespace
}  // namespace strata
