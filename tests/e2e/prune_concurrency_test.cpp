// Prune beside other work, as separate processes:
//   - an ingest that starts while prune holds the writer lock waits (--lock-wait) and then
//     finishes correctly, even when it backs up exactly the data prune is removing;
//   - a prune that starts while an ingest holds the lock marks meanwhile, waits, then keeps what
//     the new snapshot deduplicated against the forgotten one;
//   - readers (a RepositoryReader in this process, and a real FUSE mount) reading during prune
//     get correct bytes for every snapshot still listed, and never wrong bytes for one forgotten.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/repo/reader.h"
#include "store/repo/repository.h"
#include "tests/e2e/prune_scenario.h"
#include "tests/testlib/mount_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

// Waits until the process `pid` holds the repository's writer lock (it writes its pid into
// locks/writer once it has the flock).
bool wait_for_lock_holder(const std::string& repo, pid_t pid, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        auto h = read_lock_holder(repo);
        if (h && h->pid == pid) return true;
        std::this_thread::sleep_for(5ms);
    }
    return false;
}

class PruneConcurrency : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        sources_ = new TempDir();
        PruneScenario::make_sources(sources_->path());
    }
    static void TearDownTestSuite() { delete sources_; }
    void SetUp() override { ASSERT_NO_FATAL_FAILURE(s.build(dir / "repo", sources_->path())); }

    static TempDir* sources_;
    TempDir dir;
    PruneScenario s;
};
TempDir* PruneConcurrency::sources_ = nullptr;

TEST_F(PruneConcurrency, IngestWaitingForTheLockFinishesAfterPrune) {
    // Prune pauses with the lock held, after planning, before changing anything.
    ChildProcess prune({strata_binary(), "prune", "--json", "--grace", "0", s.repo},
                       {"STRATA_TEST_PAUSE_AT=prune-planned:1500"});
    ASSERT_TRUE(wait_for_lock_holder(s.repo, prune.pid(), 30s)) << "prune never took the lock";
    // Back up v1 again: exactly the content of a forgotten snapshot, whose packs prune is removing.
    const auto started = std::chrono::steady_clock::now();
    ChildProcess ingest({strata_binary(), "ingest", "--json", "--lock-wait", "60", s.repo, s.source(1)});
    RunResult ingested = ingest.wait();
    const auto waited = std::chrono::steady_clock::now() - started;
    RunResult pruned = prune.wait();
    ASSERT_EQ(pruned.exit_code, 0) << describe(pruned);
    ASSERT_EQ(ingested.exit_code, 0) << describe(ingested);
    EXPECT_GT(waited, 500ms) << "the ingest did not wait for prune";
    Json p = Json::parse(pruned.out);
    EXPECT_EQ(p["plan"]["delete_packs"], 1) << pruned.out;
    EXPECT_EQ(p["plan"]["repack_packs"], 1) << pruned.out;
    const std::string id = Json::parse(ingested.out)["id"];

    EXPECT_EQ(verify_problems(s.repo), "");
    EXPECT_EQ(restore_and_compare(s.repo, id, dir / "r1", s.source(1)), "");
    EXPECT_EQ(restore_and_compare(s.repo, s.ids[3], dir / "r3", s.source(3)), "");
}

TEST_F(PruneConcurrency, PruneWaitingForAnIngestKeepsWhatItDeduplicated) {
    // A big source that also holds b.bin, the file only the forgotten s1 has: the ingest
    // deduplicates it against s1's pack, which prune has planned to rewrite without it.
    const std::string big = dir / "big";
    make_scenario_source(big, 1);
    for (int i = 0; i < 12; ++i) write_random_file(big + "/more" + std::to_string(i), 4u << 20, 500 + static_cast<std::uint64_t>(i));
    ChildProcess ingest({strata_binary(), "ingest", "--json", s.repo, big});
    ASSERT_TRUE(wait_for_lock_holder(s.repo, ingest.pid(), 30s)) << "the ingest never took the lock";
    ChildProcess prune({strata_binary(), "prune", "--json", "--grace", "0", "--lock-wait", "60", s.repo});
    RunResult ingested = ingest.wait();
    RunResult pruned = prune.wait();
    ASSERT_EQ(ingested.exit_code, 0) << describe(ingested);
    ASSERT_EQ(pruned.exit_code, 0) << describe(pruned);
    Json p = Json::parse(pruned.out);
    EXPECT_EQ(p["plan"]["snapshots"], 3) << "prune did not see the snapshot made while it waited: " << pruned.out;
    const std::string id = Json::parse(ingested.out)["id"];

    EXPECT_EQ(verify_problems(s.repo), "");
    EXPECT_EQ(restore_and_compare(s.repo, id, dir / "rbig", big), "");
    EXPECT_EQ(restore_and_compare(s.repo, s.ids[2], dir / "r2", s.source(2)), "");
}

// Reads every file of `snap` through `repo`, comparing with `source`. Returns "" when all bytes
// match, else the first difference or error.
std::string read_and_compare(RepositoryReader& repo, const Snapshot& snap, const std::string& source) {
    std::vector<std::pair<BlobId, std::string>> dirs{{snap.rec.root, ""}};
    while (!dirs.empty()) {
        auto [tree, rel] = dirs.back();
        dirs.pop_back();
        for (const auto& e : repo.load_tree(tree)) {
            const std::string p = rel + "/" + e.name;
            if (e.type == EntryType::Dir) dirs.push_back({e.subtree, p});
            if (e.type != EntryType::File) continue;
            std::string content;
            for (const auto& c : e.chunks) {
                Bytes b = repo.load_data(c.id);
                content.append(b.begin(), b.end());
            }
            if (content != read_file(source + p)) return "wrong bytes in " + p;
        }
    }
    return "";
}

