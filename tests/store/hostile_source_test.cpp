// Source trees that fight back, ingested in-process: files deleted, truncated or growing while
// they are read, FIFOs, directories that vanish or turn unreadable, entries swapped for symlinks
// mid-walk, and a 1 TiB sparse file. The races are made exact with the Walker's test hook
// (store/ingest/walk_hook.h). Every ingest runs under an alarm, so a hang fails the test (SIGALRM
// ends the binary) instead of blocking CI.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "store/base/hash.h"
#include "store/format/pack.h"
#include "store/ingest/ingest.h"
#include "store/ingest/walk_hook.h"
#include "store/repo/reader.h"
#include "store/repo/repository.h"
#include "store/restore/restore.h"
#include "tests/testlib/sample_tree.h"
#include "tests/testlib/temp_dir.h"

namespace strata::testing {
namespace {

// Longest any single ingest here may take before the test counts it as hung (seconds).
constexpr unsigned kHangSeconds = 60;
constexpr uid_t kNobody = 65534;

// Small chunks so that a few MiB make several blobs, and quick repositories.
InitOptions small_chunks() {
    InitOptions o = default_init_options();
    o.chunker = {16u << 10, 32u << 10, 64u << 10};
    return o;
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
    std::string s(n, '\0');
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x);
    }
    return s;
}

class HostileSource : public ::testing::Test {
  protected:
    void SetUp() override {
        repo_path = dir / "repo";
        src = dir / "src";
        Repository::init(repo_path, small_chunks());
        repo = Repository::open(repo_path);
        ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    }

    // Ingests src with `hook` installed; fails (by SIGALRM) if it takes longer than kHangSeconds.
    IngestResult ingest_with(WalkHook hook) {
        WalkHookScope scope(std::move(hook));
        IngestOptions o;
        o.paths = {src};
        o.threads = 1;
        o.host = "testhost";
        ::alarm(kHangSeconds);
        IngestResult r = ingest(*repo, o);
        ::alarm(0);
        return r;
    }

    // The entry at `rel` in the snapshot, or nullopt when the snapshot has none.
    std::optional<TreeEntry> entry_at(const Snapshot& s, const std::string& rel) {
        try {
            return find_path(*repo, s, rel);
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) return std::nullopt;
            throw;
        }
    }

    // The content a snapshot stored for a file entry (holes as zeroes).
    std::string content_of(const TreeEntry& e) {
        std::string out(e.size, '\0');
        for (const auto& c : e.chunks) {
            Bytes b = repo->load_data(c.id);
            std::memcpy(out.data() + c.offset, b.data(), b.size());
        }
        return out;
    }

    static std::string reason_for(const IngestResult& r, const std::string& path) {
        for (const auto& w : r.warnings)
            if (w.path == path) return w.reason;
        return "";
    }
    static std::string all_warnings(const IngestResult& r) {
        std::string s;
        for (const auto& w : r.warnings) s += w.path + ": " + w.reason + "\n";
        return s.empty() ? "(no warnings)" : s;
    }

    TempDir dir;
    std::string repo_path, src;
    std::unique_ptr<Repository> repo;
};

TEST_F(HostileSource, FileDeletedBeforeItIsReadIsReportedAndTheRestIsSaved) {
    write_file(src + "/keep", "kept\n");
    write_file(src + "/victim", "gone before it is opened\n");
    const std::string victim = src + "/victim";
    IngestResult r = ingest_with([&](const char* point, const std::string& path) {
        if (std::strcmp(point, "before-open") == 0 && path == victim) ::unlink(victim.c_str());
    });
    EXPECT_NE(reason_for(r, victim).find("vanished"), std::string::npos) << all_warnings(r);
    EXPECT_EQ(r.warnings.size(), 1u) << all_warnings(r);
    EXPECT_TRUE(r.snapshot.rec.partial);
    EXPECT_FALSE(entry_at(r.snapshot, "victim"));
    auto keep = entry_at(r.snapshot, "keep");
    ASSERT_TRUE(keep);
    EXPECT_EQ(content_of(*keep), "kept\n");
}

