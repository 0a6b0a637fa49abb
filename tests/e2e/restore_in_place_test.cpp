// `strata restore --in-place`: the existing TARGET is saved as a pre-restore snapshot, then
// replaced whole by the snapshot (what the snapshot lacks goes); a restore that fails halfway
// (here a damaged pack) leaves TARGET exactly as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

std::vector<std::string> pack_files(const std::string& repo) {
    std::vector<std::string> out;
    for (const auto& sub : list_dir(repo + "/packs"))
        for (const auto& name : list_dir(repo + "/packs/" + sub))
            out.push_back(repo + "/packs/" + sub + "/" + name);
    std::sort(out.begin(), out.end());
    return out;
}

class RestoreInPlace : public ::testing::Test {
  protected:
    void SetUp() override {
        repo = dir / "repo";
        init_repo(repo);
        src = dir / "app";
        ::mkdir(src.c_str(), 0755);
        ::mkdir((src + "/conf").c_str(), 0750);
        for (int i = 0; i < 40; ++i)
            write_file(src + "/conf/f" + std::to_string(i) + ".txt",
                       "setting " + std::to_string(i));
        write_file(src + "/main.txt", "version 1\n");
    }
    // A copy of `from` to compare against later.
    std::string keep_copy(const std::string& from, const std::string& name) {
        const std::string to = dir / name;
        RunResult r = run_process({"cp", "-a", from, to});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return to;
    }
    Json snapshots_with_tag(const std::string& tag) {
        RunResult r = run_strata({"snapshots", "--json", "--tag", tag, repo});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return Json::parse(r.out);
    }

    TempDir dir;
    std::string repo, src;
};

TEST_F(RestoreInPlace, ReplacesTargetWholeAfterSavingIt) {
    Ingested first = ingest(repo, {src});
    ASSERT_EQ(first.run.exit_code, 0) << describe(first.run);
    const std::string v1 = keep_copy(src, "v1");
    // The live tree moves on: a file changed, one added, one removed, a mode changed.
    write_file(src + "/main.txt", "version 2, edited by hand\n");
    write_file(src + "/conf/new.txt", "added later");
    ::unlink((src + "/conf/f3.txt").c_str());
    ::chmod((src + "/conf").c_str(), 0700);
    const std::string before = keep_copy(src, "before");

    RunResult r = run_strata({"restore", "--in-place", repo, first.id.substr(0, 8), src});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(v1, src), "") << "TARGET is the snapshot, nothing more";
    EXPECT_FALSE(std::filesystem::exists(src + "/conf/new.txt"));
    EXPECT_NE(r.err.find("in place of"), std::string::npos) << r.err;
    for (const auto& name : list_dir(dir.path()))
        EXPECT_EQ(name.find("strata-restore"), std::string::npos) << "left behind: " << name;

    // What was there is a snapshot, tagged and noted, and restores exactly.
    Json pre = snapshots_with_tag("pre-restore");
    ASSERT_EQ(pre.size(), 1u) << pre.dump();
    EXPECT_NE(pre[0]["note"].get<std::string>().find(first.id.substr(0, 8)), std::string::npos)
        << pre[0].dump();
    r = run_strata({"restore", repo, pre[0]["id"].get<std::string>(), dir / "undone"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(before, dir / "undone"), "");
    // "latest" means the newest snapshot before the pre-restore one is taken.
    write_file(src + "/main.txt", "drift");
    r = run_strata({"restore", "--in-place", repo, "latest", src});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(before, src), "");
}

TEST_F(RestoreInPlace, AFailureHalfwayLeavesTargetAsItWas) {
    ASSERT_EQ(ingest(repo, {src}).run.exit_code, 0);
    const std::vector<std::string> packs_before = pack_files(repo);
    write_random_file(src + "/zz-large.bin", 3 << 20, 5);
    Ingested second = ingest(repo, {src});
    ASSERT_EQ(second.run.exit_code, 0) << describe(second.run);
    // The pack the large file went into: damaged, so the restore fails after the small files.
    std::vector<std::string> added;
    for (const auto& p : pack_files(repo))
        if (!std::binary_search(packs_before.begin(), packs_before.end(), p)) added.push_back(p);
    ASSERT_FALSE(added.empty());
    std::string data = read_file(added[0]);
    data[data.size() / 3] = static_cast<char>(data[data.size() / 3] ^ 0x40);
    write_file(added[0], data);

    write_file(src + "/main.txt", "precious local edit\n");
    ::unlink((src + "/zz-large.bin").c_str());
    const std::string before = keep_copy(src, "before");
    RunResult r = run_strata({"restore", "--in-place", repo, second.id, src});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("is unchanged"), std::string::npos) << r.err;
    EXPECT_EQ(tree_differences(before, src), "") << "TARGET must be exactly as it was";
    for (const auto& name : list_dir(dir.path()))
        EXPECT_EQ(name.find("strata-restore"), std::string::npos) << "left behind: " << name;
    EXPECT_EQ(snapshots_with_tag("pre-restore").size(), 1u);
}

TEST_F(RestoreInPlace, BadTargetsAreRefusedAndAnInterruptedRestoreIsCleanedUp) {
    Ingested first = ingest(repo, {src});
    ASSERT_EQ(first.run.exit_code, 0);
    RunResult r = run_strata({"restore", "--in-place", repo, "latest", dir / "absent"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    write_file(dir / "a-file", "x");
    r = run_strata({"restore", "--in-place", repo, "latest", dir / "a-file"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
    r = run_strata({"restore", "--in-place", "--overwrite", repo, "latest", src});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_EQ(snapshots_with_tag("pre-restore").size(), 0u) << "nothing saved for bad input";

    // A staging directory of a process that is gone (killed mid-restore) is removed.
    const std::string stale = dir / ".app.strata-restore.999999999";
    ::mkdir(stale.c_str(), 0755);
    ::mkdir((stale + "/ro").c_str(), 0755);
    write_file(stale + "/ro/partial", "half");
    ::chmod((stale + "/ro").c_str(), 0555);
    r = run_strata({"restore", "--in-place", repo, first.id, src});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.err.find("left by an interrupted in-place restore"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(stale));
}

}  // namespace
}  // namespace strata::testing