TEST_F(PruneConcurrency, ReadersDuringPruneGetCorrectBytesOrAnErrorNeverWrongData) {
    auto reader = open_repository_reader(s.repo);
    auto listed = reader->snapshots();
    ASSERT_EQ(listed.size(), 2u);
    // Keep a handle on a snapshot that is forgotten while we read, as a mount that listed it would.
    RunResult ing = run_strata({"ingest", "--json", s.repo, s.source(1)});
    ASSERT_EQ(ing.exit_code, 0) << describe(ing);
    auto all = reader->snapshots();
    const Snapshot doomed = resolve_snapshot(all, Json::parse(ing.out)["id"].get<std::string>());
    const Snapshot kept = resolve_snapshot(all, s.ids[3]);
    ASSERT_EQ(read_and_compare(*reader, doomed, s.source(1)), "");

    std::atomic<bool> stop{false};
    std::atomic<int> kept_reads{0}, doomed_ok{0}, doomed_errors{0};
    std::string failure;
    std::thread t([&] {
        auto own = open_repository_reader(s.repo);  // a reader of its own, like a mount
        while (!stop) {
            std::string diff;
            try {
                diff = read_and_compare(*own, kept, s.source(3));
            } catch (const StoreError& e) {
                diff = std::string("error reading a kept snapshot: ") + e.what();
            }
            if (!diff.empty()) {
                failure = diff;
                return;
            }
            kept_reads++;
            try {
                if (!read_and_compare(*own, doomed, s.source(1)).empty()) {
                    failure = "wrong bytes from the forgotten snapshot";
                    return;
                }
                doomed_ok++;
            } catch (const StoreError&) {
                doomed_errors++;  // its data is gone: an error, never other bytes
            }
        }
    });
    RunResult f = run_strata({"forget", s.repo, doomed.id.hex()});
    EXPECT_EQ(f.exit_code, 0) << describe(f);
    // Two prunes with the default grace period: the second finds the first one's packs pending.
    for (int i = 0; i < 2; ++i) {
        RunResult p = run_strata({"prune", s.repo});
        EXPECT_EQ(p.exit_code, 0) << describe(p);
    }
    std::this_thread::sleep_for(300ms);
    stop = true;
    t.join();
    EXPECT_EQ(failure, "");
    EXPECT_GT(kept_reads.load(), 0);
    EXPECT_EQ(verify_problems(s.repo), "");
}

// --- the same through a real FUSE mount -------------------------------------------------------

// Reads `path` whole with read(2); returns false (with errno kept) if opening or any read fails.
// (An ifstream stops quietly at a failing read, and the prefix it got looked like wrong bytes.)
bool read_whole(const std::string& path, std::string& out) {
    out.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            errno = e;
            return false;
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return true;
}

TEST_F(PruneConcurrency, MountKeepsServingCorrectBytesDuringPrune) {
    SKIP_WITHOUT_FUSE();
    RunResult ing = run_strata({"ingest", "--json", s.repo, s.source(1)});
    ASSERT_EQ(ing.exit_code, 0) << describe(ing);
    const std::string doomed = Json::parse(ing.out)["id"];
    const std::string mnt = dir / "mnt";
    ::mkdir(mnt.c_str(), 0755);
    ChildProcess mount({strata_binary(), "mount", "-f", s.repo, mnt});
    struct Unmount {
        std::string m;
        ~Unmount() { unmount(m); }
    } guard{mnt};
    for (int i = 0; i < 750 && !is_mounted(mnt); ++i) std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(is_mounted(mnt)) << "not mounted";
    const std::string kept_dir = mnt + "/ids/" + s.ids[3].substr(0, 8);
    const std::string doomed_dir = mnt + "/ids/" + doomed.substr(0, 8);
    std::vector<std::string> files{"a.bin", "d.bin", "e.bin", "small/s0", "small/s7"};
    std::vector<std::string> doomed_files{"b.bin", "c.bin", "small/s1"};
    std::string content;
    ASSERT_TRUE(read_whole(kept_dir + "/a.bin", content)) << "cannot read through the mount";

    std::atomic<bool> stop{false};
    std::atomic<int> rounds{0};
    std::string failure;
    std::thread reader([&] {
        while (!stop) {
            for (const auto& f : files) {
                std::string got;
                if (!read_whole(kept_dir + "/" + f, got)) {
                    failure = "cannot read " + f + " of a kept snapshot: " + std::strerror(errno);
                    return;
                }
                if (got != read_file(s.source(3) + "/" + f)) {
                    failure = "wrong bytes in " + f + " of a kept snapshot";
                    return;
                }
            }
            for (const auto& f : doomed_files) {
                std::string got;
                // Gone (an error) is fine for a forgotten snapshot; other bytes never are.
                const std::string want = read_file(s.source(1) + "/" + f);
                if (read_whole(doomed_dir + "/" + f, got) && got != want) {
                    failure = "wrong bytes in " + f + " of the forgotten snapshot (" + std::to_string(got.size()) +
                              " bytes read, " + std::to_string(want.size()) + " expected, " +
                              (want.compare(0, got.size(), got) == 0 ? "a prefix" : "not a prefix") + ")";
                    return;
                }
            }
            rounds++;
        }
    });
    RunResult f = run_strata({"forget", s.repo, doomed});
    EXPECT_EQ(f.exit_code, 0) << describe(f);
    for (int i = 0; i < 2; ++i) {
        RunResult p = run_strata({"prune", s.repo});
        EXPECT_EQ(p.exit_code, 0) << describe(p);
    }
    std::this_thread::sleep_for(500ms);
    stop = true;
    reader.join();
    EXPECT_EQ(failure, "");
    EXPECT_GT(rounds.load(), 0);
}

}  // namespace
}  // namespace strata::testing
