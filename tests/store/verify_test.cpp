// Verify on real repositories with real damage: a flipped byte in a data blob, in a tree blob and
// in a snapshot record, a truncated pack, a deleted pack, a deleted and a corrupted index. Each is
// reported precisely, as the snapshots and paths it affects; repair-index rebuilds what the packs
// still hold. Also: incremental scrubbing covers the oldest-verified packs first.
#include "store/maintenance/verify.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/verify_read.h"
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

bool has_problem(const VerifyReport& r, const std::string& kind,
                 const std::string& object_part = "") {
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
    // Whether a's trees shared the pack with its data, or had packs of their own.
    const bool trees_lost = t.repo->index().find(t.a.rec.root)->pack == c.pack.seq;
    VerifyReport r = verify(*t.repo, {});
    EXPECT_TRUE(has_problem(r, "pack-missing", c.pack.id.hex())) << describe(r);
    // The pack held all of a's data (and maybe its trees); b reuses one.bin and dir/ from it.
    const std::set<std::string> a_lost =
        trees_lost ? std::set<std::string>{"/"} : std::set<std::string>{"/dir/two.bin", "/one.bin"};
    EXPECT_EQ(affected_paths(r, t.a.id), a_lost) << describe(r);
    auto b_paths = affected_paths(r, t.b.id);
    EXPECT_TRUE(b_paths.count("/one.bin")) << describe(r);
    EXPECT_TRUE(b_paths.count(trees_lost ? "/dir/" : "/dir/two.bin")) << describe(r);
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
    std::string why = probe_index(t.path + "/" + format::kIndexDir, t.path);
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
    for (int i = 0; i < 30; ++i)
        t.write("many" + std::to_string(i), 20000, 50 + static_cast<std::uint64_t>(i));
    t.ingest_src();
    t.repo.reset();
    EXPECT_EQ(probe_index(t.path + "/" + format::kIndexDir, t.path), "");
    // Garble every page after the two meta pages: LMDB follows the page numbers it finds there.
    const std::string data = t.path + "/index/data.mdb";
    std::string bytes = testing::read_file(data);
    for (std::size_t page = 8192; page + 4096 <= bytes.size(); page += 4096)
        for (std::size_t k = 16; k < 200; ++k)
            bytes[page + k] = static_cast<char>(bytes[page + k] ^ 0xa5);
    testing::write_file(data, bytes);
    std::string why = probe_index(t.path + "/" + format::kIndexDir, t.path);
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
    EXPECT_EQ(probe_index(t.path + "/" + format::kIndexDir, t.path), "");
    t.reopen();
    EXPECT_TRUE(verify(*t.repo, read_all()).clean());
}

