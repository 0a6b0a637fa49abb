// Crash safety of prune: the process is really killed (SIGKILL, as `kill -9` would) at each named
// point of its execution. Afterwards: verify --read-data is clean, every remaining snapshot
// restores identical to its source, and running prune again finishes the job (no unused pack,
// no unindexed or pending pack file is left).
#include <signal.h>

#include <set>

#include "store/maintenance/prune.h"
#include "store/repo/repository.h"
#include "tests/e2e/prune_scenario.h"

namespace strata::testing {
namespace {

class PruneCrash : public ::testing::TestWithParam<const char*> {
protected:
    static void SetUpTestSuite() {
        sources_ = new TempDir();
        PruneScenario::make_sources(sources_->path());
    }
    static void TearDownTestSuite() { delete sources_; }

    void SetUp() override { ASSERT_NO_FATAL_FAILURE(s.build(dir / "repo", sources_->path())); }

    void expect_remaining_snapshots_intact(const std::string& label) {
        EXPECT_EQ(verify_problems(s.repo), "") << label;
        for (int v : {2, 3}) {
            const std::string target = dir / ("restore-" + label + "-" + std::to_string(v));
            EXPECT_EQ(restore_and_compare(s.repo, s.ids[static_cast<std::size_t>(v)], target, s.source(v)), "")
                << label << ": snapshot of v" << v;
        }
        EXPECT_EQ(snapshot_ids(s.repo), (std::vector<std::string>{s.ids[2], s.ids[3]})) << label;
    }

    // Every pack file on disk is indexed, nothing waits for deletion, and a further prune has
    // nothing left to do.
    void expect_job_finished() {
        auto repo = Repository::open(s.repo);
        std::set<std::string> indexed, on_disk;
        for (const auto& p : repo->index().packs()) indexed.insert(pack_object_name(p.id));
        for (const auto& f : repo->objects().list("packs")) on_disk.insert(f.name);
        EXPECT_EQ(on_disk, indexed);
        EXPECT_TRUE(load_pending_deletions(repo->objects()).empty());
        RunResult r = run_strata({"prune", "--json", "--grace", "0", s.repo});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        Json j = Json::parse(r.out);
        EXPECT_EQ(j["plan"]["delete_packs"], 0) << r.out;
        EXPECT_EQ(j["plan"]["repack_packs"], 0) << r.out;
        EXPECT_EQ(j["plan"]["unindexed_packs"], 0) << r.out;
        EXPECT_EQ(j["packs_deleted"], 0) << r.out;
    }

    static TempDir* sources_;
    TempDir dir;
    PruneScenario s;
};
TempDir* PruneCrash::sources_ = nullptr;

TEST_P(PruneCrash, KilledPruneLeavesARepositoryThatVerifiesAndPruneFinishes) {
    const std::string point = GetParam();
    RunResult killed = run_strata({"prune", "--grace", "0", s.repo}, {"STRATA_TEST_CRASH_AT=" + point});
    ASSERT_EQ(killed.signal, SIGKILL) << "prune did not reach crash point " << point << ": " << describe(killed);
    expect_remaining_snapshots_intact("after kill at " + point);

    RunResult again = run_strata({"prune", "--json", "--grace", "0", s.repo});
    ASSERT_EQ(again.exit_code, 0) << describe(again);
    expect_remaining_snapshots_intact("after second prune");
    expect_job_finished();
}

INSTANTIATE_TEST_SUITE_P(EveryPoint, PruneCrash,
                         ::testing::Values("prune-planned", "prune-repack-written",
                                           "prune-repack-indexed", "prune-pending-recorded",
                                           "prune-index-updated", "prune-pack-deleted"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                             std::string n = info.param;
                             for (auto& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

// A prune killed once it has listed packs as pending deletion: a later `forget --prune` that
// removes no snapshot still finishes those deletions when their grace period is over, instead of
// leaving the space held until a plain `strata prune`.
class ForgetPruneAfterCrash : public PruneCrash {};

TEST_P(ForgetPruneAfterCrash, ForgetPruneThatRemovesNothingFinishesTheDeletions) {
    const std::string point = GetParam();
    RunResult killed =
        run_strata({"prune", "--grace", "0", s.repo}, {"STRATA_TEST_CRASH_AT=" + point});
    ASSERT_EQ(killed.signal, SIGKILL)
        << "prune did not reach crash point " << point << ": " << describe(killed);
    {
        auto repo = Repository::open(s.repo);
        ASSERT_FALSE(load_pending_deletions(repo->objects()).empty()) << point;
    }
    // Every snapshot is alone in its group (host, paths): --keep-last 1 keeps them all.
    RunResult forget =
        run_strata({"forget", "--json", "--keep-last", "1", "--prune", "--grace", "0", s.repo});
    ASSERT_EQ(forget.exit_code, 0) << describe(forget);
    Json j = Json::parse(forget.out);
    EXPECT_EQ(j["removed"], 0) << forget.out;
    ASSERT_TRUE(j.contains("prune")) << "forget --prune did not prune: " << forget.out;
    EXPECT_GT(j["prune"]["packs_deleted"], 0) << forget.out;
    expect_remaining_snapshots_intact("after forget --prune");
    expect_job_finished();

    // Nothing is pending any more: forget --prune that removes nothing has no prune to run.
    RunResult again = run_strata({"forget", "--json", "--keep-last", "1", "--prune", s.repo});
    ASSERT_EQ(again.exit_code, 0) << describe(again);
    EXPECT_FALSE(Json::parse(again.out).contains("prune")) << again.out;
}

INSTANTIATE_TEST_SUITE_P(AfterPendingRecorded, ForgetPruneAfterCrash,
                         ::testing::Values("prune-pending-recorded", "prune-index-updated",
                                           "prune-pack-deleted"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                             std::string n = info.param;
                             for (auto& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

// The scenario really gives prune both kinds of work, so every point above is reached.
TEST(PruneScenarioCheck, OnePackToDeleteAndOneToRepack) {
    TempDir sources, dir;
    PruneScenario::make_sources(sources.path());
    PruneScenario s;
    ASSERT_NO_FATAL_FAILURE(s.build(dir / "repo", sources.path()));
    RunResult r = run_strata({"prune", "--json", "--dry-run", s.repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json j = Json::parse(r.out);
    EXPECT_EQ(j["plan"]["delete_packs"], 1) << r.out;
    EXPECT_EQ(j["plan"]["repack_packs"], 1) << r.out;
    // A kill between two deletions: with the grace period over, both files go in one run.
    RunResult k = run_strata({"prune", "--grace", "0", s.repo}, {"STRATA_TEST_CRASH_AT=prune-pack-deleted:2"});
    EXPECT_EQ(k.signal, SIGKILL) << describe(k);
}

}  // namespace
}  // namespace strata::testing
