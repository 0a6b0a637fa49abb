// history/ and the other views through a real mount with --allow-other, read by other users: a
// version is readable only by a user who could have reached it in its own snapshot, whatever
// the same directories became later, and a union directory lists only the names the user could
// have listed. Other users are forked children that drop to their uid, gid and groups
// (setgroups, setgid, setuid), so no account is needed. Root, and skipped without /dev/fuse.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "tests/testlib/mount_support.h"
#include "tests/testlib/process.h"
#include "tests/testlib/temp_dir.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

struct Who {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
};
const Who nobody{65534, 65534, {}};

// Runs `fn` in a child as `who`; returns what it returns (through a pipe).
template <class Fn>
std::string as(const Who& who, Fn fn) {
    int fds[2];
    if (::pipe(fds) != 0) return "pipe failed";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        if (::setgroups(who.groups.size(), who.groups.data()) != 0 || ::setgid(who.gid) != 0 ||
            ::setuid(who.uid) != 0)
            ::_exit(1);
        const std::string out = fn();
        ssize_t ignored = ::write(fds[1], out.data(), out.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "could not become the user";
}

// The file's content, or the name of the error that stopped reading it ("ENOENT", "EACCES").
std::string read_or_error(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0)
        return errno == ENOENT   ? "ENOENT"
               : errno == EACCES ? "EACCES"
                                 : "errno " + std::to_string(errno);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

// The directory's names, sorted and joined by ' ', or the error.
std::string list_or_error(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d)
        return errno == ENOENT   ? "ENOENT"
               : errno == EACCES ? "EACCES"
                                 : "errno " + std::to_string(errno);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.push_back(e->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
    return out;
}

// The symlink's target, or the error.
std::string link_or_error(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0)
        return errno == ENOENT   ? "ENOENT"
               : errno == EACCES ? "EACCES"
                                 : "errno " + std::to_string(errno);
    return std::string(buf, static_cast<std::size_t>(n));
}

std::string read_as(const Who& who, const std::string& path) {
    return as(who, [&] { return read_or_error(path); });
}
std::string list_as(const Who& who, const std::string& path) {
    return as(who, [&] { return list_or_error(path); });
}

class HistoryPermissionsMount : public ::testing::Test {
  protected:
    void SetUp() override {
        src = dir / "src";
        repo = dir / "repo";
        mnt = dir / "mnt";
        ::chmod(dir.path().c_str(), 0755);  // let other users reach the mountpoint
        ::mkdir(src.c_str(), 0755);
        ::mkdir(mnt.c_str(), 0755);
        auto r = run_strata({"init", "--encryption", "none", repo});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    void TearDown() override { unmount(mnt); }

    void ingest(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"ingest", repo, src};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = run_strata(args);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        std::this_thread::sleep_for(1100ms);  // the next snapshot in another second
    }
    void mkdir(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
        ASSERT_EQ(::mkdir((src + "/" + path).c_str(), mode), 0) << path;
        set(path, mode, uid, gid);
    }
    void set(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
        ASSERT_EQ(::chown((src + "/" + path).c_str(), uid, gid), 0) << path;
        ASSERT_EQ(::chmod((src + "/" + path).c_str(), mode), 0) << path;
    }
    void put(const std::string& path, const std::string& content) {
        write_file(src + "/" + path, content);
        ::chmod((src + "/" + path).c_str(), 0644);
    }
    // The snapshot directory names, oldest first.
    std::vector<std::string> snapshots() {
        auto names = list_dir(mnt + "/snapshots");
        names.erase(std::remove(names.begin(), names.end(), "latest"), names.end());
        return names;
    }

    TempDir dir;
    std::string src, repo, mnt;
};