TEST(Verify, TruncatedIndexThatCrashesLmdbIsReported) {
    Damageable t;
    for (int i = 0; i < 30; ++i)
        t.write("many" + std::to_string(i), 20000, 50 + static_cast<std::uint64_t>(i));
    t.ingest_src();
    t.repo.reset();
    // The meta pages survive and name pages past the end of the file: touching them through
    // LMDB's memory map would raise SIGBUS. The length check refuses the file before LMDB maps it.
    ASSERT_EQ(::truncate((t.path + "/index/data.mdb").c_str(), 3 * 4096), 0);
    std::string why = probe_index(t.path + "/" + format::kIndexDir, t.path);
    EXPECT_NE(why.find("truncated"), std::string::npos) << why;
    EXPECT_NE(why.find("repair-index " + t.path), std::string::npos) << why;
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

// A zero-byte data.mdb gave "Bad file descriptor" with no hint; it is now named, with what to do.
TEST(Verify, EmptyIndexIsReportedNamingTheFileAndWhatToDo) {
    Damageable t;
    t.repo.reset();
    const std::string data = t.path + "/index/data.mdb";
    ASSERT_EQ(::truncate(data.c_str(), 0), 0);
    std::string why = probe_index(t.path + "/" + format::kIndexDir, t.path);
    EXPECT_NE(why.find(data + " is damaged (it is empty (0 bytes))"), std::string::npos) << why;
    EXPECT_NE(why.find("`strata repair-index " + t.path + "`"), std::string::npos) << why;
    EXPECT_THROW(Repository::open(t.path), IndexUnusable);
    auto bare = Repository::open_for_repair(t.path);
    VerifyReport r = verify_without_index(*bare, why, read_all());
    ASSERT_EQ(r.problems.size(), 1u) << describe(r);
    EXPECT_EQ(r.problems[0].kind, "index-unreadable");
    EXPECT_EQ(r.problems[0].detail, why);
    EXPECT_EQ(r.packs_read, r.packs);
    EXPECT_FALSE(r.affected_known);
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
    for (const char* bad :
         {"", "%", "0%", "101%", "x%", "0/3", "4/3", "1/0", "1/", "/2", "12", "1/2/3"})
        EXPECT_THROW(parse_read_data_subset(bad, o), StoreError) << bad;
}

// Many packs, checked by the worker threads: a flipped byte in one of the first packs is found, and
// the report names exactly the file it belongs to, in every snapshot holding it.
TEST(Verify, ParallelReadDataFindsAFlipInAnEarlyPackOfMany) {
    TestRepo t;
    std::vector<Snapshot> snaps;
    for (int i = 0; i < 8; ++i) {  // each ingest closes its own pack
        t.write("f" + std::to_string(i) + ".bin", 60000, 70 + static_cast<std::uint64_t>(i));
        snaps.push_back(t.ingest_src());
    }
    std::vector<PackInfo> packs = t.repo->index().packs();
    ASSERT_GE(packs.size(), 8u);
    std::sort(packs.begin(), packs.end(),
              [](const PackInfo& a, const PackInfo& b) { return a.seq < b.seq; });
    // f1.bin arrived with the second ingest, so its data is in one of the first packs written
    // (the second, or the third when trees have packs of their own): packs before and after it
    // are in flight around it.
    Placed c = place_first_chunk(*t.repo, snaps[1], "f1.bin");
    ASSERT_TRUE(c.pack.seq == packs[1].seq || c.pack.seq == packs[2].seq) << c.pack.seq;
    flip_byte(t.path + "/" + pack_object_name(c.pack.id), c.loc.offset + c.loc.stored_size - 1);
    VerifyOptions o = read_all();
    o.now = 77;
    VerifyReport r = verify(*t.repo, o);
    EXPECT_EQ(r.packs_read, r.packs);
    EXPECT_EQ(r.blobs_read, r.blobs);
    ASSERT_EQ(r.problems.size(), 2u) << describe(r);
    EXPECT_EQ(r.problems[0].kind, "pack-checksum");
    EXPECT_EQ(r.problems[0].object, pack_object_name(c.pack.id));
    EXPECT_EQ(r.problems[1].kind, "blob-damaged");
    EXPECT_EQ(r.problems[1].object, "blob " + c.id.hex());
    ASSERT_EQ(r.affected.size(), 7u) << describe(r);  // every snapshot but the first
    for (std::size_t i = 1; i < snaps.size(); ++i)
        EXPECT_EQ(affected_paths(r, snaps[i].id), std::set<std::string>{"/f1.bin"}) << describe(r);
    for (const auto& p : t.repo->index().packs())
        EXPECT_EQ(p.last_verified, p.seq == c.pack.seq ? 0 : 77) << "pack #" << p.seq;
}

// The pipeline on one pack of several pieces, with one blob the check does not list (as if its
// index entry were gone): every flipped byte, inside a listed blob, in the unlisted stretch, in
// the trailer or in the footer, fails the checksum; one inside a blob fails that blob only; and
// the findings do not depend on the number of workers.
TEST(Verify, ReadDataPiecesDetectEveryKindOfFlippedByte) {
    testing::TempDir dir;
    auto store = open_local_store(dir.path());
    const auto codec = plain_blob_codec(3);
    PackWriter w(store->create(), *codec);
    std::vector<BlobToCheck> listed;
    constexpr std::size_t kBlobs = 8, kBlobSize = 700000;  // about 5.6 MB: two pieces at least
    constexpr std::size_t kUnlisted = 3;
    static_assert(kBlobs * kBlobSize > kReadDataGroupBytes);
    std::uint64_t unlisted_offset = 0;
    for (std::size_t i = 0; i < kBlobs; ++i) {
        Bytes raw(kBlobSize);
        for (std::size_t k = 0; k < raw.size(); ++k)
            raw[k] = static_cast<std::uint8_t>((k * 131 + i * 7) >> 3);
        BlobId id = sha256(raw);
        if (i == kUnlisted)
            unlisted_offset = w.size();
        else
            listed.push_back({id, w.size(), static_cast<std::uint32_t>(raw.size()),
                              static_cast<std::uint32_t>(raw.size()), format::Codec::Raw});
        w.add(id, format::BlobType::Data, format::Codec::Raw, raw,
              static_cast<std::uint32_t>(raw.size()));
    }
    const std::string name = pack_object_name(w.commit());
    const std::string file = dir.path() + "/" + name;
    const std::uint64_t size = store->size(name);
    const std::uint64_t trailer_start =
        size - format::kPackFooterSize - 8 - 4 - kBlobs * format::kPackTrailerEntrySize;

    auto check = [&](unsigned workers) {
        PackToCheck pack{name, true, listed, std::nullopt};
        PackFindings out;
        std::size_t calls = 0;
        check_packs_read_data(
            *store, *plain_blob_codec(3), 1, [&](std::size_t) { return pack; },
            [&](std::size_t i, const PackToCheck&, const PackFindings& f) {
                EXPECT_EQ(i, 0u);
                calls++;
                out = f;
            },
            workers);
        EXPECT_EQ(calls, 1u);
        return out;
    };
    PackFindings clean = check(2);
    EXPECT_FALSE(clean.missing);
    EXPECT_EQ(clean.bytes, size);
    EXPECT_EQ(clean.checksum_problem, "");
    EXPECT_EQ(clean.blob_problems, std::vector<std::string>(listed.size(), ""));

    std::vector<std::uint64_t> flips;
    for (const auto& b : listed) flips.push_back(b.offset);
    flips.push_back(listed.back().offset + listed.back().stored_size - 1);
    flips.push_back(unlisted_offset + kBlobSize / 2);
    for (std::uint64_t at = trailer_start; at < size - format::kPackFooterSize; at += 37)
        flips.push_back(at);
    const std::uint64_t footer = size - format::kPackFooterSize;
    for (std::uint64_t at = footer; at < footer + 4; ++at)
        flips.push_back(at);  // the trailer length
    for (std::uint64_t at = footer + 4; at < size; at += 5) flips.push_back(at);  // magic, checksum
    unsigned workers = 1;
    for (std::uint64_t at : flips) {
        flip_byte(file, at);
        std::vector<std::string> expected(listed.size(), "");
        for (std::size_t i = 0; i < listed.size(); ++i)
            if (at >= listed[i].offset && at < listed[i].offset + listed[i].stored_size)
                expected[i] = "its content does not match its id";
        workers = workers == 1 ? 3 : 1;  // alternately, to keep the test short
        PackFindings f = check(workers);
        EXPECT_NE(f.checksum_problem, "")
            << "byte " << at << " of " << size << ", " << workers << " worker(s)";
        EXPECT_EQ(f.blob_problems, expected) << "byte " << at << ", " << workers << " worker(s)";
        flip_byte(file, at);  // back as it was
    }
    EXPECT_EQ(check(4).checksum_problem, "");
}

// Blobs a crafted index places over each other or past the end: each is judged on its own bytes,
// the checksum still covers the whole pack once, and a vanished pack is reported as missing.
TEST(Verify, ReadDataHandlesOverlappingAndOutOfRangeBlobs) {
    testing::TempDir dir;
    auto store = open_local_store(dir.path());
    const auto codec = plain_blob_codec(3);
    PackWriter w(store->create(), *codec);
    Bytes raw(300000, 0x42);
    const BlobId id = sha256(raw);
    w.add(id, format::BlobType::Data, format::Codec::Raw, raw, 300000);
    const std::string name = pack_object_name(w.commit());
    PackToCheck pack;
    pack.name = name;
    pack.blobs = {{id, 0, 300000, 300000, format::Codec::Raw},
                  {id, 100, 300000, 300000, format::Codec::Raw},  // overlaps the first
                  {sha256(ByteView(raw).subspan(0, 1000)), 0, 1000, 1000, format::Codec::Raw},
                  {id, 10u << 20, 300000, 300000, format::Codec::Raw}};  // past the end
    std::vector<PackFindings> got;
    check_packs_read_data(
        *store, *plain_blob_codec(3), 2,
        [&](std::size_t i) {
            PackToCheck p = pack;
            if (i == 1) p.name = pack_object_name(sha256(as_bytes("no such pack")));
            return p;
        },
        [&](std::size_t, const PackToCheck&, const PackFindings& f) { got.push_back(f); });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].checksum_problem, "");
    EXPECT_EQ(got[0].blob_problems,
              (std::vector<std::string>{"", "its content does not match its id", "",
                                        "it lies past the end of the pack"}));
    EXPECT_TRUE(got[1].missing);
}

}  // namespace
}  // namespace strata
