// Damage anywhere in a repository's files, driven through the strata binary. A truncated or
// byte-flipped LMDB index used to kill every command with SIGBUS or SIGSEGV; now readers
// (snapshots, ls, cat, restore, mount) exit 1 naming the file and saying to run `strata
// repair-index REPO`, and writers (ingest) rebuild the index and go on. A seeded sweep flips bytes
// in and truncates every file of a small repository and checks that no command dies of a signal,
// hangs, or fails silently.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "tests/e2e/e2e_support.h"
#include "tests/testlib/mount_support.h"
#include "tests/testlib/sanitizer.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

// No command on a repository of a few KiB takes this long; reaching it means a hang.
constexpr auto kCommandLimit = 20s;

struct Timed {
    RunResult run;
    bool timed_out = false;
};

Timed run_strata_limited(const std::vector<std::string>& args) {
    std::vector<std::string> argv{strata_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess child(argv);
    const auto deadline = std::chrono::steady_clock::now() + kCommandLimit;
    Timed t;
    while (child.running()) {
        if (std::chrono::steady_clock::now() > deadline) {
            child.kill(SIGKILL);
            t.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    t.run = child.wait();
    return t;
}

// Regular files below `root`, relative to it, sorted.
void list_files(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
    for (const auto& name : list_dir(root + (rel.empty() ? "" : "/" + rel))) {
        const std::string r = rel.empty() ? name : rel + "/" + name;
        struct stat st;
        if (::lstat((root + "/" + r).c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            list_files(root, r, out);
        else if (S_ISREG(st.st_mode))
            out.push_back(r);
    }
}

std::uint64_t file_size(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void flip_byte(const std::string& path, std::uint64_t offset, unsigned char mask) {
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    unsigned char c = 0;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1) << path << " @" << offset;
    c ^= mask;
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
    ::close(fd);
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

class DamagedRepository : public ::testing::Test {
protected:
    void SetUp() override {
        init_repo(pristine());
        ASSERT_EQ(::mkdir(src().c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((src() + "/dir").c_str(), 0755), 0);
        write_random_file(src() + "/one.bin", 70000, 1);
        write_file(src() + "/dir/note.txt", "a small file\n");
        Ingested a = ingest(pristine(), {src()});
        ASSERT_EQ(a.run.exit_code, 0) << describe(a.run);
        write_random_file(src() + "/two.bin", 50000, 2);
        Ingested b = ingest(pristine(), {src()});
        ASSERT_EQ(b.run.exit_code, 0) << describe(b.run);
        first_ = a.id;
        latest_ = b.id;
        note_ = "dir/note.txt";  // a snapshot of one directory has it as its root
    }

    std::string pristine() { return dir_ / "pristine"; }
    std::string src() { return dir_ / "src"; }
    std::string data_mdb(const std::string& repo) { return repo + "/index/data.mdb"; }

    // A fresh copy of the pristine repository at `name`.
    std::string copy(const std::string& name) {
        const std::string to = dir_ / name;
        remove_tree(to);
        RunResult r = run_process({"cp", "-a", pristine(), to});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return to;
    }

    // The read-only commands a user runs against `repo`.
    std::vector<std::vector<std::string>> readers(const std::string& repo,
                                                  const std::string& target) {
        return {{"snapshots", repo},
                {"ls", "-R", repo, "latest"},
                {"cat", repo, first_, note_},
                {"restore", repo, "latest", target}};
    }

    TempDir dir_;
    std::string first_, latest_, note_;
};

// The brief's reproduction: `truncate -s N index/data.mdb` for sizes across the file, and an
// empty file. Readers refuse with the file's name and the command to run; no signal.
TEST_F(DamagedRepository, TruncatedIndexMakesReadersSayWhatToDoAndIngestRebuildsIt) {
    const std::uint64_t size = file_size(data_mdb(pristine()));
    ASSERT_GT(size, 4 * 4096u);
    for (std::uint64_t cut : {std::uint64_t{0}, std::uint64_t{100}, std::uint64_t{4096},
                              std::uint64_t{8192 + 17}, size / 2, size - 4096, size - 1}) {
        SCOPED_TRACE("data.mdb cut to " + std::to_string(cut) + " of " + std::to_string(size));
        const std::string repo = copy("cut");
        ASSERT_EQ(::truncate(data_mdb(repo).c_str(), static_cast<off_t>(cut)), 0);
        for (const auto& args : readers(repo, dir_ / "restored")) {
            Timed t = run_strata_limited(args);
            SCOPED_TRACE(args[0]);
            ASSERT_FALSE(t.timed_out);
            EXPECT_EQ(t.run.exit_code, 1) << describe(t.run);
            EXPECT_TRUE(contains(t.run.err, data_mdb(repo))) << t.run.err;
            EXPECT_TRUE(contains(t.run.err, "strata repair-index " + repo)) << t.run.err;
            remove_tree(dir_ / "restored");
        }
        Timed v = run_strata_limited({"verify", repo});
        EXPECT_EQ(v.run.exit_code, 1) << describe(v.run);
        EXPECT_TRUE(contains(v.run.out, "index-unreadable  index: the index " + data_mdb(repo)))
            << v.run.out;
        if (cut == 0) {
            EXPECT_TRUE(contains(v.run.out, "empty")) << v.run.out;
        }

        // A writer rebuilds the index, says so, and does its work; nothing is lost.
        Ingested again = ingest(repo, {src()});
        ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
        EXPECT_TRUE(contains(again.run.err, "rebuilding it from the packs")) << again.run.err;
        EXPECT_TRUE(contains(again.run.err, "index rebuilt: ")) << again.run.err;
        EXPECT_EQ(snapshot_ids(repo).size(), 3u);
        RunResult clean = run_strata({"verify", "--read-data", repo});
        EXPECT_EQ(clean.exit_code, 0) << describe(clean);
        EXPECT_EQ(restore_and_compare(repo, latest_, dir_ / "restored", src()), "");
        remove_tree(dir_ / "restored");
    }
}

// A zero-byte data.mdb made a writer's LMDB start a new, empty index over it: the next ingest
// would have forgotten every pack. Now it rebuilds from the packs, and dedup still works.
TEST_F(DamagedRepository, EmptyIndexIsRebuiltByIngestNotStartedAfresh) {
    const std::string repo = copy("empty");
    ASSERT_EQ(::truncate(data_mdb(repo).c_str(), 0), 0);
    Ingested again = ingest(repo, {src()});
    ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
    EXPECT_TRUE(contains(again.run.err, "is empty")) << again.run.err;
    EXPECT_EQ(again.summary["bytes_added"].get<std::uint64_t>(), 0u) << again.run.out;
    EXPECT_EQ(snapshot_ids(repo).size(), 3u);
}

TEST_F(DamagedRepository, TruncatedIndexMakesTheMountFailToStartWithAMessage) {
    SKIP_WITHOUT_FUSE();
    const std::string repo = copy("cut");
    ASSERT_EQ(::truncate(data_mdb(repo).c_str(), 8192 + 100), 0);
    const std::string mp = dir_ / "mnt";
    ASSERT_EQ(::mkdir(mp.c_str(), 0755), 0);
    Timed t = run_strata_limited({"mount", repo, mp});
    unmount(mp);
    ASSERT_FALSE(t.timed_out);
    EXPECT_EQ(t.run.exit_code, 1) << describe(t.run);
    EXPECT_TRUE(contains(t.run.err, "strata repair-index " + repo)) << t.run.err;
    EXPECT_FALSE(is_mounted(mp));
}

// Flipped bytes inside data.mdb's pages (headers, node offsets) made LMDB read outside its map.
// A reader opening the index while an ingest commits (a mount started during a backup): the file
// grows under the reader's check of its length against its meta page. The check used to take the
// length first, and a commit landing before the meta was read made a sound index look truncated
// ("damaged"). Held between the two reads while a large ingest commits, it must see it whole.
TEST_F(DamagedRepository, AnIndexGrowingWhileAReaderChecksItIsNotCalledDamaged) {
    const std::string repo = copy("growing");
    const std::uint64_t before = file_size(data_mdb(repo));
    ChildProcess reader({strata_binary(), "snapshots", repo},
                        {"STRATA_TEST_PAUSE_AT=index-file-sized:4000"});
    ::usleep(300000);  // the reader is held at the pause by now
    const std::string more = dir_ / "more";
    ASSERT_EQ(::mkdir(more.c_str(), 0755), 0);
    for (int i = 0; i < 3000; ++i) write_file(more + "/f" + std::to_string(i), std::to_string(i));
    RunResult ingested = run_strata({"ingest", repo, more});
    ASSERT_EQ(ingested.exit_code, 0) << describe(ingested);
    ASSERT_GT(file_size(data_mdb(repo)), before) << "the ingest did not grow the index";
    ASSERT_TRUE(reader.running()) << "the reader was not held long enough";
    RunResult r = reader.wait();
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err.find("damaged"), std::string::npos) << r.err;
}

TEST_F(DamagedRepository, FlippedPageHeadersInTheIndexGiveAMessageNotASignal) {
    const std::string repo = copy("flipped");
    const std::uint64_t pages = file_size(data_mdb(repo)) / 4096;
    int refused = 0;
    for (std::uint64_t page = 2; page < pages; ++page) {
        // Flags, lower, upper, first node offset; under AddressSanitizer flags and upper only
        // (tests/testlib/sanitizer.h), a third of the time of the whole sweep.
        for (std::uint64_t at : kUnderAddressSanitizer ? std::vector<std::uint64_t>{10, 14}
                                                       : std::vector<std::uint64_t>{10, 12, 14, 16}) {
            SCOPED_TRACE("page " + std::to_string(page) + " byte " + std::to_string(at));
            // These commands write nothing: flipping the byte back restores the repository.
            flip_byte(data_mdb(repo), page * 4096 + at, 0x5a);
            for (const auto& args : {std::vector<std::string>{"snapshots", repo},
                                     std::vector<std::string>{"cat", repo, first_, note_}}) {
                Timed t = run_strata_limited(args);
                ASSERT_FALSE(t.timed_out) << args[0];
                ASSERT_EQ(t.run.signal, 0) << args[0] << ": " << describe(t.run);
                if (t.run.exit_code != 0) {
                    refused++;
                    EXPECT_FALSE(t.run.err.empty()) << args[0];
                }
            }
            flip_byte(data_mdb(repo), page * 4096 + at, 0x5a);
        }
    }
    EXPECT_GT(refused, 0);  // the sweep reached pages in use
}

// The sweep: every file of the repository, seeded offsets, a flipped byte or a truncation; every
// command must end on its own with 0..3, and say something when it is not 0.
TEST_F(DamagedRepository, AnyFlippedByteOrTruncationAnywhereGivesAMessageNotASignal) {
    std::vector<std::string> files;
    list_files(pristine(), "", files);
    ASSERT_FALSE(files.empty());
    std::mt19937_64 rng(20261201);
    struct Case {
        std::string file;
        bool truncate;
        std::uint64_t at;
    };
    std::vector<Case> cases;
    for (const auto& f : files) {
        const std::uint64_t size = file_size(pristine() + "/" + f);
        if (size == 0) {
            continue;  // locks/writer between writers: nothing to damage
        }
        const bool index = f == "index/data.mdb";
        const int flips = index ? 10 : 3;
        for (int i = 0; i < flips; ++i) {
            std::uint64_t at = rng() % size;
            if (index && i < 4) at = (i % 2) * 4096 + rng() % 160;  // the meta pages
            cases.push_back({f, false, at});
        }
        cases.push_back({f, true, rng() % size});
        if (index) cases.push_back({f, true, 0});
    }
    const bool fuse = why_no_fuse().empty();
    const std::string mp = dir_ / "mnt";
    ASSERT_EQ(::mkdir(mp.c_str(), 0755), 0);
    std::size_t n = 0, i = 0;
    for (const auto& c : cases) {
        // Under AddressSanitizer every other case (tests/testlib/sanitizer.h): 90 s otherwise.
        if (kUnderAddressSanitizer && i++ % 2 == 1) continue;
        const std::string what =
            c.file + (c.truncate ? " cut to " : " flipped at ") + std::to_string(c.at);
        SCOPED_TRACE(what);
        const std::string repo = copy("swept");
        const std::string path = repo + "/" + c.file;
        if (c.truncate)
            ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(c.at)), 0);
        else
            flip_byte(path, c.at, static_cast<unsigned char>(1u << (rng() % 8)));
        auto commands = readers(repo, dir_ / "restored");
        commands.push_back({"verify", repo});
        commands.push_back({"ingest", repo, src()});  // last: it writes
        for (const auto& args : commands) {
            Timed t = run_strata_limited(args);
            ASSERT_FALSE(t.timed_out) << args[0] << " hangs";
            ASSERT_EQ(t.run.signal, 0) << args[0] << ": " << describe(t.run);
            EXPECT_GE(t.run.exit_code, 0) << args[0];
            EXPECT_LE(t.run.exit_code, 3) << args[0];
            if (t.run.exit_code != 0) {  // verify reports damage on stdout, errors on stderr
                const std::string said = args[0] == "verify" ? t.run.out + t.run.err : t.run.err;
                EXPECT_FALSE(said.empty()) << args[0] << ": " << describe(t.run);
            }
            remove_tree(dir_ / "restored");
        }
        // A mount of every fourth case (a mount costs more than the other commands together).
        if (fuse && n++ % 4 == 0) {
            const std::string fresh = copy("mounted");
            const std::string fpath = fresh + "/" + c.file;
            if (c.truncate)
                ASSERT_EQ(::truncate(fpath.c_str(), static_cast<off_t>(c.at)), 0);
            else
                flip_byte(fpath, c.at, 0x10);
            Timed m = run_strata_limited({"mount", fresh, mp});
            if (!m.timed_out && m.run.exit_code == 0) {
                // Served: every file reads, or fails with an error (EIO), within the limit.
                ChildProcess reader(
                    {"sh", "-c", "find '" + mp + "' -type f -exec cat {} + > /dev/null"});
                const auto deadline = std::chrono::steady_clock::now() + kCommandLimit;
                while (reader.running() && std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(5ms);
                EXPECT_FALSE(reader.running()) << "reading through the mount hangs";
                reader.kill(SIGKILL);
            }
            unmount(mp);
            ASSERT_FALSE(m.timed_out) << "mount hangs";
            ASSERT_EQ(m.run.signal, 0) << describe(m.run);
            EXPECT_TRUE(m.run.exit_code == 0 || !m.run.err.empty()) << describe(m.run);
            EXPECT_FALSE(is_mounted(mp));
        }
    }
}

}  // namespace
}  // namespace strata::testing
