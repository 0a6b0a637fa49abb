// strata-ingest-job, what strata-ingest@INSTANCE.service runs, from the installed tree with a
// configuration directory of the test's own: it ingests the configured paths with their excludes
// and tags, applies the retention policy after each run, and refuses a broken configuration by
// line and key, before touching the repository.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/systemd_test_support.h"

namespace strata::testing {
namespace {

using Json = nlohmann::json;

class SystemdIngestJob : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_INSTALLED(tree);
        conf_dir = work / "etc-strata";
        repo = work / "repo";
        ::mkdir(conf_dir.c_str(), 0755);
        ::mkdir((work / "home").c_str(), 0755);
        ::mkdir((work / "home/.cache").c_str(), 0755);
        ::mkdir((work / "my data").c_str(), 0755);
        write_file(work / "home/notes.txt", "notes\n");
        write_file(work / "home/build.tmp", "scratch\n");
        write_file(work / "home/.cache/blob", "cache\n");
        write_file(work / "my data/report.txt", "report\n");
        RunResult init = run_strata({"init", "--encryption", "none", repo});
        ASSERT_EQ(init.exit_code, 0) << describe(init);
    }
    RunResult job(const std::string& instance) {
        return run_process({tree.ingest_job(), instance}, {"STRATA_CONF_DIR=" + conf_dir});
    }
    Json snapshots() {
        RunResult r = run_strata({"snapshots", "--json", repo});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return Json::parse(r.out, nullptr, false);
    }

    InstalledTree tree;
    TempDir work;
    std::string conf_dir, repo;
};

