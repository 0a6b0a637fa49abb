// `strata find`: the versions of the files a glob matches across snapshots, which snapshots hold
// each, --newest / --oldest, --snapshot and --path, JSON, and the exit status when nothing
// matches or the pattern is bad.
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

std::vector<Json> json_lines(const std::string& text) {
    std::vector<Json> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(Json::parse(l, nullptr, false));
    return out;
}

std::vector<std::string> snapshot_ids_of(const Json& version) {
    std::vector<std::string> ids;
    for (const auto& s : version["snapshots"]) ids.push_back(s["id"].get<std::string>());
    return ids;
}

class FindTest : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* d : {"", "/docs", "/docs/old", "/other"}) ::mkdir((src + d).c_str(), 0755);
        write_file(src + "/docs/report.odt", "first draft");
        write_file(src + "/docs/old/notes.odt", "notes");
        write_file(src + "/other/report.odt", "another report");
        write_file(src + "/docs/readme.txt", "text");
        init_repo(repo);
        ids.push_back(ingest(repo, {src}).id);
        write_file(src + "/docs/report.odt", "second draft, longer");
        ::unlink((src + "/docs/old/notes.odt").c_str());
        ids.push_back(ingest(repo, {src}).id);
        ids.push_back(ingest(repo, {src}).id);  // nothing changed
        for (const auto& id : ids) ASSERT_FALSE(id.empty());
    }

    TempDir dir;
    std::string src = dir / "src", repo = dir / "repo";
    std::vector<std::string> ids;  // oldest first
};

TEST_F(FindTest, EveryVersionAndTheSnapshotsHoldingIt) {
    RunResult r = run_strata({"find", "--json", repo, "*.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto v = json_lines(r.out);
    ASSERT_EQ(v.size(), 4u) << r.out;
    // By path, then oldest version first.
    EXPECT_EQ(v[0]["path"], "docs/old/notes.odt");
    EXPECT_EQ(snapshot_ids_of(v[0]), std::vector<std::string>{ids[0]});
    EXPECT_EQ(v[1]["path"], "docs/report.odt");
    EXPECT_EQ(v[1]["size"], 11);
    EXPECT_EQ(snapshot_ids_of(v[1]), std::vector<std::string>{ids[0]});
    EXPECT_EQ(v[2]["path"], "docs/report.odt");
    EXPECT_EQ(v[2]["size"], 20);
    EXPECT_EQ(snapshot_ids_of(v[2]), (std::vector<std::string>{ids[1], ids[2]}));
    EXPECT_EQ(v[3]["path"], "other/report.odt");
    EXPECT_EQ(snapshot_ids_of(v[3]), ids);
    EXPECT_EQ(v[3]["type"], "file");
    EXPECT_TRUE(v[3].contains("mtime"));
    EXPECT_EQ(v[3]["snapshots"][0]["short_id"], ids[0].substr(0, 8));

    r = run_strata({"find", repo, "*.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("docs/report.odt\n  file  -rw-r--r--  11 B  "), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("in 2 snapshots: " + ids[1].substr(0, 8) + " ("), std::string::npos)
        << r.out;
}

TEST_F(FindTest, NewestAndOldestKeepOneVersionPerPath) {
    RunResult r = run_strata({"find", "--json", "--newest", repo, "report.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto v = json_lines(r.out);
    ASSERT_EQ(v.size(), 2u) << r.out;
    EXPECT_EQ(v[0]["path"], "docs/report.odt");
    EXPECT_EQ(v[0]["size"], 20);

    r = run_strata({"find", "--json", "--oldest", repo, "report.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    v = json_lines(r.out);
    ASSERT_EQ(v.size(), 2u) << r.out;
    EXPECT_EQ(v[0]["size"], 11);

    r = run_strata({"find", "--newest", "--oldest", repo, "report.odt"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
}

TEST_F(FindTest, PatternWithSlashMatchesThePath) {
    RunResult r = run_strata({"find", "--json", repo, "docs/*.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto v = json_lines(r.out);
    ASSERT_EQ(v.size(), 2u) << r.out;  // not docs/old/notes.odt: '*' stops at '/'
    for (const auto& j : v) EXPECT_EQ(j["path"], "docs/report.odt");
}

TEST_F(FindTest, SnapshotAndPathRestrictTheSearch) {
    RunResult r = run_strata({"find", "--json", "--snapshot", ids[2].substr(0, 8), repo, "*.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto v = json_lines(r.out);
    ASSERT_EQ(v.size(), 2u) << r.out;
    for (const auto& j : v) EXPECT_EQ(snapshot_ids_of(j), std::vector<std::string>{ids[2]});

    r = run_strata(
        {"find", "--json", "--snapshot", ids[0], "--snapshot", "latest", repo, "other/report.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    v = json_lines(r.out);
    ASSERT_EQ(v.size(), 1u) << r.out;
    EXPECT_EQ(snapshot_ids_of(v[0]), (std::vector<std::string>{ids[0], ids[2]}));

    r = run_strata({"find", "--json", "--path", "/other/", repo, "*.odt"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    v = json_lines(r.out);
    ASSERT_EQ(v.size(), 1u) << r.out;
    EXPECT_EQ(v[0]["path"], "other/report.odt");

    r = run_strata({"find", "--path", "nowhere", repo, "*.odt"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("nowhere is in none of the 3 snapshots searched"), std::string::npos)
        << r.err;
}

TEST_F(FindTest, NothingFoundAndBadInput) {
    RunResult r = run_strata({"find", repo, "*.pdf"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("nothing matches \"*.pdf\" in the 3 snapshots searched"),
              std::string::npos)
        << r.err;

    r = run_strata({"find", repo, "[abc"});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("bad PATTERN \"[abc\""), std::string::npos) << r.err;

    r = run_strata({"find", "--snapshot", "ffffffff", repo, "*.odt"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("ffffffff"), std::string::npos) << r.err;

    r = run_strata({"find", repo});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
}

}  // namespace
}  // namespace strata::testing
