// Source trees that fight back, through the strata binary: a FIFO with no writer (no hang, exit 0)
// and a directory of a million entries (completes, bounded peak memory measured with wait4, and
// its tree reads back entry for entry). The mid-walk races are in
// tests/store/hostile_source_test.cpp; two of them are repeated here through the binary
// (STRATA_TEST_STOP_AT), where the exit status 3 and the message matter.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "store/repo/reader.h"
#include "store/repo/repository.h"
#include "tests/e2e/e2e_support.h"
#include "tests/testlib/sanitizer.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

// Entries of the big directory: the million the issue asks for, as hard links in a tmpfs (no
// inode, no disk). On an idle 2-core machine making them takes about 10 s and the ingest about
// 10 s. Under AddressSanitizer, whose run is about memory errors rather than scale, a fifth.
// Peak RSS the ingest may reach: one directory is one tree blob, so its entries are held while it
// is encoded (about 90 bytes each encoded, a few hundred decoded); 1 GiB leaves room for that and
// fails on anything that grows with the entries by kilobytes.
#ifdef STRATA_TEST_ASAN
constexpr unsigned kBigDirEntries = 200000;
constexpr long kBigDirMaxRssKiB = 1024 * 1024;  // plus shadow memory and a 256 MiB quarantine
#else
constexpr unsigned kBigDirEntries = 1000000;
constexpr long kBigDirMaxRssKiB = 1024 * 1024;
#endif
// Longest an ingest here may take before the test calls it hung: far above the 10-25 s a
// million entries take on a loaded 2-core machine.
constexpr auto kHangLimit = 300s;

struct Finished {
    int status = -1;  // wait status; -1 if it had to be killed as hung
    long max_rss_kib = 0;
    double seconds = 0;
    std::string out, err;
};

// Runs the strata binary with `args`, killing it after kHangLimit; reports its peak RSS (wait4).
// With `stop_at`, the child runs with STRATA_TEST_STOP_AT=stop_at (store/ingest/walk_hook.h): each time it
// stops itself there, `on_stop` runs and the child is resumed.
Finished run_measured(const std::vector<std::string>& args, const std::string& capture_dir,
                      const std::string& stop_at = "", const std::function<void()>& on_stop = {}) {
    const std::string out_path = capture_dir + "/out", err_path = capture_dir + "/err";
    auto started = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = ::open("/dev/null", O_RDONLY);
        if (!stop_at.empty()) ::setenv("STRATA_TEST_STOP_AT", stop_at.c_str(), 1);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        std::vector<std::string> argv{strata_binary()};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> raw;
        for (auto& a : argv) raw.push_back(a.data());
        raw.push_back(nullptr);
        ::execv(raw[0], raw.data());
        ::_exit(127);
    }
    Finished f;
    struct rusage ru {};
    for (;;) {
        int status = 0;
        pid_t done = ::wait4(pid, &status, WNOHANG | WUNTRACED, &ru);
        if (done == pid && WIFSTOPPED(status)) {
            if (on_stop) on_stop();
            ::kill(pid, SIGCONT);
            continue;
        }
        if (done == pid) {
            f.status = status;
            break;
        }
        if (std::chrono::steady_clock::now() - started > kHangLimit) {
            ::kill(pid, SIGKILL);
            ::wait4(pid, &status, 0, &ru);
            break;
        }
        std::this_thread::sleep_for(10ms);
    }
    f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    f.max_rss_kib = ru.ru_maxrss;
    f.out = read_file(out_path);
    f.err = read_file(err_path);
    return f;
}

int exit_code(const Finished& f) {
    return f.status >= 0 && WIFEXITED(f.status) ? WEXITSTATUS(f.status) : -1;
}

