// The crash contract on a repository in a real S3 store: an ingest killed after uploading packs,
// or one whose object store goes away mid-upload and comes back, leaves every earlier snapshot
// intact, and the next ingest reuses what was uploaded.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/backend/s3/s3_store.h"
#include "tests/e2e/e2e_support.h"
#include "tests/s3/s3_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

// tests/ceph/cluster.sh CMD for the suite's cluster.
RunResult cluster(const std::string& cmd) {
    return run_process(
        {"bash", std::string(STRATA_SOURCE_DIR) + "/tests/ceph/cluster.sh", cmd, STRATA_CEPH_DIR});
}

struct S3Crash : ::testing::Test {
    TempDir dir;
    std::string repo = fresh_s3_location("crash"), src = dir / "src", first_src = dir / "first";
    std::string first;
    std::vector<std::string> with_cache(std::vector<std::string> args) {
        args.insert(args.begin() + 1, {"--cache-dir", dir / "cache"});
        return args;
    }
    void SetUp() override {
        ::mkdir(first_src.c_str(), 0755);
        write_file(first_src + "/kept.txt", "the first snapshot\n");
        ::mkdir(src.c_str(), 0755);
        // Random data: four 16 MiB packs or so.
        for (int i = 0; i < 6; ++i)
            write_random_file(src + "/f" + std::to_string(i), 10 << 20, 100 + i);
        ASSERT_EQ(run_strata(with_cache({"init", "--encryption", "none", repo})).exit_code, 0);
        RunResult r = run_strata(with_cache({"ingest", "--json", repo, first_src}));
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        first = Json::parse(r.out)["id"].get<std::string>();
    }
    std::size_t packs_in_bucket() {
        s3::S3StoreOptions o;
        o.location = s3::parse_s3_location(repo);
        o.credentials = s3::load_aws_credentials();
        return s3::open_s3_store(o)->list("packs").size();
    }
    void expect_first_intact() {
        RunResult r = run_strata(with_cache({"snapshots", "--json", repo}));
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_NE(r.out.find(first), std::string::npos) << r.out;
        r = run_strata(with_cache({"cat", repo, first, "kept.txt"}));
        EXPECT_EQ(r.out, "the first snapshot\n") << describe(r);
    }
};

TEST_F(S3Crash, KilledAfterUploadingPacksTheNextIngestReusesThem) {
    const std::size_t before = packs_in_bucket();
    // Killed (SIGKILL) right after its third pack's PUT returned, before indexing it.
    RunResult r =
        run_strata(with_cache({"ingest", repo, src}), {"STRATA_TEST_CRASH_AT=pack-written:3"});
    ASSERT_EQ(r.signal, SIGKILL) << describe(r);
    const std::size_t uploaded = packs_in_bucket() - before;
    EXPECT_GE(uploaded, 3u);
    expect_first_intact();
    RunResult v = run_strata(with_cache({"verify", repo}));
    EXPECT_EQ(v.exit_code, 0) << describe(v);
    // The next ingest (from an empty cache even: another host) sends only what is missing.
    r = run_strata({"ingest", "--json", "--cache-dir", dir / "other-host", repo, src});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json j = Json::parse(r.out);
    EXPECT_LT(j["bytes_added"].get<std::uint64_t>(), j["bytes"].get<std::uint64_t>() - (40u << 20))
        << r.out;
    r = run_strata(with_cache({"restore", repo, j["id"].get<std::string>(), dir / "restored"}));
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "restored"), "");
}

TEST_F(S3Crash, TheObjectStoreGoesAwayMidUploadAndComesBack) {
    const std::size_t before = packs_in_bucket();
    const std::string err_log = dir / "ingest.err";
    // Held for 4 s after its first pack is uploaded (STRATA_TEST_PAUSE_AT), the ingest finds
    // radosgw gone when it goes on; radosgw comes back once the ingest has said it retries.
    ChildProcess ingest({"bash", "-c",
                         "exec '" + strata_binary() + "' ingest --json --cache-dir '" +
                             dir / "cache" + "' '" + repo + "' '" + src + "' 2>'" + err_log + "'"},
                        {"STRATA_TEST_PAUSE_AT=pack-written:4000"});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (packs_in_bucket() == before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    ASSERT_GT(packs_in_bucket(), before) << read_file(err_log);
    RunResult down = cluster("stop-rgw");
    ASSERT_EQ(down.exit_code, 0) << describe(down);
    deadline = std::chrono::steady_clock::now() + 60s;
    while (read_file(err_log).find("trying again") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(ingest.running()) << read_file(err_log);
    std::this_thread::sleep_for(2s);  // a few more refused tries
    RunResult up = cluster("start-rgw");
    ASSERT_EQ(up.exit_code, 0) << describe(up);
    RunResult r = ingest.wait();
    r.err = read_file(err_log);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.err.find("trying again"), std::string::npos) << r.err;
    const std::string id = Json::parse(r.out)["id"].get<std::string>();
    expect_first_intact();
    r = run_strata(with_cache({"restore", repo, id, dir / "restored"}));
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "restored"), "");
    r = run_strata(with_cache({"verify", "--read-data", repo}));
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

}  // namespace
}  // namespace strata::testing
