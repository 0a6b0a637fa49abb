// strata copy between a local repository and one in a real S3 store, both ways: only the blobs
// the destination lacks are sent, copied snapshots keep their ids and restore the same, and a
// second copy sends nothing.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_support.h"
#include "tests/s3/s3_support.h"

namespace strata::testing {
namespace {

struct S3Copy : ::testing::Test {
    TempDir dir;
    std::string local = dir / "local", remote = fresh_s3_location("offsite"), back = dir / "back",
                src = dir / "src";
    std::vector<std::string> with_cache(std::vector<std::string> args) {
        args.insert(args.begin() + 1, {"--cache-dir", dir / "cache"});
        return args;
    }
    Json copy(const std::string& from, const std::string& to, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"copy", "--json", from, to};
        args.insert(args.end(), extra.begin(), extra.end());
        RunResult r = run_strata(with_cache(args));
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return Json::parse(r.out, nullptr, false);
    }
    static std::uint64_t sent(const Json& j) {
        std::uint64_t n = 0;
        for (const auto& s : j) n += s["bytes_sent"].get<std::uint64_t>();
        return n;
    }
};

TEST_F(S3Copy, LocalToS3AndBackSendsOnlyWhatIsMissing) {
    ::mkdir(src.c_str(), 0755);
    write_random_file(src + "/big.bin", 3 << 20, 5);
    write_file(src + "/a.txt", "a\n");
    init_repo(local);
    ASSERT_EQ(ingest(local, {src}).run.exit_code, 0);
    write_file(src + "/b.txt", "b\n");
    const std::string second = ingest(local, {src}).id;
    ASSERT_FALSE(second.empty());
    ASSERT_EQ(run_strata(with_cache({"init", "--encryption", "none", remote})).exit_code, 0);

    // The first snapshot only, then all: the second sends little (the big file is there).
    const auto ids = snapshot_ids(local);
    ASSERT_EQ(ids.size(), 2u);
    Json first = copy(local, remote, {ids[0]});
    ASSERT_EQ(first.size(), 1u);
    EXPECT_GT(sent(first), 3u << 20) << first.dump();
    Json all = copy(local, remote);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_TRUE(all[0]["already_there"].get<bool>());
    EXPECT_FALSE(all[1]["already_there"].get<bool>());
    EXPECT_LT(sent(all), 64u << 10) << all.dump();
    EXPECT_EQ(copy(local, remote).size(), 2u);
    EXPECT_EQ(sent(copy(local, remote)), 0u);

    // The same ids on the remote, and the remote restores the tree.
    RunResult r = run_strata(with_cache({"snapshots", "--json", remote}));
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find(ids[0]), std::string::npos);
    EXPECT_NE(r.out.find(second), std::string::npos);
    r = run_strata(with_cache({"restore", remote, second, dir / "from-remote"}));
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "from-remote"), "");

    // And back into a fresh local repository.
    init_repo(back);
    Json returned = copy(remote, back, {"--host", all[1]["host"].get<std::string>()});
    EXPECT_EQ(returned.size(), 2u);
    EXPECT_EQ(snapshot_ids(back), ids);
    r = run_strata({"verify", "--read-data", back});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(S3Copy, RefusesTheSameRepositoryAndBadNames) {
    init_repo(local);
    RunResult r = run_strata(with_cache({"copy", local, local}));
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("the same repository"), std::string::npos) << r.err;
    r = run_strata(with_cache({"copy", local}));
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("no destination"), std::string::npos) << r.err;
    init_repo(back);
    r = run_strata(with_cache({"copy", local, back, "abcd"}));
    EXPECT_EQ(r.exit_code, 1) << describe(r);
}

}  // namespace
}  // namespace strata::testing
