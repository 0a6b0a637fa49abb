// `strata dump`: a directory of a snapshot as tar, extracted by GNU tar and by bsdtar into a
// tree equal to the source; as zip; a single file raw. Write errors and damaged
// blobs fail loudly, and an archive never goes to a terminal.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

bool have(const std::string& program) {
    return shell("command -v " + program + " >/dev/null").exit_code == 0;
}

class Dump : public ::testing::Test {
  protected:
    void SetUp() override {
        init_repo(repo);
        ::mkdir(src.c_str(), 0755);
        write_file(src + "/a.txt", "hello\n");
        ::chmod((src + "/a.txt").c_str(), 0640);
        ASSERT_EQ(::setxattr((src + "/a.txt").c_str(), "user.origin", "dump test", 9, 0), 0);
        ::mkdir((src + "/docs").c_str(), 0750);
        write_random_file(src + "/docs/big.bin", 3u << 20, 9);
        ::link((src + "/a.txt").c_str(), (src + "/docs/hard").c_str());
        ::symlink("../a.txt", (src + "/docs/link").c_str());
        ::mkdir((src + "/empty").c_str(), 0700);
        // 8 MiB with data in two places: the rest is holes.
        int fd = ::open((src + "/sparse.img").c_str(), O_CREAT | O_WRONLY, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::pwrite(fd, "start", 5, 0), 5);
        ASSERT_EQ(::pwrite(fd, "middle", 6, 4u << 20), 6);
        ASSERT_EQ(::ftruncate(fd, 8u << 20), 0);
        ::close(fd);
        // An ACL, if the file system and the tools have them.
        has_acl = run_process({"setfacl", "-m", "u:4242:rw", src + "/docs"}).exit_code == 0;
        stamp_mtimes(src, 1700000000);
        Ingested i = ingest(repo, {src});
        ASSERT_EQ(i.run.exit_code, 0) << describe(i.run);
        id = i.id;
    }

    // `strata dump REPO ID ARGS... > FILE`; the run's output is in the file, its stderr in err.
    RunResult dump_to(const std::string& file, const std::string& args) {
        return shell("\"$S\" dump " + sh_quoted(repo) + " " + id + " " + args + " > " +
                     sh_quoted(file));
    }

    TempDir dir;
    std::string repo = dir / "repo", src = dir / "src";
    std::string id;
    bool has_acl = false;
};

TEST_F(Dump, TarOfTheWholeSnapshotExtractsToTheSourceTree) {
    RunResult r = dump_to(dir / "all.tar", "/");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    ::mkdir((dir / "x").c_str(), 0755);
    RunResult tar = run_process({"tar", "-x", "--xattrs", "--xattrs-include=*", "--acls", "-p",
                                 "-f", dir / "all.tar", "-C", dir / "x"});
    ASSERT_EQ(tar.exit_code, 0) << describe(tar);
    EXPECT_EQ(tar.err, "") << "GNU tar understood every header";
    CompareOptions opts;
    opts.root_metadata = false;  // the snapshot's root is not an entry of the archive
    EXPECT_EQ(tree_differences(src, dir / "x", opts), "");
    TreeScan x = scan_tree(dir / "x");
    EXPECT_TRUE(x.at("sparse.img").sparse()) << "restored with holes";
    EXPECT_EQ(x.at("a.txt").xattrs.at("user.origin"), "dump test");
    EXPECT_EQ(x.at("a.txt").nlink, 2u);
    if (has_acl) {
        EXPECT_TRUE(x.at("docs").xattrs.count("system.posix_acl_access"));
    }
}

TEST_F(Dump, BsdtarExtractsTheSameTree) {
    ASSERT_TRUE(have("bsdtar")) << "bsdtar is not installed (.ci/install-deps installs "
                                   "libarchive-tools)";
    ASSERT_EQ(dump_to(dir / "all.tar", "/").exit_code, 0);
    ::mkdir((dir / "x").c_str(), 0755);
    RunResult tar = run_process(
        {"bsdtar", "-x", "-p", "--xattrs", "--acls", "-f", dir / "all.tar", "-C", dir / "x"});
    ASSERT_EQ(tar.exit_code, 0) << describe(tar);
    CompareOptions opts;
    opts.root_metadata = false;
    EXPECT_EQ(tree_differences(src, dir / "x", opts), "");
}

