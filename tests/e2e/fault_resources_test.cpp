// Faults from the operating system, through the real strata binary: too few file descriptors
// (EMFILE) and a filesystem that fills up (ENOSPC on a size-limited tmpfs). Each run must either
// succeed or fail with a message and exit status 1, never crash, and never leave the repository
// inconsistent: verify --read-data stays clean and every snapshot restores identically.
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

// A small source tree of several directories and files, so an ingest keeps many files open.
void make_source(const std::string& root, std::uint64_t seed) {
    ::mkdir(root.c_str(), 0755);
    for (int d = 0; d < 4; ++d) {
        const std::string dir = root + "/d" + std::to_string(d);
        ::mkdir(dir.c_str(), 0755);
        for (int f = 0; f < 6; ++f)
            write_random_file(dir + "/f" + std::to_string(f), 20000 + 7000 * f, seed * 100 + d * 10 + f);
    }
}

// verify --read-data exits 0, and the snapshots, oldest first, restore equal to `sources` (an
// empty source: a partial snapshot, which restores without comparing).
void expect_consistent(const std::string& repo, const std::vector<std::string>& sources,
                       const std::string& scratch, const std::string& context) {
    RunResult v = run_strata({"verify", "--read-data", repo});
    EXPECT_EQ(v.exit_code, 0) << context << ": " << describe(v);
    auto ids = snapshot_ids(repo);
    ASSERT_EQ(ids.size(), sources.size()) << context;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::string target = scratch + "/restore" + std::to_string(i);
        fs::remove_all(target);
        if (sources[i].empty()) {
            RunResult r = run_strata({"restore", repo, ids[i], target});
            EXPECT_EQ(r.exit_code, 0) << context << ", partial snapshot " << i << ": " << describe(r);
        } else {
            CompareOptions co;
            co.root_metadata = false;
            EXPECT_EQ(restore_and_compare(repo, ids[i], target, sources[i], co), "")
                << context << ", snapshot " << i;
        }
        fs::remove_all(target);
    }
}

// Descriptor limits from "cannot open the repository" to "enough"; every one must end cleanly.
// Below 7 the dynamic loader itself cannot load strata's libraries (exit 127 before main).
constexpr int kFdLimits[] = {7, 8, 9, 10, 11, 12, 14, 16, 24, 64};
constexpr const char* kEmfileMessage = "Too many open files";

TEST(FaultResources, IngestWithFewFileDescriptorsFailsCleanlyOrSucceeds) {
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src";
    init_repo(repo);
    make_source(src, 1);
    std::vector<std::string> snapshotted;  // sources of the snapshots made so far
    int failures = 0, successes = 0;
    for (int limit : kFdLimits) {
        const std::string context = "RLIMIT_NOFILE " + std::to_string(limit);
        const std::string lim = "--nofile=" + std::to_string(limit);
        RunResult r = run_process({"prlimit", lim, "--", strata_binary(), "ingest", repo, src});
        EXPECT_EQ(r.signal, 0) << context << ": killed by a signal: " << describe(r);
        EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << context << ": " << r.err;
        if (r.exit_code == 0) {
            ++successes;
            snapshotted.push_back(src);
        } else if (r.exit_code == 127 && r.err.find("error while loading shared libraries") != std::string::npos) {
            // So few descriptors that the dynamic loader could not start strata at all (where
            // that happens depends on the environment): nothing ran, nothing to check but below.
            ++failures;
        } else {
            // Running out of descriptors stops the ingest (exit 1, no snapshot); it must never
            // be mistaken for unreadable files and saved as a nearly empty partial snapshot.
            ++failures;
            EXPECT_EQ(r.exit_code, 1) << context << ": " << describe(r);
            EXPECT_NE(r.err.find(kEmfileMessage), std::string::npos)
                << context << ": a failure says why: " << r.err;
        }
        expect_consistent(repo, snapshotted, dir.path(), context);
        if (::testing::Test::HasFailure()) return;
    }
    // The lowest limit cannot work and the highest must: both ends were exercised.
    EXPECT_GE(failures, 1);
    EXPECT_GE(successes, 1);
    std::printf("descriptor limits: %d failed, %d complete\n", failures, successes);
}

// The ingest's read-ahead (store/ingest/source_read_ahead.h) turns on at this descriptor limit and opens
// descriptors of its own on its threads; the walk holds one per directory level. A tree nested
// nearly as deep as the limit allows must still ingest (or stop cleanly, never crash or hang),
// and with a few dozen descriptors to spare it must complete.
constexpr int kReadAheadLimits[] = {256, 320};
constexpr int kDeepTreeLevels = 230;