TEST_F(HostileSource, FileTruncatedWhileReadIsReportedAndAPrefixOfItIsStored) {
    // Larger than one read (8 MiB) so the truncation lands between two reads.
    const std::string original = random_bytes(20u << 20, 1);
    const std::string path = src + "/log";
    write_file(path, original);
    int reads = 0;
    IngestResult r = ingest_with([&](const char* point, const std::string& p) {
        if (std::strcmp(point, "after-read") == 0 && p == path && ++reads == 1) {
            ASSERT_EQ(::truncate(path.c_str(), 1u << 20), 0);
        }
    });
    EXPECT_NE(reason_for(r, path).find("changed while being read"), std::string::npos)
        << all_warnings(r);
    EXPECT_TRUE(r.snapshot.rec.partial);
    auto e = entry_at(r.snapshot, "log");
    ASSERT_TRUE(e);
    std::string stored = content_of(*e);
    // What was read before the truncation, never bytes that were not in the file.
    EXPECT_GE(stored.size(), 1u << 20);
    EXPECT_LE(stored.size(), original.size());
    EXPECT_TRUE(original.compare(0, stored.size(), stored) == 0)
        << "stored content is not a prefix";
}

TEST_F(HostileSource, FileGrowingWhileReadIsReportedAndStoredWhole) {
    const std::string first = random_bytes(3u << 20, 2), more = random_bytes(1u << 20, 3);
    const std::string path = src + "/growing";
    write_file(path, first);
    int reads = 0;
    IngestResult r = ingest_with([&](const char* point, const std::string& p) {
        if (std::strcmp(point, "after-read") == 0 && p == path && ++reads == 1) {
            int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
            ASSERT_GE(fd, 0);
            ASSERT_EQ(::write(fd, more.data(), more.size()), static_cast<ssize_t>(more.size()));
            ::close(fd);
        }
    });
    EXPECT_NE(reason_for(r, path).find("changed while being read"), std::string::npos)
        << all_warnings(r);
    auto e = entry_at(r.snapshot, "growing");
    ASSERT_TRUE(e);
    EXPECT_EQ(content_of(*e), first + more);  // read to its end as it was when reading stopped
}

TEST_F(HostileSource, FileThatNeverStopsGrowingIsCutOffNotReadForever) {
    const std::string path = src + "/endless";
    write_file(path, random_bytes(1u << 20, 4));
    const std::string block = random_bytes(256u << 10, 5);
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    // Every read is answered with more data than it took, as a fast writer would.
    IngestResult r = ingest_with([&](const char* point, const std::string& p) {
        if (std::strcmp(point, "after-read") == 0 && p == path) {
            ASSERT_EQ(::write(fd, block.data(), block.size()), static_cast<ssize_t>(block.size()));
        }
    });
    ::close(fd);
    EXPECT_NE(reason_for(r, path).find("kept growing"), std::string::npos) << all_warnings(r);
    auto e = entry_at(r.snapshot, "endless");
    ASSERT_TRUE(e);
    EXPECT_GE(e->size, 1u << 20);
    EXPECT_LE(e->size, (1u << 20) + (16u << 20) + block.size());
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_LT(e->size, static_cast<std::uint64_t>(st.st_size));
}

TEST_F(HostileSource, FifoWithoutWriterIsRecordedAndNeverOpened) {
    ASSERT_EQ(::mkfifo((src + "/pipe").c_str(), 0640), 0);
    write_file(src + "/after", "still read\n");
    auto started = std::chrono::steady_clock::now();
    IngestResult r = ingest_with(nullptr);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    EXPECT_TRUE(r.warnings.empty()) << all_warnings(r);
    auto pipe = entry_at(r.snapshot, "pipe");
    ASSERT_TRUE(pipe);
    EXPECT_EQ(pipe->type, EntryType::Fifo);
    EXPECT_EQ(pipe->mode, 0640u);
    ASSERT_TRUE(entry_at(r.snapshot, "after"));
}

