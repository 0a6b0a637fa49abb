// The strata command run in-process (strata::cli::run) with captured output: usage errors, exit
// codes, messages, and the text formats of ls -l and snapshots.
#include "tools/cli.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/testlib/temp_dir.h"

namespace strata::cli {
namespace {

using testing::TempDir;
using testing::write_file;

struct CliRun {
    int code;
    std::string out, err;
};

CliRun strata(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    CliIo io{out, err, false, -1};  // out_fd -1: `cat` writes into `out` too
    int code = run(args, io);
    return {code, out.str(), err.str()};
}

std::string show(const CliRun& r) {
    return "exit " + std::to_string(r.code) + "\n--- out:\n" + r.out + "\n--- err:\n" + r.err;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override { ::unsetenv("STRATA_REPO"); }
    void TearDown() override { ::unsetenv("STRATA_REPO"); }
    std::string repo() const { return dir_ / "repo"; }
    void init() { ASSERT_EQ(strata({"init", "--encryption", "none", repo()}).code, 0); }
    TempDir dir_;
};

TEST_F(CliTest, NoArgumentsIsAUsageError) {
    CliRun r = strata({});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("usage: strata COMMAND"), std::string::npos) << show(r);
    EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, HelpListsEveryCommandAndVersionPrints) {
    CliRun r = strata({"--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* c :
         {"init", "ingest", "snapshots", "ls", "cat", "restore", "repair-index", "copy", "key"})
        EXPECT_NE(r.out.find(std::string("  ") + c + " "), std::string::npos) << c << "\n" << r.out;
    EXPECT_NE(r.out.find("STRATA_REPO"), std::string::npos);
    r = strata({"--version"});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind("strata ", 0), 0u) << r.out;
    r = strata({"ingest", "--help"});
    EXPECT_EQ(r.code, 0);
    for (const char* o : {"--exclude", "--exclude-file", "--one-file-system", "--exclude-caches",
                          "--force-reread", "--tag", "--host", "--note", "--json"})
        EXPECT_NE(r.out.find(o), std::string::npos) << o << "\n" << r.out;
}

TEST_F(CliTest, UnknownCommand) {
    CliRun r = strata({"frobnicate", "x"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("unknown command \"frobnicate\""), std::string::npos) << show(r);
    EXPECT_NE(r.err.find("strata --help"), std::string::npos) << show(r);
}

TEST_F(CliTest, UsageErrorsExit2WithAUsageLine) {
    init();
    write_file(dir_ / "f", "x");
    struct Case {
        std::vector<std::string> args;
        const char* command;
    };
    const std::vector<Case> cases = {
        {{"ingest", repo()}, "ingest"},                                     // no PATH
        {{"ingest", repo(), dir_ / "f", "--bogus"}, "ingest"},              // unknown option
        {{"ingest", repo(), dir_ / "f", "--lock-wait", "soon"}, "ingest"},  // bad value
        {{"ls", repo()}, "ls"},                                             // no SNAPSHOT
        {{"ls", repo(), "latest", "a", "b"}, "ls"},                         // extra argument
        {{"cat", repo(), "latest"}, "cat"},                                 // no PATH
        {{"restore", repo(), "latest"}, "restore"},                         // no TARGET
        {{"snapshots", repo(), "extra"}, "snapshots"},
        {{"snapshots", repo(), "--json=yes"}, "snapshots"},
        {{"init"}, "init"},  // no repository at all
        {{"repair-index", repo(), "extra"}, "repair-index"},
    };
    for (const auto& c : cases) {
        CliRun r = strata(c.args);
        std::string joined;
        for (const auto& a : c.args) joined += " " + a;
        EXPECT_EQ(r.code, 2) << joined << "\n" << show(r);
        EXPECT_NE(r.err.find(std::string("usage: strata ") + c.command + " "), std::string::npos)
            << joined << "\n"
            << show(r);
        EXPECT_EQ(r.err.find("unexpected internal error"), std::string::npos);
    }
    CliRun none = strata({"snapshots"});
    EXPECT_EQ(none.code, 2);
    EXPECT_NE(none.err.find("STRATA_REPO"), std::string::npos) << show(none);
}

TEST_F(CliTest, MissingRepositoryMentionsInit) {
    const std::string missing = dir_ / "no-such-repo";
    for (const std::vector<std::string>& args : {std::vector<std::string>{"snapshots", missing},
                                                 {"ls", missing, "latest"},
                                                 {"cat", missing, "latest", "x"}}) {
        CliRun r = strata(args);
        EXPECT_EQ(r.code, 1) << show(r);
        EXPECT_NE(r.err.find(missing), std::string::npos) << show(r);
        EXPECT_NE(r.err.find("strata init"), std::string::npos) << show(r);
    }
    ASSERT_EQ(::mkdir(missing.c_str(), 0755), 0);
    CliRun r = strata({"snapshots", "--repo", missing});
    EXPECT_EQ(r.code, 1) << show(r);
    EXPECT_NE(r.err.find("not a strata repository"), std::string::npos) << show(r);
}

// `strata ARGS` run in a forked child as user nobody (uid and gid 65534), its error output and
// exit code passed back through a pipe. Only for a root test process.
CliRun strata_as_nobody(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) return {-1, "", "pipe failed"};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        CliRun r{-1, "", "could not become nobody"};
        if (::setgroups(0, nullptr) == 0 && ::setresgid(65534, 65534, 65534) == 0 &&
            ::setresuid(65534, 65534, 65534) == 0)
            r = strata(args);
        std::string msg = std::to_string(r.code) + "\n" + r.err;
        if (::write(fds[1], msg.data(), msg.size()) < 0) _exit(2);
        _exit(0);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        msg.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    auto nl = msg.find('\n');
    if (nl == std::string::npos) return {-1, "", "no reply from the child: " + msg};
    return {std::stoi(msg.substr(0, nl)), "", msg.substr(nl + 1)};
}

// A repository the user may not read is not "not a strata repository": the message says
// permission denied, and on which path.
TEST_F(CliTest, UnreadableRepositorySaysPermissionDenied) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a child as another user";
    init();  // the repository directory is 0700, owned by root
    ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
    CliRun r = strata_as_nobody({"snapshots", repo()});
    EXPECT_EQ(r.code, 1) << show(r);
    EXPECT_NE(r.err.find("permission denied on " + repo()), std::string::npos) << show(r);
    EXPECT_EQ(r.err.find("not a strata repository"), std::string::npos) << show(r);
    EXPECT_EQ(r.err.find("strata init"), std::string::npos) << show(r);
    // The directory may be searched, but the config itself not: that is the path named.
    ASSERT_EQ(::chmod(repo().c_str(), 0755), 0);
    r = strata_as_nobody({"snapshots", repo()});
    EXPECT_EQ(r.code, 1) << show(r);
    EXPECT_NE(r.err.find("permission denied on " + repo() + "/config"), std::string::npos)
        << show(r);
}

