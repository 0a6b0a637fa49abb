// `strata dump` and `ingest --stdin` run in-process (strata::cli::run): with no standard output
// descriptor (out_fd -1), what dump writes lands in the captured stream, raw or as an archive.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>

#include "tests/testlib/temp_dir.h"
#include "tools/cli.h"

namespace strata::cli {
namespace {

using testing::TempDir;
using testing::write_file;

struct Captured {
    int code;
    std::string out, err;
};

Captured run_captured(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    CliIo io{out, err, false, -1};
    int code = run(args, io);
    return {code, out.str(), err.str()};
}

class DumpCli : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(run_captured({"init", "--encryption", "none", repo}).code, 0);
        ::mkdir(src.c_str(), 0755);
        ::mkdir((src + "/sub").c_str(), 0755);
        write_file(src + "/a.txt", "hello");
        write_file(src + "/sub/b.txt", "inner");
        Captured r = run_captured({"ingest", repo, src});
        ASSERT_EQ(r.code, 0) << r.err;
    }
    TempDir dir;
    std::string repo = dir / "repo", src = dir / "src";
};

TEST_F(DumpCli, ARegularFileIsWrittenRaw) {
    Captured r = run_captured({"dump", repo, "latest", "sub/b.txt"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "inner");
}

TEST_F(DumpCli, ADirectoryIsAPaxArchiveInTarBlocks) {
    Captured r = run_captured({"dump", repo, "latest", "/"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_GE(r.out.size(), 10240u);
    EXPECT_EQ(r.out.size() % 10240, 0u) << "tar's records of 20 blocks";
    EXPECT_EQ(r.out.substr(257, 5), "ustar");
    for (const char* name : {"a.txt", "sub/", "sub/b.txt", "hello", "inner"})
        EXPECT_NE(r.out.find(name), std::string::npos) << name;
}

TEST_F(DumpCli, ZipStartsWithALocalFileHeader) {
    Captured r = run_captured({"dump", repo, "latest", "/", "--archive", "zip"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, 4), std::string("PK\x03\x04", 4));
}

TEST_F(DumpCli, HelpNamesTheCommandAndTheStreamOptions) {
    Captured r = run_captured({"--help"});
    EXPECT_NE(r.out.find("  dump "), std::string::npos) << r.out;
    r = run_captured({"ingest", "--help"});
    for (const char* o : {"--stdin", "--stdin-name", "--stdin-from-command"})
        EXPECT_NE(r.out.find(o), std::string::npos) << o;
    r = run_captured({"dump", "--help"});
    EXPECT_NE(r.out.find("--archive"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace strata::cli
