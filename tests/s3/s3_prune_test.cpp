// Prune on a repository in a real S3 store, with other hosts at work: the space of forgotten
// snapshots comes back; an ingest running on another host while a prune retires its packs keeps
// them (the prune waits for its marker, the ingest takes them back); a writer that died holds
// deletions up only until its marker expires; a snapshot whose writer died before taking its
// packs back is rescued by the next prune, and the next backup does not build on those packs;
// radosgw stopped and restarted mid-prune; two hosts ingesting while a third prunes again and
// again. Each host is a cache directory of its own.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "store/backend/s3/s3_store.h"
#include "tests/e2e/e2e_support.h"
#include "tests/s3/s3_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

struct S3Prune : ::testing::Test {
    TempDir dir;
    std::string repo = fresh_s3_location("shared");
    std::string old_src = dir / "old", new_src = dir / "new", b_src = dir / "b";
    std::string cache_a = dir / "cache-a", cache_b = dir / "cache-b";
    std::string old_id, new_id;

    RunResult strata(std::vector<std::string> args, const std::string& cache,
                     std::vector<std::string> env = {}) {
        args.insert(args.begin() + 1, {"--cache-dir", cache});
        return run_strata(args, env);
    }
    std::vector<std::string> host_b_ingest(const std::string& err_log) {
        return {"bash", "-c",
                "exec '" + strata_binary() + "' ingest --json --host host-b --cache-dir '" +
                    cache_b + "' '" + repo + "' '" + b_src + "' 2>'" + err_log + "'"};
    }
    std::size_t objects_under(const std::string& prefix) {
        s3::S3StoreOptions o;
        o.location = s3::parse_s3_location(repo);
        o.credentials = s3::load_aws_credentials();
        return s3::open_s3_store(o)->list(prefix).size();
    }
    // Host A: an old snapshot of 20 MiB that is then forgotten, and a new one that stays.
    void SetUp() override {
        for (const auto& d : {old_src, new_src, b_src}) ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
        write_random_file(old_src + "/old.bin", 20 << 20, 11);
        write_file(new_src + "/new.txt", "stays\n");
        for (int i = 0; i < 3; ++i)
            write_random_file(b_src + "/b" + std::to_string(i), 12 << 20, 40 + i);
        ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
        RunResult r = strata({"ingest", "--json", repo, old_src}, cache_a);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        old_id = Json::parse(r.out)["id"].get<std::string>();
        r = strata({"ingest", "--json", repo, new_src}, cache_a);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        new_id = Json::parse(r.out)["id"].get<std::string>();
    }
    Json prune_json(const std::string& cache, std::vector<std::string> env = {}) {
        RunResult r = strata({"prune", "--json", "--grace", "0", repo}, cache, env);
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        Json j = Json::parse(r.out, nullptr, false);
        EXPECT_TRUE(j.is_object()) << r.out;
        return j;
    }
    void expect_restores(const std::string& id, const std::string& tree, const std::string& cache) {
        const std::string out = dir / ("restored-" + id.substr(0, 8) + "-" + std::to_string(n_++));
        RunResult r = strata({"restore", repo, id, out}, cache);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_EQ(tree_differences(tree, out), "");
    }
    int n_ = 0;
};

