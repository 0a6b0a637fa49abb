// Ingest behaviour through the strata binary: incremental ingests, excludes, several paths, the
// repository from the environment, JSON outputs, unreadable files (exit 3) and the writer lock.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>

#include "store/repo/repository.h"
#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

// Paths listed by `strata ls -R --json REPO SNAPSHOT`.
std::set<std::string> listed_paths(const std::string& repo, const std::string& snap) {
    RunResult r = run_strata({"ls", "-R", "--json", repo, snap});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    std::set<std::string> out;
    std::size_t pos = 0;
    while (pos < r.out.size()) {
        std::size_t nl = r.out.find('\n', pos);
        if (nl == std::string::npos) nl = r.out.size();
        Json j = Json::parse(r.out.substr(pos, nl - pos), nullptr, false);
        EXPECT_TRUE(j.is_object()) << "not a JSON line: " << r.out.substr(pos, nl - pos);
        if (j.is_object()) out.insert(j["path"].get<std::string>());
        pos = nl + 1;
    }
    return out;
}

// Files of one directory that were read (IN_ACCESS; or opened, with IN_OPEN) while a watch was
// active.
class ReadWatch {
  public:
    explicit ReadWatch(const std::string& dir, std::uint32_t events = IN_ACCESS) {
        fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ >= 0) ::inotify_add_watch(fd_, dir.c_str(), events);
    }
    ~ReadWatch() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return fd_ >= 0; }
    std::set<std::string> drain() {
        std::set<std::string> names;
        alignas(inotify_event) char buf[65536];
        for (;;) {
            ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            for (char* p = buf; p < buf + n;) {
                auto* ev = reinterpret_cast<inotify_event*>(p);
                // Listing a directory counts as reading it; only file contents matter here.
                if (ev->len && !(ev->mask & IN_ISDIR)) names.insert(ev->name);
                p += sizeof(inotify_event) + ev->len;
            }
        }
        return names;
    }

  private:
    int fd_ = -1;
};

class IngestTest : public ::testing::Test {
  protected:
    void SetUp() override { init_repo(repo()); }
    std::string repo() const { return dir_ / "repo"; }
    TempDir dir_;
};

TEST_F(IngestTest, UnchangedFilesAreNotReadAgain) {
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_random_file(src + "/big.bin", 12 << 20, 11);
    write_file(src + "/small.txt", "small\n");
    ASSERT_EQ(::mkdir((src + "/sub").c_str(), 0755), 0);
    write_file(src + "/sub/inner.txt", "inner\n");

    Ingested first = ingest(repo(), {src});
    ASSERT_EQ(first.run.exit_code, 0) << describe(first.run);
    EXPECT_GT(first.summary["bytes_added"].get<std::uint64_t>(), 12u << 20);

    ReadWatch watch(src);
    ASSERT_TRUE(watch.ok());
    Ingested second = ingest(repo(), {src});
    ASSERT_EQ(second.run.exit_code, 0) << describe(second.run);
    EXPECT_EQ(watch.drain(), std::set<std::string>{}) << "unchanged files were read again";
    EXPECT_EQ(second.summary["parent"], first.id);
    EXPECT_LT(second.summary["bytes_added"].get<std::uint64_t>(), 4096u);
    EXPECT_EQ(second.summary["tree"], first.summary["tree"])
        << "an unchanged tree must encode identically";
    EXPECT_EQ(second.summary["bytes"], first.summary["bytes"]);

    Ingested forced = ingest(repo(), {src}, {"--force-reread"});
    ASSERT_EQ(forced.run.exit_code, 0) << describe(forced.run);
    auto read = watch.drain();
    EXPECT_TRUE(read.count("big.bin") && read.count("small.txt"))
        << "--force-reread did not read the files";
    EXPECT_EQ(forced.summary["parent"], second.id);
    EXPECT_LT(forced.summary["bytes_added"].get<std::uint64_t>(), 4096u)
        << "re-read data must dedup";
    EXPECT_EQ(forced.summary["tree"], first.summary["tree"]);

    // The parent is the newest snapshot of the same host and paths: another host starts afresh.
    Ingested other_host = ingest(repo(), {src}, {"--host", "elsewhere"});
    ASSERT_EQ(other_host.run.exit_code, 0) << describe(other_host.run);
    EXPECT_TRUE(other_host.summary["parent"].is_null());
    EXPECT_NE(watch.drain().count("big.bin"), 0u) << "without a parent every file is read";
    Ingested back = ingest(repo(), {src});
    EXPECT_EQ(back.summary["parent"], forced.id);
}

