// Crash safety: child ingests are really killed (SIGKILL, as `kill -9` would), both at the named
// crash points of the write path and after random delays. After each kill:
//   - every earlier snapshot is intact: it restores to exactly its source;
//   - the interrupted snapshot is absent, except after "snapshot-file-written": its record is
//     durable in snapshots/, which is the repository's truth, so it counts as complete and is
//     listed once a writer has reconciled the index with snapshots/;
//   - the next ingest succeeds and reuses what was already stored (bytes_added well below the
//     data size when packs had been written and indexed).
// Also: repair-index rebuilds a deleted index from the packs and snapshot records alone. The
// named points and the random kills run against a local repository and (in s3_tests) one on S3
// (tests/testlib/backend.h); the tests of the local LMDB index run locally only.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "store/format/format.h"
#include "tests/e2e/e2e_support.h"
#include "tests/testlib/backend.h"

namespace strata::testing {
namespace {

// Enough data for several packs (they close at format::kPackTargetSize, 16 MiB), still quick.
constexpr int kBigFiles = 12;
constexpr std::size_t kBigFileSize = 8u << 20;
constexpr int kSmallFiles = 100;
constexpr std::uint64_t kDataSize = std::uint64_t{kBigFiles} * kBigFileSize;

class CrashTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        data_ = new TempDir();
        const std::string base = *data_ / "base", big = *data_ / "big";
        ::mkdir(base.c_str(), 0755);
        write_file(base + "/notes.txt", "the snapshot taken before the crashes\n");
        ::mkdir((base + "/sub").c_str(), 0755);
        write_random_file(base + "/sub/data.bin", 300000, 100);
        ::mkdir(big.c_str(), 0755);
        ::mkdir((big + "/small").c_str(), 0755);
        for (int i = 0; i < kBigFiles; ++i)
            write_random_file(big + "/file" + std::to_string(i) + ".bin", kBigFileSize, 200 + i);
        for (int i = 0; i < kSmallFiles; ++i)
            write_file(big + "/small/s" + std::to_string(i), random_data(4096, 1000 + i));
        base_scan_ = new TreeScan(scan_tree(base));
        big_scan_ = new TreeScan(scan_tree(big));
    }
    static void TearDownTestSuite() {
        delete base_scan_;
        delete big_scan_;
        delete data_;
    }

    void SetUp() override {
        repo_ = new_repository_location(dir_, "repo");
        init_repo(repo());
        Ingested b = ingest(repo(), {base()});
        ASSERT_EQ(b.run.exit_code, 0) << describe(b.run);
        base_id_ = b.id;
    }

    static std::string base() { return *data_ / "base"; }
    static std::string big() { return *data_ / "big"; }
    const std::string& repo() const { return repo_; }

    // Restores `id` into a fresh directory and compares it with `expected`.
    std::string restored_differences(const std::string& id, const TreeScan& expected) {
        const std::string target = dir_ / ("restore-" + std::to_string(restores_++));
        RunResult r = run_strata({"restore", repo(), id, target});
        if (r.exit_code != 0) return "restore of " + id + " failed: " + describe(r);
        auto diffs = compare_trees(expected, scan_tree(target));
        remove_tree(target);
        std::string s;
        for (const auto& d : diffs) s += d + "\n";
        return s;
    }

    // The base snapshot is still listed and restores exactly.
    void expect_base_intact() {
        auto ids = snapshot_ids(repo());
        ASSERT_FALSE(ids.empty());
        EXPECT_EQ(ids.front(), base_id_);
        EXPECT_EQ(restored_differences(base_id_, *base_scan_), "");
    }

    static TempDir* data_;
    static TreeScan *base_scan_, *big_scan_;
    TempDir dir_;
    std::string repo_;
    std::string base_id_;
    int restores_ = 0;
};
TempDir* CrashTest::data_ = nullptr;
TreeScan* CrashTest::base_scan_ = nullptr;
TreeScan* CrashTest::big_scan_ = nullptr;

struct CrashCase {
    const char* point;        // STRATA_TEST_CRASH_AT
    bool snapshot_survives;   // the record was durable before the kill
    std::uint64_t max_retry_added;  // bytes the retry may add at most
};

class CrashAtPoint : public CrashTest, public ::testing::WithParamInterface<CrashCase> {};

