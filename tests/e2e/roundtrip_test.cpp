// Ingest a tree holding every kind of entry, restore it, and compare source and copy entry by
// entry with an independent walker: type, mode, owner, size, mtime (ns), content, symlink target,
// device numbers, xattrs (ACLs and capabilities included), holes and hard-link grouping. Runs
// against a local repository and (in s3_tests) one on S3: tests/testlib/backend.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <memory>

#include "tests/e2e/e2e_support.h"
#include "tests/testlib/backend.h"

namespace strata::testing {
namespace {

class EveryKindRoundTrip : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!running_as_root()) return;
        dir_ = new TempDir();
        make_every_kind_tree(source());
        repo_ = new std::string(new_repository_location(*dir_, "repo"));
        init_repo(repo());
        ingested_ = new Ingested(ingest(repo(), {source()}));
    }
    static void TearDownTestSuite() {
        delete ingested_;
        delete repo_;
        delete dir_;
        ingested_ = nullptr;
        repo_ = nullptr;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!running_as_root())
            GTEST_SKIP() << "needs root: device nodes, chown, trusted.* and security.* xattrs";
        ASSERT_EQ(ingested_->run.exit_code, 0) << describe(ingested_->run);
        ASSERT_FALSE(ingested_->id.empty()) << describe(ingested_->run);
    }
    static std::string source() { return *dir_ / "src"; }
    static const std::string& repo() { return *repo_; }
    static std::string fresh(const std::string& name) { return *dir_ / name; }

    static TempDir* dir_;
    static std::string* repo_;
    static Ingested* ingested_;
};
TempDir* EveryKindRoundTrip::dir_ = nullptr;
std::string* EveryKindRoundTrip::repo_ = nullptr;
Ingested* EveryKindRoundTrip::ingested_ = nullptr;

// The generator really made every kind of entry (otherwise the round trip proves little).
TEST_F(EveryKindRoundTrip, SourceHoldsEveryKind) {
    TreeScan s = scan_tree(source());
    std::map<unsigned, int> types;
    for (const auto& [p, e] : s) types[e.type]++;
    for (unsigned t : {S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK})
        EXPECT_GT(types[t], 0) << "no entry of type " << std::oct << t;
    EXPECT_EQ(s.at("links/a").nlink, 3u);
    EXPECT_TRUE(s.at("sparse.bin").sparse());
    EXPECT_EQ(s.at("sparse.bin").extents.size(), 3u);
    EXPECT_TRUE(s.at("hole_only.bin").extents.empty());
    EXPECT_EQ(s.at("modes/setuid").mode, 04755u);
    EXPECT_EQ(s.at("modes/sticky_dir").mode, 01777u);
    EXPECT_LT(s.at("ancient").mtime_sec, 0);
    EXPECT_TRUE(s.at("xattrs/acl").xattrs.count("system.posix_acl_access"));
    EXPECT_TRUE(s.at("xattrs/acl_dir").xattrs.count("system.posix_acl_default"));
    EXPECT_TRUE(s.at("xattrs/cap").xattrs.count("security.capability"));
    EXPECT_TRUE(s.at("xattrs/file").xattrs.count("trusted.t"));
    EXPECT_TRUE(s.at("xattrs/symlink").xattrs.count("trusted.l"));
    EXPECT_GT(long_chain_file().size(), 4096u);
    EXPECT_TRUE(s.count(long_chain_file()));
    EXPECT_TRUE(s.count("names/line\nbreak"));
    EXPECT_TRUE(s.count("names/\xff\xfe-latin1-\xe9"));
}

TEST_F(EveryKindRoundTrip, IngestReportsNoWarnings) {
    const Json& j = ingested_->summary;
    EXPECT_FALSE(j["partial"].get<bool>());
    EXPECT_TRUE(j["warnings"].empty()) << j["warnings"].dump();
    EXPECT_TRUE(j["parent"].is_null());
    // Every regular file, counted once per name.
    TreeScan s = scan_tree(source());
    std::uint64_t files = 0, dirs = 0;
    for (const auto& [p, e] : s) {
        files += e.type == S_IFREG;
        dirs += e.type == S_IFDIR;
    }
    EXPECT_EQ(j["files"].get<std::uint64_t>(), files);
    EXPECT_EQ(j["dirs"].get<std::uint64_t>(), dirs);
}

TEST_F(EveryKindRoundTrip, RestoreIsExactEntryByEntry) {
    const std::string target = fresh("restore-all");
    RunResult r = run_strata({"restore", repo(), ingested_->id, target});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
    EXPECT_EQ(tree_differences(source(), target), "");
    // Spelled out, for the properties most likely to regress silently.
    TreeScan t = scan_tree(target);
    EXPECT_EQ(t.at("links/a").ino, t.at("links/b").ino);
    EXPECT_EQ(t.at("links/a").ino, t.at("links/sub/c").ino);
    EXPECT_NE(t.at("links/a").ino, t.at("links/x").ino);
    TreeScan s = scan_tree(source());
    EXPECT_EQ(t.at("sparse.bin").blocks, s.at("sparse.bin").blocks);
    EXPECT_LT(t.at("sparse.bin").blocks * 512, 1 << 20);
    EXPECT_EQ(t.at("hole_only.bin").blocks, 0);
    EXPECT_EQ(t.at("special/char").rdev, s.at("special/char").rdev);
    EXPECT_EQ(t.at("").mode, 0751u);
    EXPECT_EQ(t.at("").uid, 1234u);
}