// An unchanged re-ingest opens no file at all (neither the walk nor its read-ahead), and still
// records a changed extended attribute, because changing one changes the ctime.
TEST_F(IngestTest, UnchangedFilesAreNotOpenedAndChangedXattrsAreSeen) {
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    for (int i = 0; i < 50; ++i)
        write_file(src + "/f" + std::to_string(i) + ".txt", "file " + std::to_string(i) + "\n");
    ASSERT_EQ(::mkdir((src + "/sub").c_str(), 0755), 0);
    write_file(src + "/sub/inner.txt", "inner\n");
    Ingested first = ingest(repo(), {src});
    ASSERT_EQ(first.run.exit_code, 0) << describe(first.run);

    ReadWatch opens(src, IN_OPEN);
    ASSERT_TRUE(opens.ok());
    Ingested second = ingest(repo(), {src});
    ASSERT_EQ(second.run.exit_code, 0) << describe(second.run);
    EXPECT_EQ(opens.drain(), std::set<std::string>{}) << "unchanged files were opened";
    EXPECT_EQ(second.summary["tree"], first.summary["tree"]);

    write_file(src + "/f7.txt", "file 7, changed\n");
    Ingested third = ingest(repo(), {src});
    ASSERT_EQ(third.run.exit_code, 0) << describe(third.run);
    EXPECT_EQ(opens.drain().count("f7.txt"), 1u) << "a changed file must be read";

    const std::string file = src + "/f3.txt";
    if (::setxattr(file.c_str(), "user.note", "v1", 2, 0) != 0) {
        std::printf("user xattrs unsupported here (%s): xattr part not run\n",
                    std::strerror(errno));
        return;
    }
    Ingested fourth = ingest(repo(), {src});
    ASSERT_EQ(fourth.run.exit_code, 0) << describe(fourth.run);
    CompareOptions co;
    co.root_metadata = false;
    EXPECT_EQ(restore_and_compare(repo(), fourth.id, dir_ / "restored", src, co), "")
        << "an xattr set after the last ingest is missing";
}