TEST(FaultResources, ReadAheadLeavesTheWalkItsDescriptors) {
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src";
    init_repo(repo);
    std::string level = src;
    ASSERT_EQ(::mkdir(level.c_str(), 0755), 0);
    for (int i = 0; i < kDeepTreeLevels; ++i) {
        for (int f = 0; f < 3; ++f) write_file(level + "/f" + std::to_string(f), "level " + std::to_string(i) + "\n");
        level += "/d";
        ASSERT_EQ(::mkdir(level.c_str(), 0755), 0);
    }
    std::vector<std::string> snapshotted;
    int successes = 0;
    for (int limit : kReadAheadLimits) {
        const std::string context = "RLIMIT_NOFILE " + std::to_string(limit);
        const std::string lim = "--nofile=" + std::to_string(limit);
        RunResult r = run_process({"prlimit", lim, "--", strata_binary(), "ingest", repo, src});
        EXPECT_EQ(r.signal, 0) << context << ": killed by a signal: " << describe(r);
        if (r.exit_code == 0) {
            ++successes;
            snapshotted.push_back(src);
        } else {
            EXPECT_EQ(r.exit_code, 1) << context << ": " << describe(r);
            EXPECT_NE(r.err.find(kEmfileMessage), std::string::npos) << context << ": " << r.err;
        }
        expect_consistent(repo, snapshotted, dir.path(), context);
    }
    EXPECT_GE(successes, 1) << "no run completed, even with descriptors to spare";
}

// Size of the small filesystem for the disk-full run: room for the repository and its first
// snapshot, not for the second.
constexpr const char* kTmpfsSize = "size=30m";
constexpr std::size_t kFirstSourceBytes = 2u << 20;
constexpr std::size_t kSecondSourceBytes = 48u << 20;  // incompressible: cannot fit in 30 MiB

// Mounts a tmpfs at `dir` for its lifetime; unmounts in the destructor, whatever happened.
class TmpfsMount {
public:
    TmpfsMount(const std::string& dir, const char* options) : dir_(dir) {
        mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options) == 0;
        if (!mounted_) error_ = std::strerror(errno);
    }
    ~TmpfsMount() {
        if (mounted_ && ::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }

private:
    std::string dir_;
    bool mounted_ = false;
    std::string error_;
};

TEST(FaultResources, IngestOnAFullFilesystemFailsWithENOSPCAndKeepsEarlierSnapshots) {
    TempDir dir;
    const std::string small = dir / "small";
    ::mkdir(small.c_str(), 0700);
    TmpfsMount tmpfs(small, kTmpfsSize);
    if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << tmpfs.error() << "); needs root";
    const std::string repo = small + "/repo", src1 = dir / "src1", src2 = dir / "src2";
    init_repo(repo);
    ::mkdir(src1.c_str(), 0755);
    write_random_file(src1 + "/first.bin", kFirstSourceBytes, 1);
    Ingested first = ingest(repo, {src1});
    ASSERT_EQ(first.run.exit_code, 0) << describe(first.run);

    ::mkdir(src2.c_str(), 0755);
    write_random_file(src2 + "/a.bin", kSecondSourceBytes / 2, 2);
    write_random_file(src2 + "/b.bin", kSecondSourceBytes / 2, 3);
    RunResult full = run_strata({"ingest", repo, src2});
    std::printf("the full disk's ingest said: %s", full.err.c_str());
    EXPECT_EQ(full.exit_code, 1) << describe(full);
    EXPECT_NE(full.err.find(std::strerror(ENOSPC)), std::string::npos)
        << "the message names the error: " << full.err;
    EXPECT_NE(full.err.find(repo), std::string::npos) << "the message names the path: " << full.err;

    expect_consistent(repo, {src1}, dir.path(), "after the disk filled");
    // Space freed (the second source shrunk), a retry succeeds.
    fs::remove(src2 + "/b.bin");
    write_random_file(src2 + "/a.bin", 1u << 20, 2);
    Ingested retry = ingest(repo, {src2});
    EXPECT_EQ(retry.run.exit_code, 0) << describe(retry.run);
    expect_consistent(repo, {src1, src2}, dir.path(), "after the retry");
}

}  // namespace
}  // namespace strata::testing
