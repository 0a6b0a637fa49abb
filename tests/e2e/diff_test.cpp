// `strata diff`: every kind of change between two snapshots of a source that changed in every
// way a file can (content, metadata only, type, links, symlink targets), as text and as JSON, a
// PATH restricting it, and the errors for what is not there.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

void set_mtime(const std::string& path, std::int64_t sec) {
    timespec t[2] = {{sec, 0}, {sec, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

class DiffTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ::mkdir(src.c_str(), 0755);
        for (const char* d : {"sub", "olddir", "sub/deep"}) ::mkdir((src + "/" + d).c_str(), 0755);
        write_file(src + "/keep.txt", "unchanged");
        write_file(src + "/edit.txt", "aaaa");
        write_file(src + "/meta.txt", "same");
        write_file(src + "/gone.txt", "12345");
        write_file(src + "/olddir/x", "xx");
        write_file(src + "/becomes_dir", "file first");
        write_file(src + "/sub/deep/s.txt", "deep");
        write_file(src + "/h1", "linked");
        ASSERT_EQ(::link((src + "/h1").c_str(), (src + "/h2").c_str()), 0);
        ASSERT_EQ(::symlink("first-target", (src + "/link").c_str()), 0);
        ASSERT_EQ(::mkfifo((src + "/fifo").c_str(), 0644), 0);
        init_repo(repo);
        a = ingest(repo, {src}).id;
        ASSERT_FALSE(a.empty());

        // Same size, other bytes, and an mtime of its own: only the chunks tell it changed.
        write_file(src + "/edit.txt", "bbbb");
        set_mtime(src + "/edit.txt", 1'700'000'000);
        ASSERT_EQ(::chmod((src + "/meta.txt").c_str(), 0600), 0);
        ::unlink((src + "/gone.txt").c_str());
        ::unlink((src + "/olddir/x").c_str());
        ::rmdir((src + "/olddir").c_str());
        ::mkdir((src + "/newdir").c_str(), 0755);
        write_file(src + "/newdir/y", "yyyyyyy");
        write_file(src + "/new.txt", "new!");
        ::unlink((src + "/becomes_dir").c_str());
        ::mkdir((src + "/becomes_dir").c_str(), 0755);
        write_file(src + "/becomes_dir/inside", "in");
        ASSERT_EQ(::link((src + "/h1").c_str(), (src + "/h3").c_str()), 0);
        ::unlink((src + "/link").c_str());
        ASSERT_EQ(::symlink("second-target", (src + "/link").c_str()), 0);
        write_file(src + "/sub/deep/s.txt", "deeper");
        b = ingest(repo, {src}).id;
        ASSERT_FALSE(b.empty());
    }

    TempDir dir;
    std::string src = dir / "src", repo = dir / "repo";
    std::string a, b;
};

TEST_F(DiffTest, TextNamesEveryKindOfChange) {
    RunResult r = run_strata({"diff", repo, a.substr(0, 8), b.substr(0, 8)});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto lines = lines_of(r.out);
    auto has = [&](const std::string& l) {
        return std::find(lines.begin(), lines.end(), l) != lines.end();
    };
    EXPECT_TRUE(has("M edit.txt")) << r.out;
    EXPECT_TRUE(has("U meta.txt")) << r.out;
    EXPECT_TRUE(has("- gone.txt")) << r.out;
    EXPECT_TRUE(has("- olddir/")) << r.out;
    EXPECT_TRUE(has("- olddir/x")) << r.out;
    EXPECT_TRUE(has("+ newdir/")) << r.out;
    EXPECT_TRUE(has("+ newdir/y")) << r.out;
    EXPECT_TRUE(has("+ new.txt")) << r.out;
    EXPECT_TRUE(has("T becomes_dir/")) << r.out;
    EXPECT_TRUE(has("+ becomes_dir/inside")) << r.out;
    EXPECT_TRUE(has("M link")) << r.out;  // a symlink's target is its content
    EXPECT_TRUE(has("+ h3")) << r.out;
    EXPECT_TRUE(has("U h1")) << r.out;  // one more name: its link count changed
    EXPECT_TRUE(has("U h2")) << r.out;
    EXPECT_TRUE(has("M sub/deep/s.txt")) << r.out;
    for (const char* same : {"keep.txt", "fifo"})
        for (const auto& l : lines) EXPECT_EQ(l.find(same), std::string::npos) << l;
    // Files: new.txt, newdir/y, becomes_dir/inside, h3 added; gone.txt, olddir/x removed;
    // edit, meta, link, h1, h2, s.txt changed. Directories: newdir added, olddir removed, the
    // root (its mtime) and becomes_dir (counted by what it is now) changed.
    EXPECT_TRUE(has("Files: 4 added, 2 removed, 6 changed")) << r.out;
    EXPECT_TRUE(has("Dirs:  1 added, 1 removed, 2 changed")) << r.out;
    EXPECT_TRUE(has("U /")) << r.out;
}

TEST_F(DiffTest, JsonOneObjectPerChangeAndASummary) {
    RunResult r = run_strata({"diff", "--json", repo, a, "latest"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto lines = lines_of(r.out);
    ASSERT_GE(lines.size(), 2u);
    std::map<std::string, Json> by_path;
    for (std::size_t i = 0; i + 1 < lines.size(); i++) {
        Json j = Json::parse(lines[i], nullptr, false);
        ASSERT_TRUE(j.is_object()) << lines[i];
        by_path[j["path"].get<std::string>()] = j;
    }
    EXPECT_EQ(by_path.at("edit.txt")["change"], "modified");
    EXPECT_EQ(by_path.at("edit.txt")["size_before"], 4);
    EXPECT_EQ(by_path.at("edit.txt")["size_after"], 4);
    EXPECT_EQ(by_path.at("edit.txt")["bytes_added"], 4);
    EXPECT_EQ(by_path.at("edit.txt")["bytes_removed"], 4);
    EXPECT_EQ(by_path.at("edit.txt")["fields"], Json({"content", "mtime"}));
    EXPECT_EQ(by_path.at("meta.txt")["change"], "metadata");
    EXPECT_EQ(by_path.at("meta.txt")["fields"], Json({"mode"}));
    EXPECT_EQ(by_path.at("gone.txt")["change"], "removed");
    EXPECT_EQ(by_path.at("gone.txt")["size_before"], 5);
    EXPECT_FALSE(by_path.at("gone.txt").contains("size_after"));
    EXPECT_EQ(by_path.at("newdir/y")["change"], "added");
    EXPECT_EQ(by_path.at("newdir/y")["size_after"], 7);
    EXPECT_EQ(by_path.at("becomes_dir")["change"], "type");
    EXPECT_EQ(by_path.at("becomes_dir")["type_before"], "file");
    EXPECT_EQ(by_path.at("becomes_dir")["type_after"], "dir");
    EXPECT_EQ(by_path.at("link")["change"], "modified");
    EXPECT_EQ(by_path.at("link")["type"], "symlink");
    EXPECT_EQ(by_path.at("h1")["fields"], Json({"links"}));

    Json s = Json::parse(lines.back(), nullptr, false);
    ASSERT_TRUE(s.contains("summary")) << lines.back();
    std::uint64_t added = 0, removed = 0;
    for (const auto& [p, j] : by_path) {
        added += j["bytes_added"].get<std::uint64_t>();
        removed += j["bytes_removed"].get<std::uint64_t>();
    }
    EXPECT_EQ(s["summary"]["bytes_added"], added);
    EXPECT_EQ(s["summary"]["bytes_removed"], removed);
    EXPECT_EQ(s["summary"]["files_added"], 4);
    EXPECT_EQ(s["summary"]["files_removed"], 2);
    EXPECT_EQ(s["summary"]["dirs_removed"], 1);
}

TEST_F(DiffTest, PathRestrictsToASubtree) {
    RunResult r = run_strata({"diff", repo, a, b, "/sub/"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto lines = lines_of(r.out);
    EXPECT_EQ(lines.front(), "M sub/deep/s.txt") << r.out;
    EXPECT_EQ(r.out.find("edit.txt"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Files: 0 added, 0 removed, 1 changed"), std::string::npos) << r.out;

    // A path in one snapshot only is all added (or all removed).
    r = run_strata({"diff", repo, a, b, "newdir"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(lines_of(r.out)[0], "+ newdir/") << r.out;
    EXPECT_EQ(lines_of(r.out)[1], "+ newdir/y") << r.out;
}

TEST_F(DiffTest, SameSnapshotHasNoChanges) {
    RunResult r = run_strata({"diff", "--json", repo, b, "latest"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.out;
    Json s = Json::parse(lines[0]);
    EXPECT_EQ(s["summary"]["files_changed"], 0);
    EXPECT_EQ(s["summary"]["bytes_added"], 0);
}

TEST_F(DiffTest, ErrorsNameWhatIsWrong) {
    RunResult r = run_strata({"diff", repo, a, b, "no/such/dir"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("no/such/dir: in neither snapshot"), std::string::npos) << r.err;

    r = run_strata({"diff", repo, a, "ffffffff"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("ffffffff"), std::string::npos) << r.err;

    r = run_strata({"diff", repo, a});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("need two snapshots"), std::string::npos) << r.err;
}

// A device's numbers are its content; an owner or an xattr changed is metadata.
TEST(DiffDevices, DeviceNumbersOwnersAndXattrs) {
    if (!running_as_root()) GTEST_SKIP() << "needs root: device nodes and chown";
    TempDir dir;
    std::string src = dir / "src", repo = dir / "repo";
    ::mkdir(src.c_str(), 0755);
    ASSERT_EQ(::mknod((src + "/dev").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
    write_file(src + "/owned", "o");
    write_file(src + "/attrs", "a");
    if (::setxattr((src + "/attrs").c_str(), "user.k", "1", 1, 0) != 0)
        GTEST_SKIP() << "no user xattrs on " << src;
    init_repo(repo);
    std::string a = ingest(repo, {src}).id;
    ::unlink((src + "/dev").c_str());
    ASSERT_EQ(::mknod((src + "/dev").c_str(), S_IFCHR | 0600, makedev(1, 5)), 0);
    ASSERT_EQ(::chown((src + "/owned").c_str(), 4321, 8765), 0);
    ASSERT_EQ(::setxattr((src + "/attrs").c_str(), "user.k", "2", 1, 0), 0);
    std::string b = ingest(repo, {src}).id;
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty());

    RunResult r = run_strata({"diff", "--json", repo, a, b});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    std::map<std::string, Json> by_path;
    for (const auto& l : lines_of(r.out)) {
        Json j = Json::parse(l);
        if (j.contains("path")) by_path[j["path"].get<std::string>()] = j;
    }
    EXPECT_EQ(by_path.at("dev")["change"], "modified") << r.out;
    EXPECT_EQ(by_path.at("dev")["type"], "chardev");
    EXPECT_EQ(by_path.at("owned")["change"], "metadata");
    EXPECT_EQ(by_path.at("owned")["fields"], Json({"owner"}));
    EXPECT_EQ(by_path.at("attrs")["change"], "metadata");
    EXPECT_EQ(by_path.at("attrs")["fields"], Json({"xattrs"}));
}

}  // namespace
}  // namespace strata::testing