TEST_F(S3Prune, FreesTheSpaceOfForgottenSnapshotsAndLeavesNoRecords) {
    const std::size_t packs_before = objects_under("packs");
    ASSERT_EQ(strata({"forget", repo, old_id}, cache_a).exit_code, 0);
    Json j = prune_json(cache_a);
    EXPECT_GE(j["packs_deleted"].get<std::uint64_t>(), 1u) << j.dump();
    EXPECT_LT(objects_under("packs"), packs_before);
    EXPECT_EQ(objects_under("deletions"), 0u);
    EXPECT_EQ(objects_under("writers"), 0u);
    // Another host, a fresh cache: the snapshot that stayed reads back; the repository verifies.
    expect_restores(new_id, new_src, cache_b);
    RunResult r = strata({"verify", "--read-data", repo}, cache_b);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    // forget --prune works the same.
    r = strata({"forget", "--keep-last", "1", "--prune", "--grace", "0", repo}, cache_b);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(S3Prune, AnIngestRunningOnAnotherHostKeepsThePacksAPruneRetired) {
    ASSERT_EQ(strata({"forget", repo, old_id}, cache_a).exit_code, 0);
    // Host B uploads its first pack, then is held for 15 s (room for a slow prune under a
    // sanitizer); meanwhile host A prunes. B's pack is named by no snapshot yet, so A retires it,
    // but B's marker holds its deletion up.
    const std::string err_log = dir / "b.err";
    const std::size_t packs_before = objects_under("packs");
    ChildProcess b(host_b_ingest(err_log), {"STRATA_TEST_PAUSE_AT=pack-written:15000"});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (objects_under("packs") == packs_before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    ASSERT_GT(objects_under("packs"), packs_before) << read_file(err_log);
    Json j = prune_json(cache_a);
    ASSERT_TRUE(b.running()) << "the pause was too short for the prune";
    EXPECT_GE(j["packs_held_by_writers"].get<std::uint64_t>(), 1u) << j.dump();
    EXPECT_GE(objects_under("deletions"), 1u);

    RunResult rb = b.wait();
    rb.err = read_file(err_log);
    ASSERT_EQ(rb.exit_code, 0) << describe(rb);
    const std::string b_id = Json::parse(rb.out)["id"].get<std::string>();
    EXPECT_EQ(objects_under("writers"), 0u);  // B removed its marker

    // A prunes again: the forgotten snapshot's packs go, B's stay (B took them back).
    j = prune_json(cache_a);
    EXPECT_EQ(j["packs_held_by_writers"].get<std::uint64_t>(), 0u) << j.dump();
    EXPECT_EQ(objects_under("deletions"), 0u);
    const std::string cache_c = dir / "cache-c";
    expect_restores(b_id, b_src, cache_c);
    expect_restores(new_id, new_src, cache_c);
    RunResult r = strata({"verify", "--read-data", repo}, cache_c);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(S3Prune, ADeadWritersMarkerHoldsDeletionsUpOnlyUntilItExpires) {
    ASSERT_EQ(strata({"forget", repo, old_id}, cache_a).exit_code, 0);
    // B dies (SIGKILL) after its first pack: its marker stays behind.
    RunResult rb =
        strata({"ingest", repo, b_src}, cache_b, {"STRATA_TEST_CRASH_AT=pack-written:1"});
    ASSERT_NE(rb.exit_code, 0) << describe(rb);
    ASSERT_EQ(objects_under("writers"), 1u);
    Json j = prune_json(cache_a);
    EXPECT_GE(j["packs_held_by_writers"].get<std::uint64_t>(), 1u) << j.dump();
    EXPECT_EQ(j["packs_deleted"].get<std::uint64_t>(), 0u) << j.dump();
    // Once the marker is older than the expiry (2 s here, an hour in use), it holds nothing.
    std::this_thread::sleep_for(3s);
    j = prune_json(cache_a, {"STRATA_TEST_WRITER_EXPIRY_SECONDS=2"});
    EXPECT_EQ(j["packs_held_by_writers"].get<std::uint64_t>(), 0u) << j.dump();
    EXPECT_GE(j["packs_deleted"].get<std::uint64_t>(), 1u) << j.dump();
    EXPECT_EQ(objects_under("writers"), 0u);
    EXPECT_EQ(objects_under("deletions"), 0u);
    expect_restores(new_id, new_src, dir / "cache-c");
}

TEST_F(S3Prune, ASnapshotWhoseWriterDiedBeforeTakingItsPacksBackIsRescued) {
    ASSERT_EQ(strata({"forget", repo, old_id}, cache_a).exit_code, 0);
    // B is held after its first pack while A retires it, then dies right after saving its
    // snapshot record, before it could take its packs back.
    const std::string err_log = dir / "b.err";
    const std::size_t packs_before = objects_under("packs");
    ChildProcess b(host_b_ingest(err_log), {"STRATA_TEST_PAUSE_AT=pack-written:15000",
                                            "STRATA_TEST_CRASH_AT=snapshot-file-written"});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (objects_under("packs") == packs_before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    Json j = prune_json(cache_a);
    ASSERT_TRUE(b.running()) << "the pause was too short for the prune";
    RunResult rb = b.wait();
    ASSERT_NE(rb.exit_code, 0) << describe(rb);
    // B's next backup knows the deletion record: it does not reuse its last snapshot's chunks
    // from the retired packs (it reads those files again), so any host can restore it at once.
    RunResult again = strata({"ingest", "--json", "--host", "host-b", repo, b_src}, cache_b);
    ASSERT_EQ(again.exit_code, 0) << describe(again);
    expect_restores(Json::parse(again.out)["id"].get<std::string>(), b_src, dir / "cache-d");
    std::this_thread::sleep_for(3s);
    // The next prune (B's marker expired) finds B's snapshot using retired packs: it keeps them.
    j = prune_json(cache_a, {"STRATA_TEST_WRITER_EXPIRY_SECONDS=2"});
    EXPECT_EQ(objects_under("deletions"), 0u) << j.dump();
    const std::string cache_c = dir / "cache-c";
    RunResult r = strata({"snapshots", "--json", repo}, cache_c);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json snaps = Json::parse(r.out);
    std::string b_id;  // the first of B's snapshots, whose writer died
    for (const auto& s : snaps)
        if (s["host"] == "host-b" && b_id.empty()) b_id = s["id"].get<std::string>();
    ASSERT_FALSE(b_id.empty()) << r.out;
    expect_restores(b_id, b_src, cache_c);
    r = strata({"verify", "--read-data", repo}, cache_c);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

// tests/ceph/cluster.sh CMD for the suite's cluster.
RunResult cluster(const std::string& cmd) {
    return run_process(
        {"bash", std::string(STRATA_SOURCE_DIR) + "/tests/ceph/cluster.sh", cmd, STRATA_CEPH_DIR});
}

// radosgw stops while a prune is between its plan and its deletions (held there 4 s), and comes
// back once the prune has said it retries: the prune finishes, the snapshot it kept restores on a
// fresh host, and the repository verifies with nothing left pending.
TEST_F(S3Prune, TheObjectStoreGoesAwayMidPruneAndComesBack) {
    ASSERT_EQ(strata({"forget", repo, old_id}, cache_a).exit_code, 0);
    const std::string out_log = dir / "prune.out", err_log = dir / "prune.err";
    const std::size_t packs_before = objects_under("packs");
    auto text = [](const std::string& path) {  // "" until the shell has made the file
        return ::access(path.c_str(), F_OK) == 0 ? read_file(path) : std::string();
    };
    ChildProcess prune({"bash", "-c",
                        "exec '" + strata_binary() + "' prune --grace 0 --cache-dir '" + cache_a +
                            "' '" + repo + "' >'" + out_log + "' 2>'" + err_log + "'"},
                       {"STRATA_TEST_PAUSE_AT=prune-planned:4000"});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (text(out_log).find("delete") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    ASSERT_NE(text(out_log).find("delete"), std::string::npos)
        << "no plan printed: " << text(out_log) << text(err_log);
    ASSERT_TRUE(prune.running()) << text(err_log);
    RunResult down = cluster("stop-rgw");
    ASSERT_EQ(down.exit_code, 0) << describe(down);
    deadline = std::chrono::steady_clock::now() + 60s;
    while (text(err_log).find("trying again") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(prune.running()) << text(err_log);
    std::this_thread::sleep_for(2s);  // a few more refused tries
    RunResult up = cluster("start-rgw");
    ASSERT_EQ(up.exit_code, 0) << describe(up);
    RunResult r = prune.wait();
    r.out = text(out_log);
    r.err = text(err_log);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.err.find("trying again"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("deleted "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("deleted 0 pack"), std::string::npos) << r.out;
    EXPECT_LT(objects_under("packs"), packs_before);
    EXPECT_EQ(objects_under("deletions"), 0u);
    const std::string cache_c = dir / "cache-c";
    expect_restores(new_id, new_src, cache_c);
    r = strata({"verify", "--read-data", repo}, cache_c);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

// Hosts B and C each ingest three versions of their data while host A forgets and prunes again
// and again (grace 0: nothing but the writers' markers holds a deletion up). Every snapshot B and
// C reported saved restores exactly on a fresh host, and the repository verifies.
TEST_F(S3Prune, TwoHostsIngestWhileAThirdPrunes) {
    constexpr int kVersions = 3;
    struct Host {
        std::string name, cache;
        std::vector<std::string> sources;
    };
    std::vector<Host> hosts = {{"host-b", cache_b, {}}, {"host-c", dir / "cache-c", {}}};
    for (auto& h : hosts) {
        for (int v = 0; v < kVersions; ++v) {
            const std::string d = dir / (h.name + "-v" + std::to_string(v));
            ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
            write_random_file(d + "/shared.bin", 6 << 20, 60);  // the same in every version
            write_random_file(d + "/own.bin", 5 << 20, 70 + v + (h.name == "host-b" ? 0 : 10));
            h.sources.push_back(d);
        }
    }
    // Each host's ingests, one after another, in a shell loop of its own.
    std::vector<std::unique_ptr<ChildProcess>> loops;
    for (const auto& h : hosts) {
        std::string script = "set -e\n";
        for (int v = 0; v < kVersions; ++v)
            script += "'" + strata_binary() + "' ingest --json --host " + h.name +
                      " --cache-dir '" + h.cache + "' '" + repo + "' '" + h.sources[v] + "' >'" +
                      h.sources[v] + ".json' 2>>'" + dir / (h.name + ".err") + "'\n";
        loops.push_back(
            std::make_unique<ChildProcess>(std::vector<std::string>{"bash", "-c", script}));
    }
    ASSERT_EQ(strata({"forget", repo, old_id}, cache_a).exit_code, 0);
    int prunes = 0;
    auto running = [&] {
        for (auto& l : loops)
            if (l->running()) return true;
        return false;
    };
    while (running() || prunes < 2) {
        Json j = prune_json(cache_a);
        ASSERT_TRUE(j.is_object());
        ++prunes;
    }
    for (std::size_t i = 0; i < loops.size(); ++i) {
        RunResult r = loops[i]->wait();
        ASSERT_EQ(r.exit_code, 0) << hosts[i].name << ": "
                                  << read_file(dir / (hosts[i].name + ".err"));
    }
    std::cout << "[ info     ] " << prunes << " prunes ran beside the ingests\n";
    prune_json(cache_a);  // after the writers: what they took back stays, the rest goes
    EXPECT_EQ(objects_under("writers"), 0u);
    const std::string fresh = dir / "cache-fresh";
    for (const auto& h : hosts)
        for (const auto& src : h.sources) {
            Json j = Json::parse(read_file(src + ".json"), nullptr, false);
            ASSERT_TRUE(j.is_object() && j.contains("id")) << src;
            expect_restores(j["id"].get<std::string>(), src, fresh);
        }
    expect_restores(new_id, new_src, fresh);
    RunResult r = strata({"verify", "--read-data", repo}, fresh);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

}  // namespace
}  // namespace strata::testing