TEST_F(HostileSource, FileSwappedForAFifoBeforeOpenIsReportedWithoutBlocking) {
    const std::string path = src + "/swapped";
    write_file(path, "a file when listed\n");
    IngestResult r = ingest_with([&](const char* point, const std::string& p) {
        if (std::strcmp(point, "before-open") == 0 && p == path) {
            ::unlink(path.c_str());
            ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
        }
    });
    EXPECT_NE(reason_for(r, path).find("replaced"), std::string::npos) << all_warnings(r);
    EXPECT_TRUE(r.snapshot.rec.partial);
}

TEST_F(HostileSource, DirectoryThatVanishesOrIsReplacedIsReported) {
    ASSERT_EQ(::mkdir((src + "/gone").c_str(), 0755), 0);
    write_file(src + "/gone/inside", "x");
    ASSERT_EQ(::mkdir((src + "/swapped").c_str(), 0755), 0);
    write_file(src + "/swapped/old", "old");
    IngestResult r = ingest_with([&](const char* point, const std::string& p) {
        if (std::strcmp(point, "before-opendir") != 0) return;
        if (p == src + "/gone") {
            ::unlink((p + "/inside").c_str());
            ::rmdir(p.c_str());
        } else if (p == src + "/swapped") {
            ASSERT_EQ(::rename(p.c_str(), (dir / "moved-away").c_str()), 0);
            ASSERT_EQ(::mkdir(p.c_str(), 0755), 0);
            write_file(p + "/new", "new");
        }
    });
    EXPECT_NE(reason_for(r, src + "/gone").find("No such file"), std::string::npos)
        << all_warnings(r);
    EXPECT_NE(reason_for(r, src + "/swapped").find("replaced"), std::string::npos)
        << all_warnings(r);
    EXPECT_TRUE(r.snapshot.rec.partial);
    EXPECT_FALSE(entry_at(r.snapshot, "gone"));
    EXPECT_FALSE(entry_at(r.snapshot, "swapped"));
}

// An entry swapped for a symlink to a secret between lstat and open is never followed: the
// secret's content never reaches the repository.
TEST_F(HostileSource, EntriesSwappedForSymlinksAreNotFollowed) {
    const std::string secret_dir = dir / "secret";
    ASSERT_EQ(::mkdir(secret_dir.c_str(), 0700), 0);
    const std::string secret = random_bytes(40u << 10, 6);  // below the minimum chunk: one blob
    write_file(secret_dir + "/key", secret);
    write_file(src + "/file", "a plain file when listed\n");
    ASSERT_EQ(::mkdir((src + "/dir").c_str(), 0755), 0);
    ASSERT_EQ(::symlink("somewhere", (src + "/link").c_str()), 0);
    IngestResult r = ingest_with([&](const char* point, const std::string& p) {
        if (std::strcmp(point, "before-open") == 0 && p == src + "/file") {
            ::unlink(p.c_str());
            ASSERT_EQ(::symlink((secret_dir + "/key").c_str(), p.c_str()), 0);
        } else if (std::strcmp(point, "before-opendir") == 0 && p == src + "/dir") {
            ::rmdir(p.c_str());
            ASSERT_EQ(::symlink(secret_dir.c_str(), p.c_str()), 0);
        } else if (std::strcmp(point, "before-readlink") == 0 && p == src + "/link") {
            // The reverse: a symlink swapped for a directory holding the secret.
            ::unlink(p.c_str());
            ASSERT_EQ(::mkdir(p.c_str(), 0755), 0);
            write_file(p + "/key", secret);
        }
    });
    for (const char* name : {"/file", "/dir", "/link"})
        EXPECT_FALSE(reason_for(r, src + name).empty()) << name << " not reported:\n"
                                                        << all_warnings(r);
    EXPECT_TRUE(r.snapshot.rec.partial);
    EXPECT_FALSE(repo->index().contains(sha256(as_bytes(secret))))
        << "the secret behind a swapped-in symlink was stored";
    // Nothing under the snapshot's "dir" or "link" leads into the secret directory.
    for (const char* name : {"dir", "link"}) {
        if (auto e = entry_at(r.snapshot, name); e && e->type == EntryType::Dir) {
            EXPECT_TRUE(repo->load_tree(e->subtree).empty()) << name;
        }
    }
}