TEST_F(Dump, ADirectoryIsArchivedUnderItsPathInTheSnapshot) {
    ASSERT_EQ(dump_to(dir / "docs.tar", "docs/").exit_code, 0);
    RunResult list = run_process({"tar", "-t", "-f", dir / "docs.tar"});
    ASSERT_EQ(list.exit_code, 0) << describe(list);
    EXPECT_EQ(list.out, "docs/\ndocs/big.bin\ndocs/hard\ndocs/link\n");
    ::mkdir((dir / "x").c_str(), 0755);
    ASSERT_EQ(run_process({"tar", "-x", "-p", "-f", dir / "docs.tar", "-C", dir / "x"}).exit_code,
              0);
    EXPECT_EQ(read_file(dir / "x/docs/big.bin"), read_file(src + "/docs/big.bin"));
    // The hard link's other name is outside docs/: the first name inside holds the data.
    EXPECT_EQ(read_file(dir / "x/docs/hard"), "hello\n");
}

TEST_F(Dump, ZipHoldsEveryFileAndPassesItsOwnTest) {
    RunResult r = dump_to(dir / "all.zip", "/ --archive zip");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    RunResult t = run_process({"python3", "-m", "zipfile", "-t", dir / "all.zip"});
    EXPECT_EQ(t.exit_code, 0) << describe(t);
    if (have("unzip")) {
        RunResult u = run_process({"unzip", "-tq", dir / "all.zip"});
        EXPECT_EQ(u.exit_code, 0) << describe(u);
    }
    RunResult x = run_process({"python3", "-m", "zipfile", "-e", dir / "all.zip", dir / "x"});
    ASSERT_EQ(x.exit_code, 0) << describe(x);
    for (const char* f : {"a.txt", "docs/big.bin", "docs/hard", "sparse.img"})
        EXPECT_TRUE(read_file(dir / "x/" + f) == read_file(src + "/" + f)) << f;
    EXPECT_TRUE(std::filesystem::is_directory(dir / "x/empty"));
}

TEST_F(Dump, ASingleFileIsWrittenRawAndWithArchiveAsAnArchive) {
    ASSERT_EQ(dump_to(dir / "big", "docs/big.bin").exit_code, 0);
    EXPECT_TRUE(read_file(dir / "big") == read_file(src + "/docs/big.bin"));
    ASSERT_EQ(dump_to(dir / "sparse", "/sparse.img").exit_code, 0);
    EXPECT_TRUE(read_file(dir / "sparse") == read_file(src + "/sparse.img"));
    ASSERT_EQ(dump_to(dir / "a.tar", "a.txt --archive tar").exit_code, 0);
    RunResult list = run_process({"tar", "-t", "-f", dir / "a.tar"});
    EXPECT_EQ(list.out, "a.txt\n") << describe(list);
}

TEST_F(Dump, AClosedPipeIsAnErrorNotASilentSuccess) {
    RunResult r =
        shell("\"$S\" dump " + sh_quoted(repo) + " " + id + " / 2>" + sh_quoted(dir / "err") +
              " | head -c 100 >/dev/null; "
              "exit ${PIPESTATUS[0]}");
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    const std::string err = read_file(dir / "err");
    EXPECT_NE(err.find("cannot write to standard output: Broken pipe"), std::string::npos) << err;
}

TEST_F(Dump, AFullDiskIsAnError) {
    for (const char* args : {"/", "docs/big.bin"}) {
        RunResult r =
            shell("\"$S\" dump " + sh_quoted(repo) + " " + id + " " + args + " > /dev/full");
        EXPECT_EQ(r.exit_code, 1) << args << ": " << describe(r);
        EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    }
}

TEST_F(Dump, ADamagedBlobFailsNamingThePath) {
    // Flip a byte in the middle of the largest pack: docs/big.bin is most of it.
    std::string biggest;
    std::uintmax_t size = 0;
    for (const auto& f : std::filesystem::recursive_directory_iterator(repo + "/packs"))
        if (f.is_regular_file() && f.file_size() > size) {
            size = f.file_size();
            biggest = f.path();
        }
    ASSERT_GT(size, 2u << 20);
    {
        std::string pack = read_file(biggest);
        pack[pack.size() / 2] ^= 0x10;
        write_file(biggest, pack);
    }
    RunResult r = dump_to(dir / "broken.tar", "/");
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("docs/big.bin"), std::string::npos) << r.err;
    RunResult raw = dump_to(dir / "broken.bin", "docs/big.bin");
    EXPECT_EQ(raw.exit_code, 1) << describe(raw);
    EXPECT_NE(raw.err.find("docs/big.bin"), std::string::npos) << raw.err;
}

TEST_F(Dump, AnArchiveIsNeverWrittenToATerminal) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) GTEST_SKIP() << "no pseudo-terminals here";
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    const std::string tty = ::ptsname(master);
    RunResult r = shell("\"$S\" dump " + sh_quoted(repo) + " " + id + " / > " + tty);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("terminal"), std::string::npos) << r.err;
    // A single file is not an archive: it goes to a terminal as `cat` would.
    RunResult f = shell("\"$S\" dump " + sh_quoted(repo) + " " + id + " a.txt > " + tty);
    EXPECT_EQ(f.exit_code, 0) << describe(f);
    ::close(master);
}