TEST_P(CrashAtPoint, RepositoryStaysConsistent) {
    const CrashCase& c = GetParam();
    Ingested crashed = ingest(repo(), {big()}, {}, {std::string("STRATA_TEST_CRASH_AT=") + c.point});
    ASSERT_EQ(crashed.run.signal, SIGKILL) << "the ingest was not killed at " << c.point << ": "
                                           << describe(crashed.run);

    // Readers work right after the crash, and nothing half-written is listed.
    auto ids = snapshot_ids(repo());
    ASSERT_GE(ids.size(), 1u);
    ASSERT_LE(ids.size(), c.snapshot_survives ? 2u : 1u) << "an interrupted snapshot is listed";
    expect_base_intact();

    Ingested retry = ingest(repo(), {big()});
    ASSERT_EQ(retry.run.exit_code, 0) << describe(retry.run);
    ids = snapshot_ids(repo());
    if (c.snapshot_survives) {
        // The record written before the kill is a complete snapshot and the retry's parent.
        ASSERT_EQ(ids.size(), 3u) << "the snapshot whose record was durable is missing";
        EXPECT_EQ(retry.summary["parent"], ids[1]);
        EXPECT_EQ(restored_differences(ids[1], *big_scan_), "");
    } else {
        ASSERT_EQ(ids.size(), 2u);
        EXPECT_TRUE(retry.summary["parent"].is_null());
    }
    EXPECT_EQ(ids.back(), retry.id);
    const auto added = retry.summary["bytes_added"].get<std::uint64_t>();
    EXPECT_LE(added, c.max_retry_added) << "the retry did not reuse the chunks stored before the crash";
    EXPECT_EQ(restored_differences(retry.id, *big_scan_), "");
    expect_base_intact();
    if (!kRepositoriesOnS3) {
        // The writer cleared partial writes.
        TreeScan tmp = scan_tree(repo() + "/" + format::kTmpDir);
        EXPECT_EQ(tmp.size(), 1u) << "tmp/ still holds partial writes";
    }
}

constexpr std::uint64_t kPack = format::kPackTargetSize;
// Slack over the data the retry has to store: trees, the last partial chunk, compression frames.
constexpr std::uint64_t kSlack = 4u << 20;

INSTANTIATE_TEST_SUITE_P(
    NamedPoints, CrashAtPoint,
    ::testing::Values(
        // The first pack is durable but not indexed: the retry indexes it and reuses its blobs.
        CrashCase{"pack-written:1", false, kDataSize - kPack + kSlack},
        // Two packs are durable and indexed: their blobs must not be stored again.
        CrashCase{"pack-indexed:2", false, kDataSize - 2 * kPack + kSlack},
        // Every blob is durable and indexed; only the snapshot record is missing.
        CrashCase{"before-snapshot", false, 64u << 10},
        // The record is durable: it counts as complete, and the retry is incremental on it.
        CrashCase{"snapshot-file-written", true, 64u << 10}),
    [](const ::testing::TestParamInfo<CrashCase>& info) {
        std::string n = info.param.point;
        for (auto& ch : n)
            if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        return n;
    });

// kill -9 at random moments. Each round ingests its own directory (so a snapshot's paths say which
// source it must equal) holding data shared with the other rounds and one new file, so every
// ingest has something to write.
TEST_F(CrashTest, SigkillAtRandomMoments) {
    constexpr int kRounds = 5;
    std::map<std::string, TreeScan> sources;  // by absolute path
    std::vector<std::string> dirs;
    for (int round = 0; round < kRounds; ++round) {
        const std::string src = dir_ / ("round" + std::to_string(round));
        ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
        for (int i = 0; i < 2; ++i) write_random_file(src + "/shared" + std::to_string(i), kBigFileSize, 300 + i);
        write_random_file(src + "/new", kBigFileSize, 400 + round);
        write_random_file(src + "/new2", kBigFileSize / 2, 500 + round);
        sources[src] = scan_tree(src);
        dirs.push_back(src);
    }
    // Time one full ingest into a scratch repository to spread the kills over its duration.
    const std::string scratch = new_repository_location(dir_, "scratch");
    init_repo(scratch);
    auto t0 = std::chrono::steady_clock::now();
    Ingested full = ingest(scratch, {dirs[0]});
    ASSERT_EQ(full.run.exit_code, 0) << describe(full.run);
    const int full_ms = std::max(
        50, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - t0).count()));
    if (!kRepositoriesOnS3) remove_tree(scratch);

    std::mt19937 rng(20240607);
    std::vector<std::string> before = snapshot_ids(repo());
    int killed = 0;
    for (int round = 0; round < kRounds; ++round) {
        ChildProcess child({strata_binary(), "ingest", repo(), dirs[round]});
        // Mostly inside the ingest; the last round late, around the end, where the record is saved.
        const int delay = round + 1 < kRounds ? std::uniform_int_distribution<int>(5, full_ms * 4 / 5)(rng)
                                              : std::uniform_int_distribution<int>(full_ms / 2, full_ms * 3 / 2)(rng);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        child.kill(SIGKILL);
        RunResult r = child.wait();
        killed += r.signal == SIGKILL;
        SCOPED_TRACE("round " + std::to_string(round) + ", killed after " + std::to_string(delay) + " ms of ~" +
                     std::to_string(full_ms));
        // Earlier snapshots are all still there, in order. New ones (this round's, if the kill
        // came after its record was indexed, or an earlier round's record the next writer
        // indexed) must be complete: each restores to exactly the source its paths name.
        RunResult listed = run_strata({"snapshots", "--json", repo()});
        ASSERT_EQ(listed.exit_code, 0) << describe(listed);
        Json after = Json::parse(listed.out);
        ASSERT_GE(after.size(), before.size());
        for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i]["id"], before[i]);
        for (std::size_t i = before.size(); i < after.size(); ++i) {
            const std::string path = after[i]["paths"][0];
            ASSERT_TRUE(sources.count(path)) << path;
            EXPECT_EQ(restored_differences(after[i]["id"], sources[path]), "") << "snapshot of " << path;
        }
        EXPECT_LE(after.size(), before.size() + 2);
        expect_base_intact();
        before.clear();
        for (const auto& s : after) before.push_back(s["id"]);
    }
    std::cout << "[ info     ] " << killed << " of " << kRounds << " ingests killed (full ingest ~" << full_ms
              << " ms)\n";
    EXPECT_GT(killed, 0) << "no round was killed mid-ingest; the delays are too long";

    for (const auto& src : dirs) {
        Ingested again = ingest(repo(), {src});
        ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
        EXPECT_EQ(restored_differences(again.id, sources[src]), "");
    }
    expect_base_intact();
}