TEST_F(IngestTest, ChangedFilesArePickedUp) {
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_file(src + "/grows.txt", "version 1\n");
    write_file(src + "/same-size.txt", "AAAA\n");
    Ingested first = ingest(repo(), {src});
    ASSERT_EQ(first.run.exit_code, 0) << describe(first.run);

    write_file(src + "/grows.txt", "version 1\nversion 2\n");
    // Same size and, after the reset below, the same mtime: only ctime tells it changed.
    struct stat st;
    ASSERT_EQ(::stat((src + "/same-size.txt").c_str(), &st), 0);
    write_file(src + "/same-size.txt", "BBBB\n");
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/same-size.txt").c_str(), ts, 0), 0);
    write_file(src + "/new.txt", "new\n");

    Ingested second = ingest(repo(), {src});
    ASSERT_EQ(second.run.exit_code, 0) << describe(second.run);
    EXPECT_EQ(second.summary["parent"], first.id);
    EXPECT_GT(second.summary["bytes_added"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(run_strata({"cat", repo(), "latest", "grows.txt"}).out, "version 1\nversion 2\n");
    EXPECT_EQ(run_strata({"cat", repo(), "latest", "same-size.txt"}).out, "BBBB\n");
    EXPECT_EQ(run_strata({"cat", repo(), "latest", "new.txt"}).out, "new\n");
    // The first snapshot still has the old content.
    EXPECT_EQ(run_strata({"cat", repo(), first.id, "grows.txt"}).out, "version 1\n");
    EXPECT_EQ(run_strata({"cat", repo(), first.id.substr(0, 6), "same-size.txt"}).out, "AAAA\n");
    EXPECT_NE(run_strata({"cat", repo(), first.id, "new.txt"}).exit_code, 0);
}

TEST_F(IngestTest, ExcludePatternsFilesAndCaches) {
    const std::string src = dir_ / "src";
    for (const char* d : {"", "/build", "/sub", "/sub/logs", "/docs", "/docs/tmp", "/x", "/x/docs",
                          "/x/docs/tmp", "/cache", "/fakecache", "/absdir"})
        ASSERT_EQ(::mkdir((src + d).c_str(), 0755), 0) << d;
    for (const char* f : {"/a.o", "/keep.o", "/sub/b.o", "/main.c", "/build/out", "/logs",
                          "/sub/logs/l1", "/docs/tmp/t", "/x/docs/tmp/t", "/cache/data",
                          "/fakecache/data", "/absdir/f", "/sub/absdir"})
        write_file(src + f, "x\n");
    write_file(src + "/cache/CACHEDIR.TAG",
               "Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n");
    write_file(src + "/fakecache/CACHEDIR.TAG", "Signature: not the right one\n");
    const std::string excludes = dir_ / "excludes";
    write_file(excludes, "# comment line\n\ndocs/tmp\n" + src + "/absdir\n");
    // A leading '/' anchors at the source's absolute path: only the top-level absdir goes.
    Ingested r = ingest(repo(), {src},
                        {"--exclude", "*.o", "--exclude", "!keep.o", "-e", "build", "--exclude",
                         "logs/", "--exclude-file", excludes, "--exclude-caches"});
    ASSERT_EQ(r.run.exit_code, 0) << describe(r.run);
    auto paths = listed_paths(repo(), r.id);
    for (const char* gone : {"a.o", "sub/b.o", "build", "build/out", "sub/logs", "sub/logs/l1",
                             "docs/tmp", "docs/tmp/t", "cache/data", "absdir", "absdir/f"})
        EXPECT_FALSE(paths.count(gone)) << gone << " should be excluded";
    for (const char* kept : {"keep.o", "main.c", "logs", "docs", "x/docs/tmp/t", "fakecache/data",
                             "fakecache/CACHEDIR.TAG", "sub/absdir"})
        EXPECT_TRUE(paths.count(kept)) << kept << " should be kept";

    // Without the options everything is there.
    Ingested all = ingest(repo(), {src});
    ASSERT_EQ(all.run.exit_code, 0) << describe(all.run);
    auto every = listed_paths(repo(), all.id);
    for (const char* p :
         {"a.o", "build/out", "sub/logs/l1", "docs/tmp/t", "cache/data", "absdir/f"})
        EXPECT_TRUE(every.count(p)) << p;

    RunResult missing = run_strata({"ingest", repo(), src, "--exclude-file", dir_ / "nope"});
    EXPECT_EQ(missing.exit_code, 2) << describe(missing);
    EXPECT_NE(missing.err.find(dir_ / "nope"), std::string::npos) << missing.err;
}

// Unmounts in its destructor, even when an assertion fails.
class TmpfsMount {
  public:
    explicit TmpfsMount(const std::string& where) : where_(where) {
        mounted_ = ::mount("strata-test", where.c_str(), "tmpfs", 0, "size=4m") == 0;
    }
    ~TmpfsMount() {
        if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }

  private:
    std::string where_;
    bool mounted_ = false;
};

TEST_F(IngestTest, OneFileSystemStopsAtMountPoints) {
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((src + "/mnt").c_str(), 0755), 0);
    write_file(src + "/here.txt", "on the source filesystem\n");
    TmpfsMount tmpfs(src + "/mnt");
    if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN)";
    write_file(src + "/mnt/inside.txt", "on another filesystem\n");

    Ingested one = ingest(repo(), {src}, {"--one-file-system"});
    ASSERT_EQ(one.run.exit_code, 0) << describe(one.run);
    auto paths = listed_paths(repo(), one.id);
    EXPECT_TRUE(paths.count("here.txt"));
    EXPECT_TRUE(paths.count("mnt")) << "the mount point itself is recorded";
    EXPECT_FALSE(paths.count("mnt/inside.txt")) << "--one-file-system crossed into the tmpfs";

    Ingested all = ingest(repo(), {src});
    ASSERT_EQ(all.run.exit_code, 0) << describe(all.run);
    EXPECT_TRUE(listed_paths(repo(), all.id).count("mnt/inside.txt"));
}