// The tree of every kind of entry (tests/testlib/sample_tree.h: devices, FIFOs, setuid bits,
// ACLs, capabilities, trusted.* xattrs, names of any bytes, a path longer than PATH_MAX) through
// tar and back, compared entry by entry.
TEST(DumpFormats, EveryKindOfEntrySurvivesGnuTar) {
    if (!running_as_root()) GTEST_SKIP() << "needs root: device nodes, chown, trusted.* xattrs";
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src";
    init_repo(repo);
    make_every_kind_tree(src);
    Ingested i = ingest(repo, {src});
    ASSERT_EQ(i.run.exit_code, 0) << describe(i.run);
    RunResult r =
        shell("\"$S\" dump " + sh_quoted(repo) + " latest / > " + sh_quoted(dir / "all.tar"));
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.err.find("a socket cannot be archived"), std::string::npos) << r.err;
    // GNU tar cannot create a path longer than PATH_MAX: the deep chain is checked in the
    // listing, and the rest extracted.
    RunResult list = run_process({"tar", "-t", "-f", dir / "all.tar"});
    EXPECT_NE(list.out.find(long_chain_file() + "\n"), std::string::npos);
    ::mkdir((dir / "x").c_str(), 0755);
    RunResult tar = run_process({"tar", "-x", "--xattrs", "--xattrs-include=*", "--acls", "-p",
                                 "--numeric-owner", "--anchored", "--exclude=long", "-f",
                                 dir / "all.tar", "-C", dir / "x"});
    EXPECT_EQ(tar.exit_code, 0) << describe(tar);
    CompareOptions opts;
    opts.root_metadata = false;
    opts.skip_paths = {"long", "ancient"};
    for (const auto& [path, e] : scan_tree(src))
        if (e.type == S_IFSOCK) opts.skip_paths.insert(path);  // no tar holds sockets
    EXPECT_EQ(tree_differences(src, dir / "x", opts), "");
    // Before 1970 a pax time keeps its whole second only (dump.cpp, set_mtime).
    TreeScan s = scan_tree(src), x = scan_tree(dir / "x");
    ASSERT_TRUE(x.count("ancient"));
    EXPECT_EQ(x.at("ancient").sha256, s.at("ancient").sha256);
    const double was = static_cast<double>(s.at("ancient").mtime_sec) +
                       static_cast<double>(s.at("ancient").mtime_nsec) / 1e9;
    const double is = static_cast<double>(x.at("ancient").mtime_sec) +
                      static_cast<double>(x.at("ancient").mtime_nsec) / 1e9;
    EXPECT_LT(std::abs(is - was), 1.0) << "mtime " << is << ", the source's " << was;
}

// What a format cannot hold is left out, named, and (when it is an error of the format, not a
// socket, which no tar holds either) makes the exit status 3.
TEST(DumpFormats, WhatZipCannotHoldIsNamedAndTheStatusIsThree) {
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src";
    init_repo(repo);
    ::mkdir(src.c_str(), 0755);
    write_file(src + "/f", "x");
    ASSERT_EQ(::mkfifo((src + "/pipe").c_str(), 0644), 0);
    ASSERT_EQ(ingest(repo, {src}).run.exit_code, 0);
    RunResult zip = shell("\"$S\" dump " + sh_quoted(repo) + " latest / --archive zip > " +
                          sh_quoted(dir / "z.zip"));
    EXPECT_EQ(zip.exit_code, 3) << describe(zip);
    EXPECT_NE(zip.err.find("warning: pipe: "), std::string::npos) << zip.err;
    EXPECT_NE(zip.err.find("left out"), std::string::npos) << zip.err;
    RunResult test = run_process({"python3", "-m", "zipfile", "-l", dir / "z.zip"});
    EXPECT_EQ(test.exit_code, 0) << describe(test);
    EXPECT_NE(test.out.find("f"), std::string::npos) << test.out;
    RunResult tar =
        shell("\"$S\" dump " + sh_quoted(repo) + " latest / > " + sh_quoted(dir / "t.tar"));
    EXPECT_EQ(tar.exit_code, 0) << describe(tar);
    RunResult list = run_process({"tar", "-tv", "-f", dir / "t.tar"});
    EXPECT_NE(list.out.find("prw-r--r--"), std::string::npos) << list.out;
}

TEST_F(Dump, BadArgumentsAreUsageErrors) {
    EXPECT_EQ(run_strata({"dump", repo, id, "/", "--archive", "rar"}).exit_code, 2);
    EXPECT_EQ(run_strata({"dump", repo, id}).exit_code, 2);
    RunResult missing = run_strata({"dump", repo, id, "no/such"});
    EXPECT_EQ(missing.exit_code, 1) << describe(missing);
}

}  // namespace
}  // namespace strata::testing