#if !STRATA_TEST_ON_S3
// On S3 the index is a cache: S3Repository.ALostCacheIsRebuiltFromTheBucket.
TEST_F(CrashTest, RepairIndexRebuildsFromPacksAndRecords) {
    Ingested b = ingest(repo(), {big()}, {"--tag", "big"});
    ASSERT_EQ(b.run.exit_code, 0) << describe(b.run);
    RunResult listed = run_strata({"snapshots", "--json", repo()});
    ASSERT_EQ(listed.exit_code, 0);

    remove_tree(repo() + "/" + format::kIndexDir);
    RunResult broken = run_strata({"snapshots", repo()});
    EXPECT_EQ(broken.exit_code, 1) << describe(broken);
    EXPECT_NE(broken.err.find("repair-index"), std::string::npos) << broken.err;

    RunResult repair = run_strata({"repair-index", repo()});
    ASSERT_EQ(repair.exit_code, 0) << describe(repair);
    RunResult relisted = run_strata({"snapshots", "--json", repo()});
    ASSERT_EQ(relisted.exit_code, 0) << describe(relisted);
    EXPECT_EQ(Json::parse(relisted.out), Json::parse(listed.out));
    EXPECT_EQ(restored_differences(b.id, *big_scan_), "");
    expect_base_intact();
    // And the rebuilt index serves dedup: the same data adds nothing.
    Ingested again = ingest(repo(), {big()}, {"--force-reread"});
    ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
    EXPECT_LT(again.summary["bytes_added"].get<std::uint64_t>(), 64u << 10);
}

// The ingest compacts the index after its snapshot is saved (STRATA_TEST_COMPACT_INDEX=1 makes it
// compact whatever the index's state). Killed after writing the compacted copy, or right after
// renaming it over data.mdb: the saved snapshot and every earlier one stay readable by a fresh
// process, and the next writer finishes the job and leaves no copy behind.
TEST_F(CrashTest, KilledWhileCompactingTheIndex) {
    const std::string index = repo() + "/" + format::kIndexDir;
    for (const char* point : {"index-compact-written", "index-compact-renamed"}) {
        SCOPED_TRACE(point);
        const auto before = snapshot_ids(repo());
        Ingested crashed = ingest(repo(), {base()}, {},
                                  {std::string("STRATA_TEST_CRASH_AT=") + point, "STRATA_TEST_COMPACT_INDEX=1"});
        ASSERT_EQ(crashed.run.signal, SIGKILL) << "the ingest was not killed at " << point << ": "
                                               << describe(crashed.run);
        auto ids = snapshot_ids(repo());
        ASSERT_EQ(ids.size(), before.size() + 1) << "the snapshot saved before the compaction is missing";
        EXPECT_EQ(restored_differences(ids.back(), *base_scan_), "");
        expect_base_intact();

        Ingested next = ingest(repo(), {base()}, {}, {"STRATA_TEST_COMPACT_INDEX=1"});
        ASSERT_EQ(next.run.exit_code, 0) << describe(next.run);
        EXPECT_FALSE(::access((index + "/data.mdb.compact").c_str(), F_OK) == 0)
            << "the copy of the killed compaction is still there";
        ids = snapshot_ids(repo());
        ASSERT_EQ(ids.size(), before.size() + 2);
        EXPECT_EQ(restored_differences(next.id, *base_scan_), "");
    }
    RunResult verify = run_strata({"verify", repo()});
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);
}
#endif

}  // namespace
}  // namespace strata::testing