// As root, chmod 000 stops nobody; the ingest runs in a child that became uid 65534, and the
// directory turns unreadable between its listing by the parent and its opening.
TEST_F(HostileSource, DirectoryTurningUnreadableIsReportedAndTheRestIsSaved) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
    repo.reset();
    const std::string home = dir / "home", own_repo = home + "/repo";
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(home.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((src + "/closing").c_str(), 0755), 0);
    write_file(src + "/closing/inside", "never read\n");
    write_file(src + "/open", "read\n");
    for (const std::string& p :
         {home, src, src + "/closing", src + "/closing/inside", src + "/open"})
        ASSERT_EQ(::chown(p.c_str(), kNobody, kNobody), 0);

    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(out[0]);
        std::string report;
        int code = 0;
        try {
            if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
                ::setresuid(kNobody, kNobody, kNobody) != 0)
                ::_exit(100);
            Repository::init(own_repo, small_chunks());
            repo = Repository::open(own_repo);
            IngestResult r = ingest_with([&](const char* point, const std::string& p) {
                if (std::strcmp(point, "before-opendir") == 0 && p == src + "/closing")
                    ::chmod(p.c_str(), 0);
            });
            report = (r.snapshot.rec.partial ? "partial\n" : "complete\n") + all_warnings(r);
            report += entry_at(r.snapshot, "open") ? "open stored\n" : "open missing\n";
        } catch (const std::exception& e) {
            report = std::string("exception: ") + e.what();
            code = 101;
        }
        (void)!::write(out[1], report.data(), report.size());
        ::_exit(code);
    }
    ::close(out[1]);
    std::string report;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
        report.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::chmod((src + "/closing").c_str(), 0755);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "status " << status << ": " << report;
    EXPECT_NE(report.find("partial\n"), std::string::npos) << report;
    EXPECT_NE(report.find(src + "/closing: cannot open directory: Permission denied"),
              std::string::npos)
        << report;
    EXPECT_NE(report.find("open stored"), std::string::npos) << report;
}

// A directory whose listing is larger than one tree may be (256 MiB: about 2.5 million entries)
// is cut to the entries that fit, in name order, and reported; every pack stays readable. The
// limit is lowered through the walk hook's knob so a few thousand entries reach it.
TEST_F(HostileSource, DirectoryTooLargeForOneTreeIsKeptInPartAndReported) {
    constexpr unsigned kEntries = 3000;
    constexpr std::uint32_t kLimit = 64u << 10;  // ~80 bytes per entry: about 800 fit
    ASSERT_EQ(::mkdir((src + "/big").c_str(), 0755), 0);
    write_file(src + "/target", "x");
    auto name = [](unsigned i) {
        char n[16];
        std::snprintf(n, sizeof n, "e%06u", i);
        return std::string(n);
    };
    for (unsigned i = 0; i < kEntries; ++i)
        ASSERT_EQ(::link((src + "/target").c_str(), (src + "/big/" + name(i)).c_str()), 0);
    walk_tree_size_limit() = kLimit;
    IngestResult r;
    try {
        r = ingest_with(nullptr);
    } catch (...) {
        walk_tree_size_limit() = 0;
        throw;
    }
    walk_tree_size_limit() = 0;
    const std::string reason = reason_for(r, src + "/big");
    EXPECT_NE(reason.find("its 3000 entries need more than the 65536 bytes"), std::string::npos)
        << all_warnings(r);
    EXPECT_TRUE(r.snapshot.rec.partial);
    repo = Repository::open(repo_path);
    std::vector<TreeEntry> kept = repo->load_tree(find_path(*repo, r.snapshot, "big").subtree);
    EXPECT_GT(kept.size(), kEntries / 10);
    EXPECT_LT(kept.size(), kEntries);
    EXPECT_NE(reason.find("stored the first " + std::to_string(kept.size()) + " by name"),
              std::string::npos)
        << reason;
    for (std::size_t i = 0; i < kept.size(); ++i)
        ASSERT_EQ(kept[i].name, name(static_cast<unsigned>(i)));
    EXPECT_EQ(content_of(*entry_at(r.snapshot, "target")), "x");
    for (const auto& pack : repo->objects().list("packs"))
        EXPECT_NO_THROW(read_pack_trailer(repo->objects(), repo->codec(), pack.name)) << pack.name;
}