TEST_F(IngestTest, SeveralPathsSideBySide) {
    for (const char* d : {"/a", "/a/x", "/b", "/b/y", "/c", "/c/x"})
        ASSERT_EQ(::mkdir((dir_.path() + d).c_str(), 0755), 0);
    write_file(dir_ / "a/x/1", "one\n");
    write_file(dir_ / "b/y/2", "two\n");
    write_file(dir_ / "c/x/3", "three\n");
    Ingested r = ingest(repo(), {dir_ / "a/x", dir_ / "b/y/"});
    ASSERT_EQ(r.run.exit_code, 0) << describe(r.run);
    EXPECT_EQ(listed_paths(repo(), r.id), (std::set<std::string>{"x", "x/1", "y", "y/2"}));
    ASSERT_EQ(r.summary["paths"].size(), 2u);
    const std::string target = dir_ / "restored";
    ASSERT_EQ(run_strata({"restore", repo(), r.id, target}).exit_code, 0);
    EXPECT_EQ(tree_differences(dir_ / "a/x", target + "/x"), "");
    EXPECT_EQ(tree_differences(dir_ / "b/y", target + "/y"), "");
    // The same set of paths in another order has the first snapshot as its parent.
    Ingested again = ingest(repo(), {dir_ / "b/y", dir_ / "a/x"});
    ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
    EXPECT_EQ(again.summary["parent"], r.id);
    EXPECT_EQ(again.summary["tree"], r.summary["tree"]);

    // Two PATHs with the same base name would collide: a usage error, nothing saved.
    RunResult dup = run_strata({"ingest", repo(), dir_ / "a/x", dir_ / "c/x"});
    EXPECT_EQ(dup.exit_code, 2) << describe(dup);
    EXPECT_NE(dup.err.find("same base name"), std::string::npos) << dup.err;
    EXPECT_EQ(snapshot_ids(repo()).size(), 2u);

    // A PATH that does not exist is a failure (status 1, as docs/cli.md and restic have it),
    // not a usage error; the message names it.
    for (const std::vector<std::string>& paths : {std::vector<std::string>{dir_ / "does-not-exist"},
                                                  {dir_ / "a/x", dir_ / "does-not-exist"}}) {
        std::vector<std::string> args{"ingest", repo()};
        args.insert(args.end(), paths.begin(), paths.end());
        RunResult absent = run_strata(args);
        EXPECT_EQ(absent.exit_code, 1) << describe(absent);
        EXPECT_NE(absent.err.find(dir_ / "does-not-exist" + ": it does not exist"),
                  std::string::npos)
            << absent.err;
        EXPECT_EQ(absent.err.find("usage:"), std::string::npos) << absent.err;
    }
    EXPECT_EQ(snapshot_ids(repo()).size(), 2u);
}