#define SKIP_UNLESS_ROOT_WITH_FUSE()                                              \
    do {                                                                          \
        SKIP_WITHOUT_FUSE();                                                      \
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as other users"; \
    } while (0)

// The reported leak, through every view: a file under a 0700 root directory in the first
// snapshot, that directory 0755 (and the file changed) in the second.
TEST_F(HistoryPermissionsMount, AnOldVersionUnderAPrivateDirectoryStaysPrivate) {
    SKIP_UNLESS_ROOT_WITH_FUSE();
    mkdir("private", 0700);
    put("private/inner.txt", "INNER-SECRET");
    ASSERT_EQ(::symlink("SECRET-TARGET", (src + "/private/link").c_str()), 0);
    ingest({"--tag", "t1", "--host", "h1"});
    set("private", 0755);
    put("private/inner.txt", "public");
    ::unlink((src + "/private/link").c_str());
    ASSERT_EQ(::symlink("public-target", (src + "/private/link").c_str()), 0);
    ingest();
    MountProcess m(repo, mnt, {"--allow-other"});
    const auto snaps = snapshots();
    ASSERT_EQ(snaps.size(), 2u) << m.log();
    const std::string first = mnt + "/history/private/inner.txt/" + snaps[0];
    const std::string second = mnt + "/history/private/inner.txt/" + snaps[1];

    EXPECT_EQ(read_as(nobody, mnt + "/snapshots/" + snaps[0] + "/private/inner.txt"), "EACCES");
    // Root first, so the kernel holds the names and the file: nobody must not reuse them.
    EXPECT_EQ(read_or_error(first), "INNER-SECRET");
    EXPECT_EQ(read_as(nobody, first), "ENOENT");
    EXPECT_EQ(read_as(nobody, second), "public");  // what it could read, it reads
    EXPECT_EQ(list_as(nobody, mnt + "/history/private/inner.txt"), snaps[1]);
    EXPECT_EQ(list_as(nobody, mnt + "/history/private"), "inner.txt link");
    EXPECT_EQ(read_or_error(first), "INNER-SECRET");  // root still reads everything
    EXPECT_EQ(list_or_error(mnt + "/history/private/inner.txt"), snaps[0] + " " + snaps[1]);
    // Symlink targets, which the kernel caches once read: root reads the old one first.
    EXPECT_EQ(link_or_error(mnt + "/history/private/link/" + snaps[0]), "SECRET-TARGET");
    EXPECT_EQ(as(nobody, [&] { return link_or_error(mnt + "/history/private/link/" + snaps[0]); }),
              "ENOENT");
    EXPECT_EQ(as(nobody, [&] { return link_or_error(mnt + "/history/private/link/" + snaps[1]); }),
              "public-target");

    // The other views are symlinks into snapshots/, whose directories the kernel checks.
    const auto ids = list_dir(mnt + "/ids");
    ASSERT_EQ(ids.size(), 2u);
    std::string first_id;
    for (const auto& id : ids) {
        char buf[256];
        ssize_t n = ::readlink((mnt + "/ids/" + id).c_str(), buf, sizeof buf);
        if (n > 0 && std::string(buf, static_cast<std::size_t>(n)) == "../snapshots/" + snaps[0])
            first_id = id;
    }
    ASSERT_FALSE(first_id.empty());
    for (const std::string& view :
         {"at/" + snaps[0], "ids/" + first_id, "tags/t1/" + snaps[0], "hosts/h1/" + snaps[0]}) {
        EXPECT_EQ(read_or_error(mnt + "/" + view + "/private/inner.txt"), "INNER-SECRET") << view;
        EXPECT_EQ(read_as(nobody, mnt + "/" + view + "/private/inner.txt"), "EACCES") << view;
        EXPECT_EQ(list_as(nobody, mnt + "/" + view + "/private"), "EACCES") << view;
    }
    EXPECT_EQ(read_as(nobody, mnt + "/snapshots/latest/private/inner.txt"), "public");
}

// Owner, group and mode changes at several depths, and an ACL on an ancestor, between two
// snapshots; each version is guarded as its own snapshot guarded it.
TEST_F(HistoryPermissionsMount, EachVersionIsGuardedByItsOwnSnapshotsDirectories) {
    SKIP_UNLESS_ROOT_WITH_FUSE();
    const Who alice{1000, 1000, {}};
    const Who team_member{1001, 1001, {4242}};
    // First snapshot.
    mkdir("home", 0700, 1000, 1000);  // alice's; chowned to nobody below
    put("home/f", "alice's");
    mkdir("team", 0070, 0, 4242);  // group 4242 only; chgrp'd to nobody's group below
    put("team/plan", "team plan");
    mkdir("a", 0700);  // three levels above the file
    mkdir("a/b", 0755);
    mkdir("a/b/c", 0755);
    put("a/b/c/leaf.txt", "deep secret");
    mkdir("d", 0700);
    put("d/common.txt", "common one");
    put("d/hidden-name.txt", "h");
    const bool acls = on_path("setfacl");
    if (acls) {
        mkdir("acl", 0700);
        put("acl/f", "granted by an ACL");
        auto r = run_process({"setfacl", "-m", "u:65534:rx", src + "/acl"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    ingest();
    // Second snapshot.
    set("home", 0700, 65534, 65534);
    put("home/f", "nobody's");
    set("team", 0070, 0, 65534);
    put("team/plan", "plan two");
    set("a", 0755);
    put("a/b/c/leaf.txt", "deep public");
    set("d", 0755);
    ::unlink((src + "/d/hidden-name.txt").c_str());
    put("d/common.txt", "common two");
    if (acls) {
        auto r = run_process({"setfacl", "-b", src + "/acl"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        put("acl/f", "no ACL now");
    }
    ingest();
    MountProcess m(repo, mnt, {"--allow-other"});
    const auto snaps = snapshots();
    ASSERT_EQ(snaps.size(), 2u) << m.log();
    const std::string h = mnt + "/history/";
    auto at = [&](const std::string& path, int i) { return h + path + "/" + snaps[i]; };

    // chown: alice reaches the first home/f, nobody the second.
    EXPECT_EQ(read_as(alice, at("home/f", 0)), "alice's");
    EXPECT_EQ(read_as(alice, at("home/f", 1)), "ENOENT");
    EXPECT_EQ(read_as(nobody, at("home/f", 0)), "ENOENT");
    EXPECT_EQ(read_as(nobody, at("home/f", 1)), "nobody's");
    EXPECT_EQ(list_as(nobody, h + "home/f"), snaps[1]);
    // chgrp with a group-only mode: a member of 4242 (a supplementary group) reaches the
    // first, nobody (through its own group) the second.
    EXPECT_EQ(read_as(team_member, at("team/plan", 0)), "team plan");
    EXPECT_EQ(read_as(team_member, at("team/plan", 1)), "ENOENT");
    EXPECT_EQ(read_as(nobody, at("team/plan", 0)), "ENOENT");
    EXPECT_EQ(read_as(nobody, at("team/plan", 1)), "plan two");
    // A 0700 directory three levels up.
    EXPECT_EQ(read_as(nobody, at("a/b/c/leaf.txt", 0)), "ENOENT");
    EXPECT_EQ(read_as(nobody, at("a/b/c/leaf.txt", 1)), "deep public");
    EXPECT_EQ(list_as(nobody, h + "a/b/c/leaf.txt"), snaps[1]);
    // The union of d/ does not show nobody a name that lived only under the 0700 d/.
    EXPECT_EQ(list_as(nobody, h + "d"), "common.txt");
    EXPECT_EQ(read_as(nobody, h + "d/hidden-name.txt/" + snaps[0]), "ENOENT");
    EXPECT_EQ(list_or_error(h + "d"), "common.txt hidden-name.txt");
    EXPECT_EQ(list_as(nobody, h + "d/common.txt"), snaps[1]);
    // An ACL entry on the directory let nobody in; once removed, it does not.
    if (acls) {
        EXPECT_EQ(read_as(nobody, at("acl/f", 0)), "granted by an ACL");
        EXPECT_EQ(read_as(nobody, at("acl/f", 1)), "ENOENT");
        // uid 1000 could search acl/ in neither snapshot: refused there, as without x.
        EXPECT_EQ(read_as(alice, at("acl/f", 0)), "EACCES");
    }
    // Root reads every version.
    for (const char* p : {"home/f", "team/plan", "a/b/c/leaf.txt", "d/common.txt"})
        for (int i = 0; i < 2; ++i) EXPECT_NE(read_or_error(at(p, i)), "ENOENT") << p << i;
    EXPECT_EQ(read_or_error(h + "d/hidden-name.txt/" + snaps[0]), "h");
}

}  // namespace
}  // namespace strata::testing
