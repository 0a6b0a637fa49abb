// Real mounts: the strata binary mounts a repository (as a child process, `strata mount -f`),
// the tests look at it through the kernel like any program would, and every test unmounts in
// its teardown (fusermount3 -u with retries, then a lazy unmount), even when it fails.
// Skipped, with the reason printed, where /dev/fuse or fusermount3 is missing. The tests of what
// a mount shows run against a local repository and (in s3_tests) one on S3
// (tests/testlib/backend.h); those of damaged pack files and of the mount process run locally.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "tests/testlib/backend.h"
#include "tests/testlib/mount_support.h"
#include "tests/testlib/process.h"
#include "tests/testlib/sample_tree.h"
#include "tests/testlib/temp_dir.h"
#include "tests/testlib/tree_scan.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

class MountTest : public ::testing::Test {
  protected:
    void SetUp() override {
        src = dir / "src";
        tree = dir / "tree";
        repo = new_repository_location(dir, "repo");
        mnt = dir / "mnt";
        ::mkdir(src.c_str(), 0755);
        ::mkdir(mnt.c_str(), 0755);
        auto r = run_strata({"init", "--encryption", "none", repo});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    void TearDown() override { unmount(mnt); }

    std::string ingest(const std::string& path) {
        auto r = run_strata({"ingest", repo, path});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out.substr(0, r.out.find('\n'));
    }
    // The snapshot directory `latest` points at.
    std::string latest() {
        char buf[256];
        ssize_t n = ::readlink((mnt + "/snapshots/latest").c_str(), buf, sizeof buf);
        return n > 0 ? mnt + "/snapshots/" + std::string(buf, static_cast<std::size_t>(n)) : "";
    }
    std::vector<std::string> list(const std::string& path) { return list_dir(path); }

    TempDir dir;
    std::string src, tree, repo, mnt;
};

std::string read_bytes(const std::string& path, int* error = nullptr) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) {
        if (error) *error = errno;
        return "";
    }
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (error) *error = errno;
            break;
        }
        if (n == 0) {
            if (error) *error = 0;
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

// Ensures `pred` holds within `limit`, polling.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

TEST_F(MountTest, SnapshotMatchesItsSourceEntryByEntry) {
    SKIP_WITHOUT_FUSE();
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to build a tree with devices and foreign owners";
    make_every_kind_tree(tree);
    ingest(tree);
    std::map<std::string, std::uint64_t> inodes;
    {
        MountProcess m(repo, mnt);
        const std::string snap = latest();
        ASSERT_FALSE(snap.empty());
        // Content, metadata, symlinks, devices, xattrs and ACLs, holes, hard-link grouping.
        EXPECT_EQ(tree_differences(tree, snap), "");
        // Hard links share one inode; other files do not.
        struct stat a, b, sub_c, x;
        ASSERT_EQ(::stat((snap + "/links/a").c_str(), &a), 0);
        ASSERT_EQ(::stat((snap + "/links/b").c_str(), &b), 0);
        ASSERT_EQ(::stat((snap + "/links/sub/c").c_str(), &sub_c), 0);
        ASSERT_EQ(::stat((snap + "/links/x").c_str(), &x), 0);
        EXPECT_EQ(a.st_ino, b.st_ino);
        EXPECT_EQ(a.st_ino, sub_c.st_ino);
        EXPECT_NE(a.st_ino, x.st_ino);
        for (const char* p :
             {"links/a", "links/x", "small.txt", "modes", "symlinks/rel", "special/fifo"}) {
            struct stat st;
            ASSERT_EQ(::lstat((snap + "/" + p).c_str(), &st), 0) << p;
            inodes[p] = st.st_ino;
        }
        // getfacl shows the same ACLs as on the source.
        if (on_path("getfacl")) {
            for (const char* p : {"xattrs/acl", "xattrs/acl_dir"}) {
                auto want = run_process({"getfacl", "-n", "--omit-header", tree + "/" + p});
                auto got = run_process({"getfacl", "-n", "--omit-header", snap + "/" + p});
                EXPECT_EQ(got.exit_code, 0) << got.err;
                EXPECT_EQ(got.out, want.out) << p;
                EXPECT_NE(got.out.find("user:"), std::string::npos) << got.out;
            }
        }
        // cp --sparse=auto keeps the holes (it finds them with SEEK_DATA/SEEK_HOLE).
        const std::string copy = dir / "sparse-copy";
        auto cp = run_process({"cp", "--sparse=auto", snap + "/sparse.bin", copy});
        ASSERT_EQ(cp.exit_code, 0) << cp.err;
        struct stat orig, copied;
        ASSERT_EQ(::stat((tree + "/sparse.bin").c_str(), &orig), 0);
        ASSERT_EQ(::stat(copy.c_str(), &copied), 0);
        EXPECT_LT(copied.st_blocks * 512, copied.st_size / 2);
        EXPECT_LE(copied.st_blocks, orig.st_blocks + 64);
        EXPECT_EQ(read_bytes(copy), read_bytes(tree + "/sparse.bin"));
        EXPECT_EQ(m.stop(), 0) << m.log();
    }
    // Inode numbers are the same in the next mount.
    MountProcess again(repo, mnt);
    const std::string snap = latest();
    for (const auto& [p, ino] : inodes) {
        struct stat st;
        ASSERT_EQ(::lstat((snap + "/" + p).c_str(), &st), 0) << p;
        EXPECT_EQ(st.st_ino, ino) << p;
    }
}

TEST_F(MountTest, EveryModificationFailsWithErofs) {
    SKIP_WITHOUT_FUSE();
    ::mkdir((src + "/d").c_str(), 0755);
    write_file(src + "/f", "content");
    ingest(src);
    MountProcess m(repo, mnt);
    const std::string s = latest();
    auto expect_erofs = [](int rc, const char* what) {
        EXPECT_EQ(rc, -1) << what;
        EXPECT_EQ(errno, EROFS) << what << ": " << std::strerror(errno);
    };
    expect_erofs(::open((s + "/f").c_str(), O_WRONLY), "open for writing");
    expect_erofs(::open((s + "/f").c_str(), O_RDWR), "open read-write");
    expect_erofs(::open((s + "/new").c_str(), O_WRONLY | O_CREAT, 0644), "create");
    expect_erofs(::truncate((s + "/f").c_str(), 0), "truncate");
    expect_erofs(::mkdir((s + "/d2").c_str(), 0755), "mkdir");
    expect_erofs(::rmdir((s + "/d").c_str()), "rmdir");
    expect_erofs(::unlink((s + "/f").c_str()), "unlink");
    expect_erofs(::rename((s + "/f").c_str(), (s + "/g").c_str()), "rename");
    expect_erofs(::link((s + "/f").c_str(), (s + "/g").c_str()), "link");
    expect_erofs(::symlink("f", (s + "/g").c_str()), "symlink");
    expect_erofs(::chmod((s + "/f").c_str(), 0777), "chmod");
    expect_erofs(::chown((s + "/f").c_str(), 1, 1), "chown");
    expect_erofs(::setxattr((s + "/f").c_str(), "user.x", "1", 1, 0), "setxattr");
    expect_erofs(::removexattr((s + "/f").c_str(), "user.x"), "removexattr");
    expect_erofs(::mkdir((mnt + "/snapshots/x").c_str(), 0755), "mkdir at the top");
    expect_erofs(::utimensat(AT_FDCWD, (s + "/f").c_str(), nullptr, 0), "utimensat");
    EXPECT_EQ(read_bytes(s + "/f"), "content");  // reading still works
}

TEST_F(MountTest, NewSnapshotsAppearAndForgottenOnesDisappear) {
    SKIP_WITHOUT_FUSE();
    write_file(src + "/doc.txt", "first version");
    write_file(src + "/stays.txt", "unchanged");
    const std::string first_id = ingest(src);
    MountProcess m(repo, mnt);
    const std::string first = latest();
    ASSERT_FALSE(first.empty());
    const std::string first_name = first.substr(first.rfind('/') + 1);
    std::this_thread::sleep_for(
        1100ms);  // the next snapshot in another second: names without suffix
    write_file(src + "/doc.txt", "second version");
    ingest(src);
    ASSERT_TRUE(eventually([&] { return list(mnt + "/snapshots").size() == 3; })) << m.log();
    const std::string second = latest();
    const std::string second_name = second.substr(second.rfind('/') + 1);
    EXPECT_NE(first_name, second_name);
    EXPECT_EQ(read_bytes(second + "/doc.txt"), "second version");
    EXPECT_EQ(read_bytes(first + "/doc.txt"), "first version");
    EXPECT_EQ(list(mnt + "/ids").size(), 2u);

    // history/: one entry per distinct content, named by the first snapshot that has it.
    EXPECT_EQ(list(mnt + "/history/doc.txt"), (std::vector<std::string>{first_name, second_name}));
    EXPECT_EQ(read_bytes(mnt + "/history/doc.txt/" + first_name), "first version");
    EXPECT_EQ(read_bytes(mnt + "/history/doc.txt/" + second_name), "second version");
    EXPECT_EQ(list(mnt + "/history/stays.txt"), (std::vector<std::string>{first_name}));
    EXPECT_EQ(list(mnt + "/history"), (std::vector<std::string>{"doc.txt", "stays.txt"}));

    // at/: the newest snapshot at or before the moment, at every precision.
    EXPECT_EQ(read_bytes(mnt + "/at/" + first_name + "/doc.txt"), "first version");
    EXPECT_EQ(read_bytes(mnt + "/at/" + second_name + "/doc.txt"), "second version");
    EXPECT_EQ(read_bytes(mnt + "/at/2999-12-31/doc.txt"), "second version");
    const std::string no_z = first_name.substr(0, first_name.size() - 1);
    EXPECT_EQ(read_bytes(mnt + "/at/" + no_z + "/doc.txt"), "first version");
    struct stat st;
    EXPECT_NE(::stat((mnt + "/at/1999-01-01/doc.txt").c_str(), &st), 0);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_NE(::stat((mnt + "/at/not-a-time").c_str(), &st), 0);

    // Forget the first snapshot.
    {
        auto r = run_strata({"forget", repo, first_id});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }
    ASSERT_TRUE(eventually([&] { return ::stat(first.c_str(), &st) != 0 && errno == ENOENT; }))
        << m.log();
    EXPECT_EQ(list(mnt + "/snapshots").size(), 2u);
    EXPECT_TRUE(eventually(
        [&] { return list(mnt + "/history/doc.txt") == std::vector<std::string>{second_name}; }));
    EXPECT_EQ(read_bytes(mnt + "/at/" + first_name + "/doc.txt"),
              "");  // nothing at that moment now
}

// The name of the pack object holding `needle`, and its offset there; {"", npos} if none does.
std::pair<std::string, std::size_t> find_in_packs(ObjectStore& objects, const std::string& repo,
                                                  const std::string& needle) {
    for (const auto& name : pack_object_names(repo)) {
        Bytes pack = objects.read_all(name);
        std::string_view bytes(reinterpret_cast<const char*>(pack.data()), pack.size());
        if (auto at = bytes.find(needle); at != std::string_view::npos) return {name, at};
    }
    return {"", std::string::npos};
}

TEST_F(MountTest, DamagedOrMissingPackGivesEioAndTheRestServes) {
    SKIP_WITHOUT_FUSE();
    const std::string big = random_data(3 << 20, 11);
    write_random_file(src + "/big.bin", 3 << 20, 11);
    write_file(src + "/small.txt", "small and fine");
    ingest(src);
    // Incompressible data is stored as it is: find the big file's first chunk and flip a byte.
    auto objects = repository_objects(repo);
    auto [damaged_pack, at] = find_in_packs(*objects, repo, big.substr(0, 64));
    ASSERT_FALSE(damaged_pack.empty()) << "the big file's bytes are in no pack";
    {
        Bytes pack = objects->read_all(damaged_pack);
        pack.at(at + 1000) ^= 0x40;
        objects->put(damaged_pack, pack);
    }
    MountProcess m(repo, mnt);
    const std::string s = latest();
    int err = -1;
    read_bytes(s + "/big.bin", &err);
    EXPECT_EQ(err, EIO);
    read_bytes(s + "/big.bin", &err);
    EXPECT_EQ(err, EIO);  // still: nothing wrong was cached
    // The damaged part is refused, the rest of the file and the mount keep serving.
    int fd = ::open((s + "/big.bin").c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    std::string tail(4096, '\0');
    EXPECT_EQ(::pread(fd, tail.data(), tail.size(), static_cast<off_t>(big.size() - tail.size())),
              static_cast<ssize_t>(tail.size()));
    EXPECT_EQ(tail, big.substr(big.size() - tail.size()));
    ::close(fd);
    EXPECT_EQ(read_bytes(s + "/small.txt"), "small and fine");
    EXPECT_TRUE(eventually([&] { return m.log().find("big.bin") != std::string::npos; }, 2s))
        << m.log();

    // A pack that is missing (here: the one a later ingest writes, which holds the new file)
    // gives EIO for what it holds, and the snapshot serves again once it is back.
    const std::vector<std::string> before = pack_object_names(repo);
    const std::string later = random_data(100000, 12);
    write_file(src + "/later.bin", later);
    ingest(src);
    std::string added;
    for (const auto& p : pack_object_names(repo))
        if (std::find(before.begin(), before.end(), p) == before.end()) added = p;
    ASSERT_FALSE(added.empty());
    const Bytes added_pack = objects->read_all(added);
    objects->remove(added);
    ASSERT_TRUE(eventually([&] { return list(mnt + "/snapshots").size() == 3; })) << m.log();
    read_bytes(latest() + "/later.bin", &err);
    EXPECT_EQ(err, EIO);
    EXPECT_EQ(read_bytes(s + "/small.txt"), "small and fine");  // the first snapshot still serves
    objects->put(added, added_pack);
    EXPECT_EQ(read_bytes(latest() + "/later.bin", &err), later);
    EXPECT_EQ(err, 0);
    EXPECT_EQ(m.stop(), 0) << m.log();
}

TEST_F(MountTest, ConcurrentRandomReadsDuringAnIngestAreExact) {
    SKIP_WITHOUT_FUSE();
    const std::vector<std::pair<std::string, std::size_t>> files = {{"a.bin", 16u << 20},
                                                                    {"b.bin", 12u << 20}};
    std::vector<std::string> content;
    for (std::size_t i = 0; i < files.size(); ++i) {
        write_random_file(src + "/" + files[i].first, files[i].second, 100 + i);
        content.push_back(random_data(files[i].second, 100 + i));
    }
    ingest(src);
    // A small chunk cache, so chunks are evicted and loaded again while the readers run.
    MountProcess m(repo, mnt, {"--cache-size", "4M"});
    const std::string snap = latest();
    // Another ingest runs meanwhile: the mount must neither block it nor be blocked by it.
    const std::string more = dir / "more";
    ::mkdir(more.c_str(), 0755);
    write_random_file(more + "/c.bin", 48u << 20, 7);
    pid_t ingest_pid = spawn_with_log({strata_binary(), "ingest", repo, more}, dir / "ingest.log");

    std::atomic<int> wrong{0}, failed{0}, reads{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&, t] {
            std::mt19937_64 rng(1000 + t);
            std::vector<int> fds;
            for (const auto& f : files)
                fds.push_back(::open((snap + "/" + f.first).c_str(), O_RDONLY));
            std::string buf;
            for (int i = 0; i < 120; ++i) {
                std::size_t which = rng() % files.size();
                const std::string& want = content[which];
                std::size_t len = 1 + rng() % (3u << 19);
                std::size_t off = rng() % want.size();
                buf.resize(len);
                // Drop the kernel's cached pages so the read really goes through the mount.
                ::posix_fadvise(fds[which], 0, 0, POSIX_FADV_DONTNEED);
                ssize_t n = ::pread(fds[which], buf.data(), len, static_cast<off_t>(off));
                reads++;
                if (n < 0) {
                    failed++;
                    continue;
                }
                if (buf.compare(0, static_cast<std::size_t>(n), want, off,
                                static_cast<std::size_t>(n)) != 0 ||
                    static_cast<std::size_t>(n) != std::min(len, want.size() - off))
                    wrong++;
            }
            for (int fd : fds) ::close(fd);
        });
    }
    for (auto& r : readers) r.join();
    int status = wait_for_exit(ingest_pid, 120s);
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(reads, 480);
    ASSERT_NE(status, -1) << "ingest did not finish";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir / "ingest.log");
    EXPECT_TRUE(eventually([&] { return list(mnt + "/snapshots").size() == 3; })) << m.log();
}