// A regular file is not a repository, and `init` on one is a documented usage error.
TEST_F(CliTest, FileGivenAsRepository) {
    const std::string file = dir_ / "file";
    write_file(file, "not a repository");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"snapshots", file}, {"ls", file, "latest"}, {"prune", file}}) {
        CliRun r = strata(args);
        EXPECT_EQ(r.code, 1) << show(r);
        EXPECT_NE(r.err.find(file + " is a file, not a directory"), std::string::npos) << show(r);
        EXPECT_EQ(r.err.find("no config file"), std::string::npos) << show(r);
    }
    CliRun r = strata({"init", "--encryption", "none", file});
    EXPECT_EQ(r.code, 2) << show(r);
    EXPECT_NE(r.err.find(file + " is a file, not a directory"), std::string::npos) << show(r);
    EXPECT_EQ(testing::read_file(file), "not a repository");
}

// A config cut short names the file, what is wrong with it, and what to do.
TEST_F(CliTest, TruncatedConfigSaysHowToRecover) {
    init();
    const std::string config = repo() + "/config";
    for (const std::string& text :
         {std::string("strata repository\nve"), std::string("strata rep"), std::string("")}) {
        write_file(config, text);
        CliRun r = strata({"snapshots", repo()});
        EXPECT_EQ(r.code, 1) << show(r);
        EXPECT_NE(r.err.find(config), std::string::npos) << show(r);
        EXPECT_NE(r.err.find("damaged"), std::string::npos) << show(r);
        EXPECT_NE(r.err.find("from a copy"), std::string::npos) << show(r);
        EXPECT_NE(r.err.find("`strata init` on an empty directory"), std::string::npos) << show(r);
        EXPECT_NE(r.err.find("not affected"), std::string::npos) << show(r);
    }
}

