// `strata ingest --stdin` and `--stdin-from-command`: a stream stored as one file, restored byte
// for byte by `strata cat`, deduplicated on the next dump; a failing command leaves no snapshot.
#include <sys/mount.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

class StdinIngest : public ::testing::Test {
  protected:
    void SetUp() override { init_repo(repo); }

    // `strata ingest --json REPO --stdin ARGS... < FILE` through a pipe (cat FILE |).
    Ingested piped(const std::string& file, const std::string& args) {
        Ingested i;
        i.run = shell("cat " + sh_quoted(file) + " | \"$S\" ingest --json " + sh_quoted(repo) +
                      " --stdin " + args);
        if (i.run.exit_code == 0) {
            i.summary = Json::parse(i.run.out, nullptr, false);
            if (i.summary.is_object()) i.id = i.summary.value("id", "");
        }
        return i;
    }

    TempDir dir;
    std::string repo = dir / "repo";
};

TEST_F(StdinIngest, APipedStreamRestoresByteExact) {
    const std::string data = random_data(3u << 20, 21);
    write_file(dir / "dump.sql", data);
    Ingested i =
        piped(dir / "dump.sql", "--stdin-name mydb.sql --tag db --note nightly --host dbhost");
    ASSERT_EQ(i.run.exit_code, 0) << describe(i.run);
    ASSERT_FALSE(i.id.empty()) << describe(i.run);
    EXPECT_EQ(i.summary["files"], 1);
    EXPECT_EQ(i.summary["bytes"], data.size());
    EXPECT_EQ(i.summary["tags"], Json::array({"db"}));
    EXPECT_EQ(i.summary["note"], "nightly");
    EXPECT_EQ(i.summary["host"], "dbhost");
    EXPECT_EQ(i.summary["paths"], Json::array({"/mydb.sql"}));
    RunResult cat = run_strata({"cat", repo, i.id, "mydb.sql"});
    ASSERT_EQ(cat.exit_code, 0) << describe(cat);
    EXPECT_TRUE(cat.out == data) << "cat gave " << cat.out.size() << " bytes, not the stream's "
                                 << data.size();
    RunResult ls = run_strata({"ls", "--json", repo, i.id});
    ASSERT_EQ(ls.exit_code, 0) << describe(ls);
    EXPECT_NE(ls.out.find("mydb.sql"), std::string::npos) << ls.out;
}