// Runs `fn` in a child process as uid/gid 65534 (nobody); returns the errno it reports (0: ok).
template <class Fn>
int as_nobody(Fn fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(255);
        ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 254;
}

int open_for_reading(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
}

int open_for_listing(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return errno;
    ::closedir(d);
    return 0;
}

TEST_F(MountTest, StoredOwnersModesAndAclsAreEnforcedForOtherUsers) {
    SKIP_WITHOUT_FUSE();
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
    if (!on_path("setfacl")) GTEST_SKIP() << "setfacl is not installed";
    write_file(src + "/public", "anyone");
    write_file(src + "/secret", "root only");
    write_file(src + "/shared", "root, and nobody through an ACL");
    ::mkdir((src + "/private").c_str(), 0700);
    write_file(src + "/private/inside", "hidden");
    ::chmod((src + "/public").c_str(), 0644);
    ::chmod((src + "/secret").c_str(), 0600);
    ::chmod((src + "/shared").c_str(), 0600);
    ::chmod(dir.path().c_str(), 0755);  // let nobody reach the mountpoint
    ::chmod(src.c_str(), 0755);
    auto acl = run_process({"setfacl", "-m", "u:65534:r", src + "/shared"});
    ASSERT_EQ(acl.exit_code, 0) << acl.err;
    ingest(src);
    MountProcess m(repo, mnt, {"--allow-other"});
    const std::string s = latest();
    EXPECT_EQ(as_nobody([&] { return open_for_reading(s + "/public"); }), 0);
    EXPECT_EQ(as_nobody([&] { return open_for_reading(s + "/secret"); }), EACCES);
    EXPECT_EQ(as_nobody([&] { return open_for_reading(s + "/shared"); }), 0);
    EXPECT_EQ(as_nobody([&] { return open_for_reading(s + "/private/inside"); }), EACCES);
    EXPECT_EQ(as_nobody([&] { return open_for_listing(s + "/private"); }), EACCES);  // 0700 root
    EXPECT_EQ(as_nobody([&] { return open_for_listing(s); }), 0);                    // 0755
    // What the source let them read, they read in full.
    EXPECT_EQ(as_nobody([&] { return read_bytes(s + "/public") == "anyone" ? 0 : 1; }), 0);
    EXPECT_EQ(as_nobody([&] {
                  return read_bytes(s + "/shared") == "root, and nobody through an ACL" ? 0 : 1;
              }),
              0);
    // history/ shows nobody no more than the snapshot did (more in history_mount_test.cpp).
    EXPECT_EQ(as_nobody([&] { return open_for_reading(mnt + "/history/private/inside"); }), EACCES);
    EXPECT_EQ(as_nobody([&] { return open_for_reading(mnt + "/history/secret"); }),
              0);                                   // the version list
    EXPECT_EQ(open_for_reading(s + "/secret"), 0);  // root still reads
}