// A second ingest of the unchanged tree reuses everything (same root tree, nothing added) and
// still restores exactly: the metadata of files not re-read (xattrs, ACLs, links) is carried.
TEST_F(EveryKindRoundTrip, UnchangedReingestIsIdenticalAndExact) {
    Ingested again = ingest(repo(), {source()});
    ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
    EXPECT_EQ(again.summary["parent"], ingested_->id);
    EXPECT_EQ(again.summary["tree"], ingested_->summary["tree"]);
    EXPECT_EQ(again.summary["bytes_added"], 0u);
    EXPECT_EQ(again.summary["files"], ingested_->summary["files"]);
    const std::string target = fresh("restore-second");
    RunResult r = run_strata({"restore", repo(), again.id, target});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(source(), target), "");
}

// The comparison above can fail: damage a restored copy in every way it checks and see each one.
TEST_F(EveryKindRoundTrip, ComparisonNoticesEveryKindOfDifference) {
    const std::string t = fresh("restore-damaged");
    RunResult r = run_strata({"restore", repo(), "latest", t});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    ASSERT_EQ(tree_differences(source(), t), "");
    ASSERT_EQ(::chmod((t + "/small.txt").c_str(), 0600), 0);
    ASSERT_EQ(::lchown((t + "/owned/link").c_str(), 1, 1), 0);
    struct timespec ts[2] = {{1500000000, 1}, {1500000000, 1}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (t + "/symlinks/rel").c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
    ASSERT_EQ(::lremovexattr((t + "/xattrs/file").c_str(), "user.a"), 0);
    ASSERT_EQ(::lremovexattr((t + "/xattrs/acl_dir").c_str(), "system.posix_acl_default"), 0);
    {
        int fd = ::open((t + "/sparse.bin").c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        std::string zeros(4096, '\0');
        ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), 1 << 20), 4096);  // fills part of a hole
        ::close(fd);
        fd = ::open((t + "/big.bin").c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::pwrite(fd, "X", 1, 5 << 20), 1);
        ::close(fd);
    }
    std::string b = read_file(t + "/links/b");
    ASSERT_EQ(::unlink((t + "/links/b").c_str()), 0);
    write_file(t + "/links/b", b);  // same content, no longer the same inode
    ASSERT_EQ(::unlink((t + "/symlinks/dangling").c_str()), 0);
    ASSERT_EQ(::symlink("does/not/exist2", (t + "/symlinks/dangling").c_str()), 0);
    write_file(t + "/extra", "");
    ASSERT_EQ(::unlink((t + "/special/fifo").c_str()), 0);

    std::string d = tree_differences(source(), t);
    for (const char* expect :
         {"small.txt: mode", "owned/link: owner", "symlinks/rel: mtime", "xattrs/file: xattr user.a missing",
          "xattrs/acl_dir: xattr system.posix_acl_default missing", "sparse.bin: data extents",
          "sparse.bin: st_blocks", "big.bin: content", "links/a: hard links", "links/b: link count",
          "symlinks/dangling: symlink target", "extra: unexpected entry", "special/fifo: missing"})
        EXPECT_NE(d.find(expect), std::string::npos) << "not reported: " << expect << "\n" << d;
}

TEST_F(EveryKindRoundTrip, RestoreOfASubdirectory) {
    const std::string target = fresh("restore-links");
    RunResult r = run_strata({"restore", repo(), ingested_->id.substr(0, 8), target, "--path", "links"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(source() + "/links", target), "");
    EXPECT_FALSE(scan_tree(target).count("small.txt"));
}

TEST_F(EveryKindRoundTrip, RestoreOfASingleFile) {
    const std::string target = fresh("restore-file");
    RunResult r = run_strata({"restore", repo(), "latest", target, "--path", "/xattrs/cap"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    TreeScan t = scan_tree(target), s = scan_tree(source());
    ASSERT_EQ(t.size(), 2u);  // the target and the file
    auto diffs = compare_trees({{"cap", [&] { auto e = s.at("xattrs/cap"); e.path = "cap"; return e; }()}},
                               {{"cap", t.at("cap")}});
    EXPECT_TRUE(diffs.empty()) << diffs.front();
}

TEST_F(EveryKindRoundTrip, RestoreRefusesANonEmptyTarget) {
    const std::string target = fresh("restore-nonempty");
    ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
    write_file(target + "/small.txt", "mine, do not touch\n");
    RunResult r = run_strata({"restore", repo(), "latest", target});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
    EXPECT_EQ(read_file(target + "/small.txt"), "mine, do not touch\n");
    EXPECT_EQ(scan_tree(target).size(), 2u) << "restore wrote into a non-empty target";

    r = run_strata({"restore", repo(), "latest", target, "--overwrite"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(source(), target), "");
}

TEST_F(EveryKindRoundTrip, CatFollowsPathsLongerThanPathMax) {
    RunResult r = run_strata({"cat", repo(), "latest", long_chain_file()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, "at the bottom of a path longer than PATH_MAX\n");
}

TEST_F(EveryKindRoundTrip, CatWritesHolesAsZeros) {
    RunResult r = run_strata({"cat", repo(), "latest", "sparse.bin"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, read_file(source() + "/sparse.bin"));
    r = run_strata({"cat", repo(), "latest", "big.bin"});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.out == read_file(source() + "/big.bin"));
}

TEST_F(EveryKindRoundTrip, LsShowsMetadata) {
    RunResult r = run_strata({"ls", repo(), "latest", "special", "-l"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("crw--w---- "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("300, 70000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("brw-rw---- "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("8, 1 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("prw-r----- "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("srw"), std::string::npos) << r.out;

    r = run_strata({"ls", repo(), "latest", "names"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("names/line\\nbreak\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "terminal escapes must not reach the output";
}

}  // namespace
}  // namespace strata::testing