// mount says what every other command says about a missing repository.
TEST_F(CliTest, MountOfAMissingRepositoryMentionsInit) {
    const std::string missing = dir_ / "no-such-repo";
    const std::string mnt = dir_ / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    CliRun ls = strata({"snapshots", missing});
    CliRun r = strata({"mount", missing, mnt});
    EXPECT_EQ(r.code, 1) << show(r);
    EXPECT_EQ(r.err, "strata mount: " + ls.err.substr(ls.err.find(": ") + 2))
        << show(r) << show(ls);
    EXPECT_EQ(r.err.find("cannot resolve"), std::string::npos) << show(r);
}

TEST_F(CliTest, InitRefusesANonEmptyDirectory) {
    ASSERT_EQ(::mkdir(repo().c_str(), 0755), 0);
    write_file(repo() + "/data", "precious");
    CliRun r = strata({"init", "--encryption", "none", repo()});
    EXPECT_EQ(r.code, 2) << show(r);
    EXPECT_NE(r.err.find("not empty"), std::string::npos) << show(r);
    EXPECT_EQ(testing::read_file(repo() + "/data"), "precious");
}

// A small tree with known metadata, ingested in-process.
class ListingTest : public CliTest {
  protected:
    void SetUp() override {
        CliTest::SetUp();
        init();
        src_ = dir_ / "src";
        ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
        write_file(src_ + "/file.txt", "hello");
        ASSERT_EQ(::chmod((src_ + "/file.txt").c_str(), 0644), 0);
        write_file(src_ + "/tool", "#!/bin/sh\n");
        ASSERT_EQ(::chmod((src_ + "/tool").c_str(), 04755), 0);
        ASSERT_EQ(::mkdir((src_ + "/tmp").c_str(), 01777), 0);
        ASSERT_EQ(::chmod((src_ + "/tmp").c_str(), 01777), 0);
        ASSERT_EQ(::symlink("file.txt", (src_ + "/link").c_str()), 0);
        write_file(src_ + "/two\nlines", "x");
        write_file(src_ + "/tmp/inner", "inner");
        root_ = ::geteuid() == 0;
        if (root_) {
            ASSERT_EQ(::chown((src_ + "/file.txt").c_str(), kUid, kGid), 0);
            ASSERT_EQ(::mknod((src_ + "/dev").c_str(), S_IFCHR | 0600, makedev(300, 70000)), 0);
        }
        const struct timespec t[2] = {{kMtime, 0}, {kMtime, 0}};
        for (const char* p : {"/file.txt", "/tool", "/tmp", "/link", "/two\nlines"})
            ASSERT_EQ(::utimensat(AT_FDCWD, (src_ + p).c_str(), t, AT_SYMLINK_NOFOLLOW), 0);
        CliRun r =
            strata({"ingest", repo(), src_, "--tag", "t1", "--tag", "t0", "--host", "myhost"});
        ASSERT_EQ(r.code, 0) << show(r);
        id_ = r.out.substr(0, r.out.find('\n'));
        ASSERT_EQ(id_.size(), 64u) << show(r);
        EXPECT_NE(r.err.find("snapshot " + id_.substr(0, 8) + " saved"), std::string::npos)
            << show(r);
    }

    static constexpr uid_t kUid = 1234;
    static constexpr gid_t kGid = 5678;
    static constexpr std::time_t kMtime = 1600000000;  // 2020-09-13T12:26:40Z
    std::string src_, id_;
    bool root_ = false;
};