// Without --allow-other the kernel lets only the mounting user in: other users cannot even
// look at the mountpoint, whatever the stored modes allow.
TEST_F(MountTest, WithoutAllowOtherOtherUsersSeeNothing) {
    SKIP_WITHOUT_FUSE();
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
    write_file(src + "/public", "anyone");
    ::chmod((src + "/public").c_str(), 0644);
    ::chmod(dir.path().c_str(), 0755);  // nobody may reach the mountpoint itself
    ::chmod(src.c_str(), 0755);
    ingest(src);
    MountProcess m(repo, mnt);
    const std::string s = latest();
    ASSERT_EQ(read_bytes(s + "/public"), "anyone");  // the mounting user sees it
    EXPECT_EQ(as_nobody([&] {
                  struct stat st;
                  return ::stat(mnt.c_str(), &st) == 0 ? 0 : errno;
              }),
              EACCES);
    EXPECT_EQ(as_nobody([&] { return open_for_listing(mnt); }), EACCES);
    EXPECT_EQ(as_nobody([&] { return open_for_listing(mnt + "/snapshots"); }), EACCES);
    EXPECT_EQ(as_nobody([&] { return open_for_reading(s + "/public"); }), EACCES);
}

#if !STRATA_TEST_ON_S3
TEST_F(MountTest, BackgroundMountIsReadyWhenTheCommandReturns) {
    SKIP_WITHOUT_FUSE();
    write_file(src + "/f", "x");
    ingest(src);
    auto r = run_strata({"mount", repo, mnt});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(is_mounted(mnt));
    EXPECT_EQ(list(mnt + "/snapshots").size(), 2u);
    EXPECT_EQ(read_bytes(mnt + "/snapshots/latest/f"), "x");
    unmount(mnt);
    EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(MountTest, SigtermUnmountsCleanly) {
    SKIP_WITHOUT_FUSE();
    ingest(src);
    MountProcess m(repo, mnt);
    ASSERT_EQ(::kill(m.pid(), SIGTERM), 0);
    EXPECT_TRUE(eventually([&] { return !is_mounted(mnt); })) << m.log();
    int status = m.wait(10s);
    ASSERT_NE(status, -1);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << m.log();
}

TEST_F(MountTest, RefusesUnusableMountpointsWithClearErrors) {
    ingest(src);
    auto missing = run_strata({"mount", repo, dir / "nope"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
    write_file(mnt + "/occupied", "x");
    auto full = run_strata({"mount", repo, mnt});
    EXPECT_EQ(full.exit_code, 1);
    EXPECT_NE(full.err.find("not empty"), std::string::npos) << full.err;
    auto file = run_strata({"mount", repo, mnt + "/occupied"});
    EXPECT_EQ(file.exit_code, 1);
    EXPECT_NE(file.err.find("not a directory"), std::string::npos) << file.err;
    ::unlink((mnt + "/occupied").c_str());
    auto not_repo = run_strata({"mount", src, mnt});
    EXPECT_NE(not_repo.exit_code, 0);
    EXPECT_NE(not_repo.err.find("not a strata repository"), std::string::npos) << not_repo.err;
    auto bad_option = run_strata({"mount", repo, mnt, "-o", "ro,bogus"});
    EXPECT_EQ(bad_option.exit_code, 2);
    EXPECT_NE(bad_option.err.find("unknown mount option \"bogus\""), std::string::npos)
        << bad_option.err;
    EXPECT_FALSE(is_mounted(mnt));
}

#endif

}  // namespace
}  // namespace strata::testing
