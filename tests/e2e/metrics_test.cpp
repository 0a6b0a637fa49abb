// --metrics-file on ingest, forget, prune and verify: Prometheus text format, written whole when
// the command ends; a failed run says so and keeps the time of the last success.
#include <sys/stat.h>

#include <regex>
#include <sstream>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

class Metrics : public ::testing::Test {
  protected:
    void SetUp() override {
        repo = dir / "repo";
        init_repo(repo);
        ::mkdir((dir / "src").c_str(), 0755);
        write_file(dir / "src/a.txt", "alpha");
        write_file(dir / "src/b.txt", "bravo, a little longer");
    }
    // The value of `name` for `command` in the file, or "" when it is not there.
    std::string value(const std::string& file, const std::string& name,
                      const std::string& command) const {
        const std::string text = read_file(file);
        const std::string key = name + "{command=\"" + command + "\",repository=\"" + repo + "\"} ";
        auto at = text.find("\n" + key);
        if (at == std::string::npos) return "";
        at += 1 + key.size();
        return text.substr(at, text.find('\n', at) - at);
    }

    TempDir dir;
    std::string repo;
};

TEST_F(Metrics, IngestWritesWhatItDidAndAFailureKeepsTheLastSuccess) {
    const std::string file = dir / "ingest.prom";
    Ingested i = ingest(repo, {dir / "src"}, {"--metrics-file", file});
    ASSERT_EQ(i.run.exit_code, 0) << describe(i.run);
    EXPECT_EQ(value(file, "strata_last_run_success", "ingest"), "1");
    EXPECT_EQ(value(file, "strata_files", "ingest"), "2");
    EXPECT_EQ(value(file, "strata_snapshot_bytes", "ingest"),
              std::to_string(i.summary["bytes"].get<std::uint64_t>()));
    EXPECT_EQ(value(file, "strata_bytes_read", "ingest"),
              std::to_string(i.summary["bytes"].get<std::uint64_t>()))
        << "a first ingest reads every file";
    EXPECT_EQ(value(file, "strata_bytes_added", "ingest"),
              std::to_string(i.summary["bytes_added"].get<std::uint64_t>()));
    EXPECT_EQ(value(file, "strata_snapshots", "ingest"), "1");
    EXPECT_NE(value(file, "strata_repository_size_bytes", "ingest"), "0");
    EXPECT_EQ(value(file, "strata_errors", "ingest"), "0");
    const std::string success = value(file, "strata_last_success_timestamp_seconds", "ingest");
    ASSERT_FALSE(success.empty());
    // Every sample line is NAME{LABELS} NUMBER, after its HELP and TYPE.
    const std::regex sample(R"(strata_[a-z_]+\{command="ingest",repository="[^"]*"\} [0-9.e+-]+)");
    std::size_t samples = 0;
    std::istringstream lines(read_file(file));
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
        EXPECT_TRUE(std::regex_match(line, sample)) << line;
        ++samples;
    }
    EXPECT_GE(samples, 10u);
    struct stat st;
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);

    ::sleep(1);
    RunResult r = run_strata({"ingest", repo, dir / "missing", "--metrics-file", file});
    ASSERT_NE(r.exit_code, 0);
    EXPECT_EQ(value(file, "strata_last_run_success", "ingest"), "0");
    EXPECT_EQ(value(file, "strata_errors", "ingest"), "1");
    EXPECT_EQ(value(file, "strata_last_success_timestamp_seconds", "ingest"), success);
    EXPECT_NE(value(file, "strata_last_run_timestamp_seconds", "ingest"), success);
    EXPECT_EQ(list_dir(dir.path()).size(), 3u) << "no temporary file is left: repo, src, the file";

    // A metrics file that cannot be written fails the command and says why.
    r = run_strata({"ingest", repo, dir / "src", "--metrics-file", dir / "no/such/dir/m.prom"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("no/such/dir/m.prom"), std::string::npos) << r.err;

    // Unchanged files are not read again.
    ASSERT_EQ(ingest(repo, {dir / "src"}, {"--metrics-file", file}).run.exit_code, 0);
    EXPECT_EQ(value(file, "strata_bytes_read", "ingest"), "0");
    EXPECT_EQ(value(file, "strata_files", "ingest"), "2");
}

TEST_F(Metrics, ForgetPruneAndVerifyWriteTheirs) {
    ASSERT_EQ(ingest(repo, {dir / "src"}).run.exit_code, 0);
    write_file(dir / "src/a.txt", "alpha, changed");
    ASSERT_EQ(ingest(repo, {dir / "src"}).run.exit_code, 0);
    const std::string forget = dir / "forget.prom", prune = dir / "prune.prom",
                      verify = dir / "verify.prom";
    RunResult r = run_strata({"forget", repo, "--keep-last", "1", "--metrics-file", forget});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(value(forget, "strata_snapshots_removed", "forget"), "1");
    EXPECT_EQ(value(forget, "strata_snapshots", "forget"), "1");
    r = run_strata({"prune", repo, "--grace", "0", "--metrics-file", prune});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(value(prune, "strata_last_run_success", "prune"), "1");
    EXPECT_NE(value(prune, "strata_bytes_deleted", "prune"), "");

    r = run_strata({"verify", "--read-data", repo, "--metrics-file", verify});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(value(verify, "strata_verify_problems", "verify"), "0");
    EXPECT_EQ(value(verify, "strata_last_run_success", "verify"), "1");
    // Damage: the run fails, and says how much it found.
    std::string pack;
    for (const auto& sub : list_dir(repo + "/packs"))
        for (const auto& name : list_dir(repo + "/packs/" + sub))
            pack = repo + "/packs/" + sub + "/" + name;
    ASSERT_FALSE(pack.empty());
    std::string data = read_file(pack);
    data[0] = static_cast<char>(data[0] ^ 1);
    write_file(pack, data);
    r = run_strata({"verify", "--read-data", repo, "--metrics-file", verify});
    ASSERT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(value(verify, "strata_last_run_success", "verify"), "0");
    EXPECT_NE(value(verify, "strata_verify_problems", "verify"), "0");
    EXPECT_NE(value(verify, "strata_last_success_timestamp_seconds", "verify"), "");
}

}  // namespace
}  // namespace strata::testing