TEST_F(StdinIngest, TheFileIsPrivateToTheRunningUserAndNamedStdinByDefault) {
    write_file(dir / "in", "some data\n");
    Ingested i = piped(dir / "in", "");
    ASSERT_EQ(i.run.exit_code, 0) << describe(i.run);
    RunResult r = run_strata({"restore", repo, i.id, dir / "out"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    struct stat st;
    ASSERT_EQ(::stat((dir / "out/stdin").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    EXPECT_NEAR(static_cast<double>(st.st_mtime), static_cast<double>(::time(nullptr)), 60);
    EXPECT_EQ(read_file(dir / "out/stdin"), "some data\n");
}

TEST_F(StdinIngest, TheSameStreamAgainAddsAlmostNothingAndAChangedOneLittle) {
    std::string data = random_data(16u << 20, 5);
    write_file(dir / "a", data);
    Ingested first = piped(dir / "a", "--stdin-name db.sql");
    ASSERT_EQ(first.run.exit_code, 0) << describe(first.run);
    EXPECT_GT(first.summary["bytes_added"].get<std::uint64_t>(), data.size() * 9 / 10);
    Ingested again = piped(dir / "a", "--stdin-name db.sql");
    ASSERT_EQ(again.run.exit_code, 0) << describe(again.run);
    EXPECT_LT(again.summary["bytes_added"].get<std::uint64_t>(), 4096u) << "only a tree";
    EXPECT_EQ(again.summary["parent"], first.id);
    for (std::size_t i = 0; i < 100; ++i) data[data.size() / 2 + i] ^= 0x5a;
    write_file(dir / "b", data);
    Ingested changed = piped(dir / "b", "--stdin-name db.sql");
    ASSERT_EQ(changed.run.exit_code, 0) << describe(changed.run);
    EXPECT_LT(changed.summary["bytes_added"].get<std::uint64_t>(), data.size() * 4 / 10)
        << "100 bytes changed: only the chunks around them are new";
}

TEST_F(StdinIngest, ACommandsOutputIsStoredAndItsArgumentsReachItWithoutAShell) {
    // After --, what looks like an option (strata's own --json among them) is the command's.
    RunResult r = run_strata({"ingest", "--json", repo, "--stdin-from-command", "--stdin-name",
                              "out.txt", "--", "printf", "%s|", "a b", "$HOME", "c;d",
                              "--single-transaction", "--json"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    RunResult cat = run_strata({"cat", repo, "latest", "out.txt"});
    ASSERT_EQ(cat.exit_code, 0) << describe(cat);
    EXPECT_EQ(cat.out, "a b|$HOME|c;d|--single-transaction|--json|");
}

TEST_F(StdinIngest, ACommandThatFailsLeavesNoSnapshotAndExitsOne) {
    write_file(dir / "x", "kept\n");
    ASSERT_EQ(ingest(repo, {dir / "x"}).run.exit_code, 0);
    const auto before = snapshot_ids(repo);
    RunResult r = run_strata(
        {"ingest", repo, "--stdin-from-command", "--", "sh", "-c", "echo half of a dump; exit 3"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("sh exited with status 3"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no snapshot"), std::string::npos) << r.err;
    EXPECT_EQ(snapshot_ids(repo), before);
}

TEST_F(StdinIngest, ACommandKilledByASignalLeavesNoSnapshot) {
    RunResult r = run_strata(
        {"ingest", repo, "--stdin-from-command", "--", "sh", "-c", "echo some; kill -9 $$"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("killed by signal 9"), std::string::npos) << r.err;
    EXPECT_TRUE(snapshot_ids(repo).empty());
}

TEST_F(StdinIngest, ACommandThatCannotRunIsNamed) {
    RunResult r =
        run_strata({"ingest", repo, "--stdin-from-command", "--", "strata-test-no-such-command"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("cannot run strata-test-no-such-command"), std::string::npos) << r.err;
    EXPECT_TRUE(snapshot_ids(repo).empty());
}

// Standard input is the data, so the password of an encrypted repository comes from a file;
// dump reads the file back through the same password.
TEST(StdinIngestEncrypted, APipedStreamIntoAnEncryptedRepositoryDumpsBack) {
    TempDir dir;
    const std::string repo = dir / "repo", pw = dir / "pw";
    write_file(pw, "correct horse\n");
    RunResult init = run_strata({"init", "--password-file", pw, "--kdf-memory", "8", repo});
    ASSERT_EQ(init.exit_code, 0) << describe(init);
    const std::string data = random_data(1u << 20, 77);
    write_file(dir / "in", data);
    RunResult r = shell("cat " + sh_quoted(dir / "in") + " | \"$S\" ingest --password-file " +
                        sh_quoted(pw) + " " + sh_quoted(repo) + " --stdin --stdin-name db.sql");
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    RunResult back = shell("\"$S\" dump --password-file " + sh_quoted(pw) + " " + sh_quoted(repo) +
                           " latest db.sql > " + sh_quoted(dir / "out"));
    ASSERT_EQ(back.exit_code, 0) << describe(back);
    EXPECT_TRUE(read_file(dir / "out") == data);
}

TEST_F(StdinIngest, AStandardInputThatCannotBeReadLeavesNoSnapshot) {
    // A directory as standard input: read(2) fails with EISDIR.
    RunResult r = shell("\"$S\" ingest " + sh_quoted(repo) + " --stdin < " + sh_quoted(dir.path()));
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("cannot read standard input"), std::string::npos) << r.err;
    EXPECT_TRUE(snapshot_ids(repo).empty());
}

// Mounts a 20 MiB tmpfs at `dir` for its lifetime; unmounts in the destructor, whatever happened.
class SmallTmpfs {
  public:
    explicit SmallTmpfs(const std::string& dir) : dir_(dir) {
        mounted_ = ::mount("strata-test", dir.c_str(), "tmpfs", 0, "size=20m") == 0;
    }
    ~SmallTmpfs() {
        if (mounted_ && ::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }

  private:
    std::string dir_;
    bool mounted_ = false;
};

// The repository fills up while the command still writes: the ingest fails with ENOSPC and no
// snapshot, and the command, which ignores SIGTERM here, is killed rather than waited for.
TEST(StdinIngestFaults, AFullRepositoryFailsTheIngestAndEndsTheCommand) {
    TempDir dir;
    const std::string small = dir / "small";
    ::mkdir(small.c_str(), 0700);
    SmallTmpfs tmpfs(small);
    if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here; needs root";
    const std::string repo = small + "/repo";
    init_repo(repo);
    const auto started = std::chrono::steady_clock::now();
    RunResult r = run_strata({"ingest", repo, "--stdin-from-command", "--", "sh", "-c",
                              "trap '' TERM; head -c 64000000 /dev/urandom; exec sleep 120"});
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find(std::strerror(ENOSPC)), std::string::npos) << r.err;
    EXPECT_LT(took, std::chrono::seconds(60)) << "strata waited for the command to end by itself";
    EXPECT_TRUE(snapshot_ids(repo).empty());
}

TEST_F(StdinIngest, MisusesAreUsageErrors) {
    for (const std::vector<std::string>& args : {
             std::vector<std::string>{"ingest", repo, "--stdin", dir.path()},
             std::vector<std::string>{"ingest", repo, "--stdin", "--stdin-from-command", "--",
                                      "true"},
             std::vector<std::string>{"ingest", repo, "--stdin-from-command"},
             std::vector<std::string>{"ingest", repo, dir.path(), "--stdin-name", "x"},
             std::vector<std::string>{"ingest", repo, "--stdin", "--stdin-name", "a/b"},
             std::vector<std::string>{"ingest", repo, "--stdin", "--exclude", "*.o"},
         }) {
        RunResult r = run_strata(args);
        EXPECT_EQ(r.exit_code, 2) << describe(r);
    }
    EXPECT_TRUE(snapshot_ids(repo).empty());
}

}  // namespace
}  // namespace strata::testing