// Where the file's data is, as [start, end) ranges from SEEK_DATA/SEEK_HOLE.
std::vector<std::pair<off_t, off_t>> data_ranges(const std::string& path) {
    std::vector<std::pair<off_t, off_t>> out;
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return out;
    for (off_t off = 0;;) {
        off_t data = ::lseek(fd, off, SEEK_DATA);
        if (data < 0) break;
        off_t hole = ::lseek(fd, data, SEEK_HOLE);
        out.emplace_back(data, hole);
        off = hole;
    }
    ::close(fd);
    return out;
}

TEST_F(HostileSource, TebibyteSparseFileIsStoredAsItsDataAndRestoredSparse) {
    constexpr off_t kSize = off_t{1} << 40;
    const std::string path = src + "/disk.img";
    const std::string head = random_bytes(64u << 10, 7), middle = random_bytes(1u << 20, 8),
                      tail = random_bytes(4096, 9);
    const std::map<off_t, const std::string*> extents{
        {0, &head}, {off_t{512} << 30, &middle}, {kSize - 4096, &tail}};
    {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, kSize), 0) << std::strerror(errno);
        for (const auto& [off, bytes] : extents)
            ASSERT_EQ(::pwrite(fd, bytes->data(), bytes->size(), off),
                      static_cast<ssize_t>(bytes->size()));
        ::close(fd);
    }
    auto started = std::chrono::steady_clock::now();
    IngestResult r = ingest_with(nullptr);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_LT(seconds, 10.0) << "a sparse file must be read by its data, not its holes";
    EXPECT_TRUE(r.warnings.empty()) << all_warnings(r);
    auto e = entry_at(r.snapshot, "disk.img");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->size, static_cast<std::uint64_t>(kSize));
    const std::uint64_t data = head.size() + middle.size() + tail.size();
    // Filesystems round extents to their block size; allow a block per extent.
    EXPECT_GE(e->data_size(), data);
    EXPECT_LE(e->data_size(), data + 3 * 65536);
    EXPECT_LE(r.snapshot.rec.bytes_added, 2 * data + (1u << 20)) << "holes were stored";

    const std::string target = dir / "restored";
    RestoreOptions ro;
    ::alarm(kHangSeconds);
    restore(*repo, r.snapshot, target, ro);
    ::alarm(0);
    const std::string copy = target + "/disk.img";
    struct stat st;
    ASSERT_EQ(::stat(copy.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, kSize);
    EXPECT_LE(static_cast<std::uint64_t>(st.st_blocks) * 512, data + 3 * 65536 + (1u << 20));
    EXPECT_EQ(data_ranges(copy), data_ranges(path));
    int fd = ::open(copy.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    for (const auto& [off, bytes] : extents) {
        std::string got(bytes->size(), '\0');
        ASSERT_EQ(::pread(fd, got.data(), got.size(), off), static_cast<ssize_t>(got.size()));
        EXPECT_TRUE(got == *bytes) << "extent at " << off;
    }
    ::close(fd);
}

}  // namespace
}  // namespace strata::testing