TEST_F(ListingTest, LsLongFormat) {
    CliRun r = strata({"ls", repo(), "latest", "-l"});
    ASSERT_EQ(r.code, 0) << show(r);
    auto ls = lines(r.out);
    auto line_for = [&](const std::string& name) -> std::string {
        for (const auto& l : ls)
            if (l.size() >= name.size() &&
                (l.compare(l.size() - name.size(), name.size(), name) == 0 ||
                 l.find(" " + name + " -> ") != std::string::npos))
                return l;
        return "";
    };
    if (root_ && !::getpwuid(kUid) && !::getgrgid(kGid)) {
        // Owners without a name show as numbers; columns: mode, links, owner, group, size, mtime,
        // path.
        EXPECT_EQ(line_for("file.txt"),
                  "-rw-r--r--   1 1234     5678                5 2020-09-13T12:26:40Z file.txt");
    }
    EXPECT_EQ(line_for("tool").substr(0, 11), "-rwsr-xr-x ") << r.out;
    EXPECT_EQ(line_for("tmp").substr(0, 11), "drwxrwxrwt ") << r.out;
    EXPECT_NE(line_for("link").find("2020-09-13T12:26:40Z link -> file.txt"), std::string::npos)
        << r.out;
    EXPECT_EQ(line_for("link").substr(0, 1), "l");
    EXPECT_NE(line_for("two\\nlines"), "") << "newlines in names are escaped:\n" << r.out;
    EXPECT_EQ(r.out.find("two\nlines"), std::string::npos);
    if (root_) {
        EXPECT_NE(line_for("dev").find(" 300, 70000 "), std::string::npos) << r.out;
    }
    EXPECT_EQ(ls.size(), root_ ? 6u : 5u) << r.out;

    // Without -l: one path per line; -R descends.
    r = strata({"ls", repo(), id_.substr(0, 4)});
    ASSERT_EQ(r.code, 0) << show(r);
    EXPECT_EQ(r.out.find("tmp/inner"), std::string::npos);
    r = strata({"ls", repo(), id_, "-R"});
    EXPECT_NE(r.out.find("tmp/inner\n"), std::string::npos) << r.out;
    r = strata({"ls", repo(), id_, "tmp"});
    EXPECT_EQ(r.out, "tmp/inner\n");
    r = strata({"ls", repo(), id_, "file.txt", "--json"});
    ASSERT_EQ(r.code, 0) << show(r);
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["path"], "file.txt");
    EXPECT_EQ(j["size"], 5);
    EXPECT_EQ(j["mode"], 0644);
    EXPECT_EQ(j["permissions"], "-rw-r--r--");
    EXPECT_EQ(j["mtime"], "2020-09-13T12:26:40.000000000Z");
}

TEST_F(ListingTest, SnapshotNamesAndMissingPaths) {
    CliRun r = strata({"ls", repo(), "zzzz"});
    EXPECT_EQ(r.code, 2) << show(r);
    r = strata({"ls", repo(), "abc"});
    EXPECT_EQ(r.code, 2) << show(r);
    std::string unknown = id_[0] == '0' ? "1111" : "0000";
    r = strata({"ls", repo(), unknown});
    EXPECT_EQ(r.code, 1) << show(r);
    EXPECT_NE(r.err.find(unknown), std::string::npos) << show(r);
    r = strata({"ls", repo(), "latest", "no/such/dir"});
    EXPECT_EQ(r.code, 1) << show(r);
    EXPECT_NE(r.err.find("no"), std::string::npos) << show(r);
    r = strata({"cat", repo(), "latest", "tmp"});
    EXPECT_EQ(r.code, 2) << show(r);
    EXPECT_NE(r.err.find("is a directory"), std::string::npos) << show(r);
}

TEST_F(ListingTest, SnapshotsTable) {
    CliRun r = strata({"snapshots", repo()});
    ASSERT_EQ(r.code, 0) << show(r);
    auto t = lines(r.out);
    ASSERT_EQ(t.size(), 3u) << r.out;  // header, one row, count
    std::size_t last = 0;
    for (const char* col : {"ID", "TIME", "HOST", "PATHS", "TAGS", "FILES", "SIZE", "ADDED"}) {
        std::size_t at = t[0].find(col);
        EXPECT_NE(at, std::string::npos) << col << ": " << t[0];
        EXPECT_GE(at, last) << "columns in order: " << t[0];
        last = at;
    }
    EXPECT_EQ(t[1].substr(0, 8), id_.substr(0, 8));
    EXPECT_NE(t[1].find("myhost"), std::string::npos) << t[1];
    EXPECT_NE(t[1].find(src_), std::string::npos) << t[1];
    EXPECT_NE(t[1].find("t0,t1"), std::string::npos) << "tags sorted: " << t[1];
    EXPECT_EQ(t[2], "1 snapshot (the repository is not encrypted)");
    EXPECT_EQ(t[1].find("partial"), std::string::npos);

    write_file(src_ + "/new", "new");
    ASSERT_EQ(strata({"ingest", repo(), src_, "--host", "myhost"}).code, 0);
    r = strata({"snapshots", repo()});
    t = lines(r.out);
    ASSERT_EQ(t.size(), 4u) << r.out;
    EXPECT_EQ(t[3], "2 snapshots (the repository is not encrypted)");
    EXPECT_EQ(t[1].substr(0, 8), id_.substr(0, 8)) << "oldest first";
}