TEST_F(SystemdIngestJob, IngestsWithExcludesAndTagsThenKeepsThePolicy) {
    write_file(conf_dir + "/home.conf",
               "# a comment, then a blank line\n\n"
               "REPO=" +
                   repo +
                   "\n"
                   "PATHS=" +
                   work.path() +
                   "/home\n"
                   "PATHS=\"" +
                   work.path() +
                   "/my data\"\n"
                   "EXCLUDES=*.tmp .cache/\n"
                   "TAGS=scheduled nightly\n"
                   "  KEEP_LAST = 2\n"
                   "PRUNE=yes\n"
                   "PRUNE_GRACE=0\n"
                   "METRICS_DIR=" +
                   work.path() + "\n");
    for (int run = 0; run < 3; ++run) {
        write_file(work / "home/notes.txt", "notes, version " + std::to_string(run) + "\n");
        RunResult r = job("home");
        ASSERT_EQ(r.exit_code, 0) << "run " << run << ": " << describe(r);
        EXPECT_NE(r.out.find("applying the retention policy (--keep-last 2)"), std::string::npos)
            << r.out;
    }
    Json snaps = snapshots();
    ASSERT_TRUE(snaps.is_array());
    ASSERT_EQ(snaps.size(), 2u) << snaps.dump(2);  // KEEP_LAST=2 after three runs
    const Json& latest = snaps.back();
    EXPECT_EQ(latest["tags"], Json::array({"nightly", "scheduled"})) << latest.dump();
    EXPECT_EQ(latest["paths"].size(), 2u) << latest.dump();

    RunResult ls = run_strata({"ls", repo, "latest", "home"});
    EXPECT_NE(ls.out.find("notes.txt"), std::string::npos) << ls.out;
    EXPECT_EQ(ls.out.find("build.tmp"), std::string::npos) << ls.out;
    EXPECT_EQ(ls.out.find(".cache"), std::string::npos) << ls.out;
    RunResult cat = run_strata({"cat", repo, "latest", "my data/report.txt"});
    EXPECT_EQ(cat.out, "report\n") << describe(cat);
    RunResult notes = run_strata({"cat", repo, "latest", "home/notes.txt"});
    EXPECT_EQ(notes.out, "notes, version 2\n");

    // Metrics for node-exporter's textfile collector, readable by its user.
    const std::string labels = "{command=\"ingest\",repository=\"" + repo + "\"}";
    const std::string ingest = read_file(work / "strata-home-ingest.prom");
    EXPECT_NE(ingest.find("strata_last_run_success" + labels + " 1\n"), std::string::npos)
        << ingest;
    EXPECT_NE(ingest.find("strata_files" + labels + " 2\n"), std::string::npos) << ingest;
    struct stat st;
    ASSERT_EQ(::stat((work / "strata-home-ingest.prom").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    const std::string forget = read_file(work / "strata-home-forget.prom");
    EXPECT_NE(forget.find("strata_snapshots{command=\"forget\",repository=\"" + repo + "\"} 2\n"),
              std::string::npos)
        << forget;
}

TEST_F(SystemdIngestJob, WithoutAPolicyEverySnapshotIsKept) {
    write_file(conf_dir + "/plain.conf", "REPO=" + repo + "\nPATHS=" + work.path() + "/home\n");
    for (int run = 0; run < 2; ++run) {
        RunResult r = job("plain");
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_NE(r.out.find("every snapshot is kept"), std::string::npos) << r.out;
    }
    EXPECT_EQ(snapshots().size(), 2u);
}

TEST_F(SystemdIngestJob, BrokenConfigurationIsRefusedBeforeAnythingIsWritten) {
    const std::string home = work / "home";
    struct Case {
        std::string conf, says;
    } cases[] = {
        {"REPO=" + repo + "\nPATHS=" + home + "\nKEEP_DAYLY=7\n", "unknown key \"KEEP_DAYLY\""},
        {"REPO=" + repo + "\nPATHS=" + home + "\nKEEP_DAYLY 7\n", ":3: expected KEY=VALUE"},
        {"PATHS=" + home + "\n", "REPO= is missing"},
        {"REPO=" + repo + "\n", "PATHS= is missing"},
        {"REPO=" + repo + "\nPATHS=" + home + "\nPRUNE=maybe\n", "PRUNE takes yes or no"},
        {"REPO=/a /b\nPATHS=" + home + "\n", "REPO takes one value"},
        {"REPO=" + repo + "\nPATHS=" + home + "\nKEEP_DAILY=lots\n",
         "refuses the KEEP_* policy or REPO"},
    };
    int n = 0;
    for (const auto& c : cases) {
        std::string name = "broken" + std::to_string(n++);
        write_file(conf_dir + "/" + name + ".conf", c.conf);
        RunResult r = job(name);
        EXPECT_EQ(r.exit_code, 2) << describe(r);
        EXPECT_NE(r.err.find(c.says), std::string::npos)
            << "expected \"" << c.says << "\" in: " << r.err;
    }
    RunResult missing = job("absent");
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("cannot read " + conf_dir + "/absent.conf"), std::string::npos)
        << missing.err;
    RunResult escape = job("../etc-strata/x");
    EXPECT_EQ(escape.exit_code, 2);
    EXPECT_EQ(snapshots().size(), 0u);
}

TEST_F(SystemdIngestJob, RunsUnderTheUnitsCapabilitiesAndNoNewPrivileges) {
    SKIP_IF_REASON(::geteuid() == 0 ? "" : "not root");
    SKIP_IF_REASON(on_path("setpriv") ? "" : "setpriv (util-linux) is not installed");
    std::string caps = bounding_set_of(tree.unit_dir() + "/strata-ingest@.service");
    ASSERT_NE(caps, "-all") << "no CapabilityBoundingSet= in the unit";
    // A file only its owner (not root) may read: root reads it only through CAP_DAC_READ_SEARCH.
    write_file(work / "home/private.txt", "private\n");
    ASSERT_EQ(::chown((work / "home/private.txt").c_str(), 1234, 1234), 0);
    ASSERT_EQ(::chmod((work / "home/private.txt").c_str(), 0600), 0);
    write_file(conf_dir + "/caps.conf",
               "REPO=" + repo + "\nPATHS=" + work.path() + "/home\nKEEP_LAST=1\n");
    RunResult r = run_process({"setpriv", "--no-new-privs", "--inh-caps=-all",
                               "--bounding-set=" + caps, tree.ingest_job(), "caps"},
                              {"STRATA_CONF_DIR=" + conf_dir});
    ASSERT_EQ(r.exit_code, 0) << caps << ": " << describe(r);
    EXPECT_EQ(run_strata({"cat", repo, "latest", "private.txt"}).out, "private\n");

    // Without CAP_DAC_READ_SEARCH such a file is unreadable: the capability is what reads it.
    // (A new file: an unchanged one would be taken from the previous snapshot without reading.)
    write_file(work / "home/private2.txt", "private\n");
    ASSERT_EQ(::chown((work / "home/private2.txt").c_str(), 1234, 1234), 0);
    ASSERT_EQ(::chmod((work / "home/private2.txt").c_str(), 0600), 0);
    RunResult without = run_process({"setpriv", "--no-new-privs", "--inh-caps=-all",
                                     "--bounding-set=-all", tree.ingest_job(), "caps"},
                                    {"STRATA_CONF_DIR=" + conf_dir});
    EXPECT_EQ(without.exit_code, 3) << describe(without);
    EXPECT_NE(without.err.find("private2.txt"), std::string::npos) << without.err;
}

TEST_F(SystemdIngestJob, AFailedIngestSkipsRetentionAndPassesItsStatusOn) {
    write_file(conf_dir + "/gone.conf",
               "REPO=" + work.path() + "/no-such-repo\nPATHS=" + work.path() + "/home\n");
    RunResult r = job("gone");
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("retention not applied"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::testing
