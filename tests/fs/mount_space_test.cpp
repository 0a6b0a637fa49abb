// df and du through a real mount: the mount reports the repository's stored size as used and the
// free space where the repository lives as available (not "100% full"), and du of a snapshot
// matches du of its source. Skipped, with the reason printed, where /dev/fuse is missing.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fs/node.h"
#include "tests/testlib/mount_support.h"
#include "tests/testlib/process.h"
#include "tests/testlib/temp_dir.h"

namespace strata::testing {
namespace {

// What `du -s --block-size=1` says of `path`.
std::uint64_t du_bytes(const std::string& path) {
    auto r = run_process({"du", "-s", "--block-size=1", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::stoull(r.out);
}

std::uint64_t pack_bytes(const std::string& repo) {
    std::uint64_t total = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(repo + "/packs"))
        if (e.is_regular_file()) total += e.file_size();
    return total;
}

TEST(MountSpaceTest, DfShowsTheRepositoryAndTheRoomBesideItAndDuMatchesTheSource) {
    SKIP_WITHOUT_FUSE();
    TempDir dir;
    const std::string src = dir / "src", repo = dir / "repo", mnt = dir / "mnt";
    ::mkdir(src.c_str(), 0755);
    ::mkdir(mnt.c_str(), 0755);
    // Small files (one block each), a file ending mid-block, nested directories, a sparse file
    // and a long symlink: what a restore allocates for each differs from its size.
    for (int d = 0; d < 5; ++d) {
        std::string sub = src + "/d" + std::to_string(d);
        ::mkdir(sub.c_str(), 0755);
        for (int f = 0; f < 20; ++f)
            std::ofstream(sub + "/f" + std::to_string(f)) << std::string(100 * f + 1, 'a' + d);
    }
    std::ofstream(src + "/odd") << std::string(3 * 4096 + 17, 'o');
    {
        std::ofstream sparse(src + "/sparse");
        sparse.seekp(8 << 20);
        sparse << std::string(5000, 's');
    }
    ASSERT_EQ(::symlink(std::string(100, 'x').c_str(), (src + "/longlink").c_str()), 0);
    ASSERT_EQ(run_strata({"init", "--encryption", "none", repo}).exit_code, 0);
    auto in = run_strata({"ingest", repo, src});
    ASSERT_EQ(in.exit_code, 0) << in.err;

    MountProcess m(repo, mnt);
    struct statvfs st {
    }, here{};
    ASSERT_EQ(::statvfs(mnt.c_str(), &st), 0);
    ASSERT_EQ(::statvfs(repo.c_str(), &here), 0);
    const std::uint64_t stored = pack_bytes(repo);
    const std::uint64_t size = st.f_blocks * st.f_frsize, avail = st.f_bavail * st.f_frsize;
    const std::uint64_t used = (st.f_blocks - st.f_bfree) * st.f_frsize;
    // Used is what the packs hold (rounded up to a block), available is the room where the
    // repository lives (which other processes may change a little meanwhile).
    EXPECT_GE(used, stored);
    EXPECT_LT(used, stored + st.f_frsize);
    const std::uint64_t free_here = here.f_bavail * here.f_frsize;
    EXPECT_NEAR(static_cast<double>(avail), static_cast<double>(free_here), 64.0 * (1 << 20));
    EXPECT_GT(avail, 0u);
    EXPECT_EQ(size, used + avail);
    EXPECT_GT(st.f_ffree, 0u);  // not "every inode used"
    EXPECT_GE(st.f_files, st.f_ffree + 100);

    // du of the snapshot is du of the source (the source's directories may have grown past one
    // block on other file systems; here every one is small).
    const std::string snap = mnt + "/snapshots/latest/";
    struct stat src_dir {};
    ASSERT_EQ(::stat(src.c_str(), &src_dir), 0);
    if (src_dir.st_blocks == 8) {  // not so on tmpfs, whose directories take no blocks
        std::uint64_t want = du_bytes(src), got = du_bytes(snap);
        EXPECT_NEAR(static_cast<double>(got), static_cast<double>(want), want * 0.02)
            << "du of the source " << want << ", through the mount " << got;
    }
    EXPECT_EQ(du_bytes(snap + "sparse"), du_bytes(src + "/sparse"));
    EXPECT_EQ(du_bytes(snap + "odd"), du_bytes(src + "/odd"));
    EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST(MountSpaceTest, AllocatedBlocksCountEachTouchedBlockOnce) {
    TreeEntry f;
    f.type = EntryType::File;
    f.size = 20000;
    EXPECT_EQ(fs::attr_of(f).blocks, 0u);  // empty: nothing allocated
    f.chunks = {{0, {}, 1}};
    EXPECT_EQ(fs::attr_of(f).blocks, 8u);
    // Two chunks sharing block 1 (4096..8191) count it once; the hole 8192..12287 costs nothing.
    f.chunks = {{0, {}, 5000}, {5000, {}, 3000}, {12288, {}, 4097}};
    EXPECT_EQ(fs::attr_of(f).blocks, 8u * (2 + 2));
    TreeEntry d;
    d.type = EntryType::Dir;
    EXPECT_EQ(fs::attr_of(d).blocks, 8u);
    EXPECT_EQ(fs::attr_of(d).size, 4096u);
    TreeEntry l;
    l.type = EntryType::Symlink;
    l.size = 59;
    EXPECT_EQ(fs::attr_of(l).blocks, 0u);
    l.size = 60;
    EXPECT_EQ(fs::attr_of(l).blocks, 8u);
}

}  // namespace
}  // namespace strata::testing