// Columns size to their content: a host or path list wider than its header still leaves a gap
// before the next column, and every cell starts under its header.
TEST_F(CliTest, SnapshotsTableKeepsColumnsApart) {
    init();
    const std::string a = dir_ / "a-directory-with-a-long-name",
                      b = dir_ / "another-long-directory-name";
    ASSERT_EQ(::mkdir(a.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(b.c_str(), 0755), 0);
    write_file(a + "/f", "x");
    const std::string host = "build-server-17.eu-west.internal.example.org";
    CliRun r = strata({"ingest", repo(), a, b, "--host", host, "--tag", "gitreposmall,third"});
    ASSERT_EQ(r.code, 0) << show(r);
    r = strata({"ingest", repo(), a, "--host", "h", "--tag", "x"});
    ASSERT_EQ(r.code, 0) << show(r);
    r = strata({"snapshots", repo()});
    ASSERT_EQ(r.code, 0) << show(r);
    auto t = lines(r.out);
    ASSERT_EQ(t.size(), 4u) << r.out;
    const std::string paths = a + "," + b;
    EXPECT_NE(t[1].find(host + "  " + paths + "  gitreposmall,third  "), std::string::npos)
        << r.out;
    EXPECT_EQ(t[0].find("HOST"), t[1].find(host)) << r.out;
    EXPECT_EQ(t[0].find("PATHS"), t[1].find(paths)) << r.out;
    EXPECT_EQ(t[0].find("TAGS"), t[1].find("gitreposmall")) << r.out;
    EXPECT_EQ(t[0].find("PATHS"), t[2].find(a)) << r.out;
    EXPECT_EQ(t[0].find("TAGS"), t[2].find("  x  ") + 2) << r.out;
    // Numbers are right-aligned under their headers.
    EXPECT_EQ(t[0].find("FILES") + 5, t[1].find(" 1 ") + 2) << r.out;
    EXPECT_EQ(t[0].size(), t[1].size()) << r.out;
}

// ls escapes what a terminal would not show as it is: bytes that are not UTF-8 too, while
// UTF-8 names print unchanged.
TEST_F(CliTest, LsEscapesBytesThatAreNotUtf8) {
    init();
    const std::string src = dir_ / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_file(src + "/bad\xff\xfename", "1");
    write_file(src + "/caf\xc3\xa9", "2");
    write_file(src + "/c1\xc2\x85" + std::string("ctl"), "3");
    ASSERT_EQ(strata({"ingest", repo(), src}).code, 0);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"ls", repo(), "latest"}, {"ls", repo(), "latest", "-l"}}) {
        CliRun r = strata(args);
        ASSERT_EQ(r.code, 0) << show(r);
        EXPECT_NE(r.out.find("bad\\xff\\xfename\n"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("caf\xc3\xa9\n"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("c1\\xc2\\x85ctl\n"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find('\xff'), std::string::npos) << r.out;
    }
    CliRun j = strata({"ls", repo(), "latest", "--json"});
    EXPECT_NE(j.out.find("\"name_hex\""), std::string::npos) << j.out;
}

TEST_F(ListingTest, CatWritesContent) {
    CliRun r = strata({"cat", repo(), "latest", "file.txt"});
    EXPECT_EQ(r.code, 0) << show(r);
    EXPECT_EQ(r.out, "hello");
    r = strata({"cat", repo(), "latest", "/tmp/inner"});
    EXPECT_EQ(r.out, "inner");
    r = strata({"cat", repo(), "latest", "missing"});
    EXPECT_EQ(r.code, 1) << show(r);
    EXPECT_EQ(r.out, "");
}

TEST_F(ListingTest, RepositoryFromTheEnvironment) {
    ::setenv("STRATA_REPO", repo().c_str(), 1);
    CliRun r = strata({"ls", "latest", "tmp"});
    EXPECT_EQ(r.code, 0) << show(r);
    EXPECT_EQ(r.out, "tmp/inner\n");
    r = strata({"snapshots", "--json"});
    ASSERT_EQ(r.code, 0) << show(r);
    auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["id"], id_);
    EXPECT_EQ(j[0]["tags"], nlohmann::json::array({"t0", "t1"}));
}

}  // namespace
}  // namespace strata::cli