// Paths are recorded absolute and lexically normal: `.` and `../b` given from inside a/ are
// a/ and b/, in the record and under their real base names in the snapshot (a "." entry made
// the snapshot unreadable), and the same directories named differently find the parent.
TEST_F(IngestTest, RelativePathsWithDotsAreNormalized) {
    for (const char* d : {"/a", "/b"}) ASSERT_EQ(::mkdir((dir_.path() + d).c_str(), 0755), 0);
    write_file(dir_ / "a/1", "one\n");
    write_file(dir_ / "b/2", "two\n");
    RunResult r = run_process({"sh", "-c", "cd \"$1/a\" && \"$2\" ingest --json \"$3\" . ../b/",
                               "sh", dir_.path(), strata_binary(), repo()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json summary = Json::parse(r.out);
    EXPECT_EQ(summary["paths"], Json::array({dir_ / "a", dir_ / "b"}));
    const std::string id = summary["id"];
    EXPECT_EQ(listed_paths(repo(), id), (std::set<std::string>{"a", "a/1", "b", "b/2"}));
    Ingested again = ingest(repo(), {dir_ / "a", dir_ / "b"});
    ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
    EXPECT_EQ(again.summary["parent"], id);

    RunResult root = run_strata({"ingest", repo(), "/", dir_ / "a"});
    EXPECT_EQ(root.exit_code, 2) << describe(root);
    EXPECT_NE(root.err.find("ingest it on its own"), std::string::npos) << root.err;
}

TEST_F(IngestTest, SingleFilePath) {
    write_file(dir_ / "lonely.txt", "a single file\n");
    Ingested r = ingest(repo(), {dir_ / "lonely.txt"});
    ASSERT_EQ(r.run.exit_code, 0) << describe(r.run);
    EXPECT_EQ(listed_paths(repo(), r.id), std::set<std::string>{"lonely.txt"});
    EXPECT_EQ(run_strata({"cat", repo(), r.id, "lonely.txt"}).out, "a single file\n");
    Ingested again = ingest(repo(), {dir_ / "lonely.txt"});
    EXPECT_EQ(again.summary["parent"], r.id);
    EXPECT_EQ(again.summary["bytes_added"], 0u);
}

// One PATH that is a symlink is followed (as `tar -h` does with what it is given): the snapshot
// holds the target's contents and records the PATH given; symlinks below it stay symlinks.
TEST_F(IngestTest, SinglePathThatIsASymlinkIsFollowed) {
    const std::string target = dir_ / "target";
    ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
    write_file(target + "/one", "1\n");
    write_file(target + "/two", "22\n");
    ASSERT_EQ(::symlink("one", (target + "/inner-link").c_str()), 0);
    const std::string link = dir_ / "current";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    Ingested r = ingest(repo(), {link});
    ASSERT_EQ(r.run.exit_code, 0) << describe(r.run);
    EXPECT_EQ(r.summary["files"], 2u) << r.run.out;
    EXPECT_EQ(r.summary["paths"], Json::array({link}));
    EXPECT_EQ(listed_paths(repo(), r.id), (std::set<std::string>{"one", "two", "inner-link"}));
    EXPECT_EQ(run_strata({"cat", repo(), r.id, "two"}).out, "22\n");
    RunResult ls = run_strata({"ls", "--json", repo(), r.id, "inner-link"});
    EXPECT_EQ(Json::parse(ls.out)["type"], "symlink") << describe(ls);
    // The same link again finds its parent, and reuses everything.
    Ingested again = ingest(repo(), {link});
    EXPECT_EQ(again.summary["parent"], r.id);
    EXPECT_EQ(again.summary["bytes_added"], 0u);

    // A symlink to a file: the file's content under the name given.
    const std::string file_link = dir_ / "latest.txt";
    ASSERT_EQ(::symlink((target + "/two").c_str(), file_link.c_str()), 0);
    Ingested file = ingest(repo(), {file_link});
    ASSERT_EQ(file.run.exit_code, 0) << describe(file.run);
    EXPECT_EQ(file.summary["files"], 1u);
    EXPECT_EQ(run_strata({"cat", repo(), file.id, "latest.txt"}).out, "22\n");

    // A dangling one fails, naming it.
    const std::string dangling = dir_ / "dangling";
    ASSERT_EQ(::symlink((dir_ / "nowhere").c_str(), dangling.c_str()), 0);
    RunResult bad = run_strata({"ingest", repo(), dangling});
    EXPECT_EQ(bad.exit_code, 1) << describe(bad);
    EXPECT_NE(bad.err.find(dangling), std::string::npos) << bad.err;

    // Among several PATHs a symlink is stored as a symlink.
    Ingested several = ingest(repo(), {link, target + "/one"});
    ASSERT_EQ(several.run.exit_code, 0) << describe(several.run);
    ls = run_strata({"ls", "--json", repo(), several.id, "current"});
    EXPECT_EQ(Json::parse(ls.out)["type"], "symlink") << describe(ls);
}

TEST_F(IngestTest, RepositoryFromTheEnvironment) {
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_file(src + "/f", "env\n");
    const std::vector<std::string> env{"STRATA_REPO=" + repo()};
    RunResult r = run_strata({"ingest", src}, env);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id.size(), 64u) << r.out;
    r = run_strata({"snapshots"}, env);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find(id.substr(0, 8)), std::string::npos) << r.out;
    r = run_strata({"ls", "latest"}, env);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, "f\n");
    r = run_strata({"cat", id.substr(0, 4), "f"}, env);
    EXPECT_EQ(r.out, "env\n") << describe(r);
    // --repo wins over the environment; without either it is a usage error.
    r = run_strata({"snapshots", "--repo", repo()}, {"STRATA_REPO=/nonexistent"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    r = run_strata({"snapshots"}, {"STRATA_REPO"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("STRATA_REPO"), std::string::npos) << r.err;
}

TEST_F(IngestTest, JsonOutputsHaveTheirFields) {
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_file(src + "/plain.txt", "plain\n");
    write_file(src + "/bad-\xff.txt", "not utf-8\n");
    ASSERT_EQ(::symlink("plain.txt", (src + "/link").c_str()), 0);
    Ingested r = ingest(
        repo(), {src},
        {"--tag", "nightly", "--tag", "a-tag", "--host", "testhost", "--note", "before upgrade"});
    ASSERT_EQ(r.run.exit_code, 0) << describe(r.run);
    const Json& j = r.summary;
    for (const char* f :
         {"id", "short_id", "time", "host", "paths", "tags", "note", "parent", "tree", "files",
          "dirs", "bytes", "bytes_added", "blobs_added", "duration_seconds", "partial", "warnings"})
        EXPECT_TRUE(j.contains(f)) << "ingest --json lacks \"" << f << "\": " << j.dump();
    EXPECT_EQ(j["id"].get<std::string>().size(), 64u);
    EXPECT_EQ(j["id"].get<std::string>().substr(0, 8), j["short_id"].get<std::string>());
    EXPECT_EQ(j["host"], "testhost");
    EXPECT_EQ(j["note"], "before upgrade");
    EXPECT_EQ(j["tags"], Json::array({"a-tag", "nightly"}));
    EXPECT_EQ(j["paths"], Json::array({src}));
    EXPECT_EQ(j["files"], 2u);
    EXPECT_EQ(j["bytes"], 16u);
    // RFC 3339 UTC with nanoseconds: 2024-01-02T03:04:05.123456789Z
    const std::string t = j["time"];
    EXPECT_EQ(t.size(), 30u) << t;
    EXPECT_EQ(t.back(), 'Z') << t;
    EXPECT_EQ(t[10], 'T') << t;
    EXPECT_EQ(t[19], '.') << t;

    RunResult s = run_strata({"snapshots", "--json", repo()});
    ASSERT_EQ(s.exit_code, 0) << describe(s);
    Json list = Json::parse(s.out, nullptr, false);
    ASSERT_TRUE(list.is_array()) << s.out;
    ASSERT_EQ(list.size(), 1u);
    for (const auto& [k, v] : j.items())
        if (k != "warnings") {
            EXPECT_EQ(list[0][k], v) << "snapshots --json differs in " << k;
        }

    RunResult ls = run_strata({"ls", "--json", repo(), "latest"});
    ASSERT_EQ(ls.exit_code, 0) << describe(ls);
    std::map<std::string, Json> by_path;
    std::size_t pos = 0;
    while (pos < ls.out.size()) {
        std::size_t nl = ls.out.find('\n', pos);
        Json e = Json::parse(ls.out.substr(pos, nl - pos), nullptr, false);
        ASSERT_TRUE(e.is_object()) << ls.out;
        for (const char* f : {"name", "path", "type", "mode", "permissions", "uid", "gid", "user",
                              "group", "size", "mtime", "nlink"})
            EXPECT_TRUE(e.contains(f)) << "ls --json entry lacks \"" << f << "\": " << e.dump();
        by_path[e["path"]] = e;
        pos = nl + 1;
    }
    ASSERT_EQ(by_path.size(), 3u) << ls.out;
    EXPECT_EQ(by_path["link"]["type"], "symlink");
    EXPECT_EQ(by_path["link"]["target"], "plain.txt");
    EXPECT_EQ(by_path["plain.txt"]["type"], "file");
    EXPECT_EQ(by_path["plain.txt"]["size"], 6u);
    // A name that is not UTF-8 keeps its exact bytes in name_hex.
    bool found_hex = false;
    for (const auto& [p, e] : by_path)
        if (e.contains("name_hex")) {
            found_hex = true;
            EXPECT_EQ(e["name_hex"], "6261642dff2e747874");
        }
    EXPECT_TRUE(found_hex) << ls.out;
}

TEST_F(IngestTest, UnreadableFilesGiveExitCode3AndAPartialSnapshot) {
    if (!running_as_root()) GTEST_SKIP() << "needs root to switch to an unprivileged user";
    constexpr uid_t kNobody = 65534;
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    const std::string src = dir_ / "src", home = dir_ / "home", repo2 = home + "/repo";
    ASSERT_EQ(::mkdir(home.c_str(), 0755), 0);
    ASSERT_EQ(::chown(home.c_str(), kNobody, kNobody), 0);
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((src + "/closed").c_str(), 0755), 0);
    write_file(src + "/readable.txt", "fine\n");
    write_file(src + "/secret.txt", "you cannot read me\n");
    write_file(src + "/closed/hidden.txt", "nor me\n");
    for (const char* p : {"", "/closed", "/readable.txt", "/secret.txt", "/closed/hidden.txt"})
        ASSERT_EQ(::chown((src + p).c_str(), kNobody, kNobody), 0);
    ASSERT_EQ(::chmod((src + "/secret.txt").c_str(), 0), 0);
    ASSERT_EQ(::chmod((src + "/closed").c_str(), 0), 0);
    const std::vector<std::string> as_nobody{"setpriv", "--reuid=65534", "--regid=65534",
                                             "--clear-groups"};
    auto run_as_nobody = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = as_nobody;
        argv.push_back(strata_binary());
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    };
    RunResult init = run_as_nobody({"init", "--encryption", "none", repo2});
    if (init.exit_code == 127) GTEST_SKIP() << "setpriv is not installed";
    ASSERT_EQ(init.exit_code, 0) << describe(init);

    RunResult r = run_as_nobody({"ingest", "--json", repo2, src});
    EXPECT_EQ(r.exit_code, 3) << describe(r);
    Json j = Json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << describe(r);
    EXPECT_TRUE(j["partial"].get<bool>());
    std::set<std::string> warned;
    for (const auto& w : j["warnings"]) {
        warned.insert(w["path"].get<std::string>());
        EXPECT_FALSE(w["reason"].get<std::string>().empty());
    }
    EXPECT_TRUE(warned.count(src + "/secret.txt")) << j["warnings"].dump();
    EXPECT_TRUE(warned.count(src + "/closed")) << j["warnings"].dump();
    EXPECT_NE(r.err.find("warning: " + src + "/secret.txt: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;

    // The snapshot was saved without what could not be read, and is marked partial.
    RunResult s = run_as_nobody({"snapshots", "--json", repo2});
    Json list = Json::parse(s.out, nullptr, false);
    ASSERT_TRUE(list.is_array() && list.size() == 1) << describe(s);
    EXPECT_TRUE(list[0]["partial"].get<bool>());
    RunResult cat = run_as_nobody({"cat", repo2, "latest", "readable.txt"});
    EXPECT_EQ(cat.out, "fine\n") << describe(cat);
    EXPECT_NE(run_as_nobody({"cat", repo2, "latest", "secret.txt"}).exit_code, 0);
    RunResult table = run_as_nobody({"snapshots", repo2});
    EXPECT_NE(table.out.find("partial"), std::string::npos) << table.out;
}

TEST_F(IngestTest, SecondWriterFailsNamingTheHolder) {
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_file(src + "/f", "x\n");
    auto repo_handle = Repository::open(repo());
    auto lock = repo_handle->lock_for_writing("test-holding-the-lock");
    auto started = std::chrono::steady_clock::now();
    RunResult r = run_strata({"ingest", repo(), src, "--lock-wait", "0.5"});
    double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("pid " + std::to_string(::getpid())), std::string::npos) << r.err;
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    EXPECT_NE(r.err.find(host), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("test-holding-the-lock"), std::string::npos) << r.err;
    EXPECT_GE(waited, 0.5);
    // Readers are never blocked by the writer.
    RunResult s = run_strata({"snapshots", repo()});
    EXPECT_EQ(s.exit_code, 0) << describe(s);
    lock.reset();
    r = run_strata({"ingest", repo(), src});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

}  // namespace
}  // namespace strata::testing