// Mounts a tmpfs at `dir` for its lifetime.
class Tmpfs {
  public:
    Tmpfs(const std::string& dir, const char* options) : dir_(dir) {
        mounted_ = ::mount("strata-test", dir.c_str(), "tmpfs", 0, options) == 0;
        if (!mounted_) error_ = std::strerror(errno);
    }
    ~Tmpfs() {
        if (mounted_ && ::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }

  private:
    std::string dir_, error_;
    bool mounted_ = false;
};

std::string entry_name(unsigned i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%07u", i);
    return name;
}

TEST(HostileSourceCli, FifoWithNoWriterIsRecordedWithoutHanging) {
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src";
    init_repo(repo);
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    ASSERT_EQ(::mkfifo((src + "/pipe").c_str(), 0600), 0);
    write_file(src + "/file", "x\n");
    Finished f = run_measured({"ingest", "--json", repo, src}, dir.path());
    ASSERT_NE(f.status, -1) << "ingest hung on a FIFO with no writer";
    EXPECT_EQ(exit_code(f), 0) << f.err;
    EXPECT_LT(f.seconds, 10.0);
    RunResult ls = run_strata({"ls", "--json", repo, "latest"});
    EXPECT_NE(ls.out.find("\"fifo\""), std::string::npos) << describe(ls);
    // And as the path given to ingest itself.
    Finished top = run_measured({"ingest", "--json", repo, src + "/pipe"}, dir.path());
    ASSERT_NE(top.status, -1) << "ingest hung on a FIFO given as its path";
    EXPECT_EQ(exit_code(top), 0) << top.err;
}

TEST(HostileSourceCli, FileDeletedMidIngestGivesExit3AndAPartialSnapshot) {
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src";
    init_repo(repo);
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_file(src + "/keep.txt", "kept\n");
    write_file(src + "/victim.txt", "deleted while the ingest looks away\n");
    int stops = 0;
    Finished f = run_measured({"ingest", "--json", repo, src}, dir.path(),
                              "before-open:" + src + "/victim.txt", [&] {
                                  ++stops;
                                  ::unlink((src + "/victim.txt").c_str());
                              });
    ASSERT_NE(f.status, -1) << "ingest hung";
    ASSERT_EQ(stops, 1) << "the ingest never reached the stop point: " << f.err;
    EXPECT_EQ(exit_code(f), 3) << f.err;
    EXPECT_NE(f.err.find("warning: " + src + "/victim.txt: vanished before it could be read"),
              std::string::npos)
        << f.err;
    Json summary = Json::parse(f.out, nullptr, false);
    ASSERT_TRUE(summary.is_object()) << f.out;
    EXPECT_TRUE(summary["partial"].get<bool>());
    EXPECT_EQ(run_strata({"cat", repo, "latest", "keep.txt"}).out, "kept\n");
    EXPECT_NE(run_strata({"cat", repo, "latest", "victim.txt"}).exit_code, 0);
}

TEST(HostileSourceCli, FileTruncatedMidReadGivesExit3AndNamesIt) {
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src", log = src + "/app.log";
    init_repo(repo);
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_random_file(log, 20u << 20, 11);  // more than one 8 MiB read
    int stops = 0;
    Finished f =
        run_measured({"ingest", "--json", repo, src}, dir.path(), "after-read:" + log, [&] {
            if (++stops == 1) {
                ASSERT_EQ(::truncate(log.c_str(), 1u << 20), 0);
            }
        });
    ASSERT_NE(f.status, -1) << "ingest hung";
    ASSERT_GE(stops, 1) << "the ingest never reached the stop point: " << f.err;
    EXPECT_EQ(exit_code(f), 3) << f.err;
    EXPECT_NE(f.err.find("warning: " + log + ": changed while being read"), std::string::npos)
        << f.err;
}

TEST(HostileSourceCli, MillionEntryDirectoryIngestsWithBoundedMemoryAndReadsBack) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs for the million entries";
    TempDir dir;
    const std::string fs = dir / "fs";
    ASSERT_EQ(::mkdir(fs.c_str(), 0755), 0);
    Tmpfs tmpfs(fs, "size=1g,nr_inodes=0");  // every link costs a tmpfs inode: no limit
    if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << tmpfs.error();
    const std::string repo = fs + "/repo", src = fs + "/src", big = src + "/big";
    init_repo(repo);
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(big.c_str(), 0755), 0);
    write_file(src + "/target", "one inode, a million names\n");
    auto started = std::chrono::steady_clock::now();
    {
        int dfd = ::open(big.c_str(), O_RDONLY | O_DIRECTORY);
        ASSERT_GE(dfd, 0);
        const std::string target = src + "/target";
        for (unsigned i = 0; i < kBigDirEntries; ++i)
            ASSERT_EQ(::linkat(AT_FDCWD, target.c_str(), dfd, entry_name(i).c_str(), 0), 0)
                << i << ": " << std::strerror(errno);
        ::close(dfd);
    }
    double created =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    Finished f = run_measured({"ingest", "--json", repo, src}, dir.path());
    ASSERT_NE(f.status, -1) << "ingest of the big directory took over " << kHangLimit.count()
                            << " s";
    EXPECT_EQ(exit_code(f), 0) << f.err;
    EXPECT_LT(f.max_rss_kib, kBigDirMaxRssKiB);
    std::printf(
        "[ measured ] %u entries: created in %.1f s, ingested in %.1f s, peak RSS %ld MiB\n",
        kBigDirEntries, created, f.seconds, f.max_rss_kib / 1024);

    // The tree reads back with every name, in order, each a hard link of the one file.
    started = std::chrono::steady_clock::now();
    auto r = Repository::open(repo);
    auto snaps = r->snapshots();
    ASSERT_EQ(snaps.size(), 1u);
    TreeEntry dir_entry = find_path(*r, snaps[0], "big");
    std::vector<TreeEntry> entries = r->load_tree(dir_entry.subtree);
    ASSERT_EQ(entries.size(), kBigDirEntries);
    TreeEntry target = find_path(*r, snaps[0], "target");
    for (unsigned i = 0; i < kBigDirEntries; ++i) {
        ASSERT_EQ(entries[i].name, entry_name(i));
        ASSERT_EQ(entries[i].type, EntryType::File);
        ASSERT_EQ(entries[i].link_group, target.link_group);
        ASSERT_NE(entries[i].link_group, 0u);
    }
    std::printf("[ measured ] tree of %u entries loaded and checked in %.1f s\n", kBigDirEntries,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace
}  // namespace strata::testing
