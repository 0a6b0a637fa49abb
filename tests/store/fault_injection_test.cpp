// Faults at the storage seam: ingest and prune over a FaultyObjectStore that fails the N-th write
// (or delete), for every N the operation makes. Each failure must stop the operation with an Io
// error carrying the errno, leave no new snapshot, and leave a repository that opens normally,
// verifies clean with --read-data, restores every earlier snapshot identically, and accepts a retry.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "store/ingest/ingest.h"
#include "store/maintenance/prune.h"
#include "store/repo/repository.h"
#include "store/restore/restore.h"
#include "store/maintenance/retention.h"
#include "store/maintenance/verify.h"
#include "tests/store/repo_fixture.h"
#include "tests/testlib/faulty_object_store.h"
#include "tests/testlib/sample_tree.h"
#include "tests/testlib/temp_dir.h"
#include "tests/testlib/tree_scan.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

IngestOptions ingest_of(const std::string& src) {
    IngestOptions o;
    o.paths = {src};
    o.threads = 1;
    o.host = "testhost";
    return o;
}

// Describes the problems of a verify report, for failure messages.
std::string problems_of(const VerifyReport& r) {
    std::string out;
    for (const auto& p : r.problems) out += p.kind + " " + p.object + ": " + p.detail + "\n";
    return out;
}

// A repository (`base`) holding snapshots of source trees, copied afresh for every injected fault.
class FaultFixture : public ::testing::Test {
protected:
    void SetUp() override {
        Repository::init(base, small_chunks());
        ::mkdir(src1.c_str(), 0755);
        write_random_file(src1 + "/a.bin", 200000, 1);
        write_random_file(src1 + "/b.bin", 90000, 2);
        write_file(src1 + "/small.txt", "hello\n");
        ::mkdir(src2.c_str(), 0755);
        write_random_file(src2 + "/a.bin", 200000, 1);  // same content: deduplicated
        write_random_file(src2 + "/c.bin", 150000, 3);
        ::mkdir((src2 + "/sub").c_str(), 0755);
        write_file(src2 + "/sub/note.txt", "second\n");
    }

    // A fresh copy of `base` at `work` (LMDB files copy safely: nothing has them open).
    void copy_base() {
        fs::remove_all(work);
        fs::copy(base, work, fs::copy_options::recursive);
    }

    // Checks `repo_path` after a failed operation: it opens, verifies clean reading every byte,
    // holds exactly `expected` snapshots, and each of `sources` (by snapshot order) restores equal.
    void expect_consistent(const std::string& repo_path, const std::vector<std::string>& sources,
                           const std::string& context) {
        auto repo = Repository::open(repo_path);
        VerifyOptions vo;
        vo.read_data = VerifyOptions::ReadData::All;
        VerifyReport report = verify(*repo, vo);
        EXPECT_TRUE(report.clean()) << context << "\n" << problems_of(report);
        auto snaps = repo->snapshots();
        ASSERT_EQ(snaps.size(), sources.size()) << context;
        for (std::size_t i = 0; i < snaps.size(); ++i) {
            const std::string target = dir / ("restore" + std::to_string(i));
            fs::remove_all(target);
            restore(*repo, snaps[i], target, RestoreOptions{});
            CompareOptions co;
            co.root_metadata = false;
            EXPECT_EQ(tree_differences(sources[i], target, co), "") << context << " snapshot " << i;
            fs::remove_all(target);
        }
    }

    TempDir dir;
    std::string base = dir / "base", work = dir / "work", src1 = dir / "src1", src2 = dir / "src2";
};

// How many calls of `kinds` `op` makes on a fresh copy of base, with no fault injected.
template <typename Op>
std::uint64_t count_calls(unsigned kinds, const std::string& work, Op op) {
    auto plan = std::make_shared<FaultPlan>();
    plan->kinds = kinds;
    auto repo = Repository::open(work, std::make_unique<FaultyObjectStore>(open_local_store(work), plan));
    op(*repo);
    return plan->calls;
}

TEST_F(FaultFixture, IngestFailingAtEachWriteLeavesNoSnapshotAndAConsistentRepository) {
    {
        auto repo = Repository::open(base);
        ingest(*repo, ingest_of(src1));
    }
    copy_base();
    const std::uint64_t writes =
        count_calls(kWriteCalls, work, [&](Repository& r) { ingest(r, ingest_of(src2)); });
    ASSERT_GE(writes, 4u) << "create, appends, commit and the snapshot put at the least";
    std::printf("the ingest makes %llu writes; failing each in turn\n", (unsigned long long)writes);

    for (std::uint64_t n = 1; n <= writes; ++n) {
        for (int err : {ENOSPC, EIO, EMFILE}) {  // a full disk, a failing one, no descriptors left
            const std::string context = "write " + std::to_string(n) + " of " +
                                        std::to_string(writes) + " failing with " + strerror(err);
            copy_base();
            auto plan = std::make_shared<FaultPlan>();
            plan->kinds = kWriteCalls;
            plan->nth = n;
            plan->error = err;
            {
                auto repo = Repository::open(
                    work, std::make_unique<FaultyObjectStore>(open_local_store(work), plan));
                try {
                    ingest(*repo, ingest_of(src2));
                    ADD_FAILURE() << context << ": ingest succeeded";
                } catch (const StoreError& e) {
                    EXPECT_EQ(e.kind(), StoreError::Kind::Io) << context << ": " << e.what();
                    EXPECT_EQ(e.error_number(), err) << context << ": " << e.what();
                    EXPECT_NE(std::string(e.what()).find(strerror(err)), std::string::npos)
                        << context << ": the message names the error: " << e.what();
                }
            }
            EXPECT_EQ(plan->injected, 1u) << context;
            expect_consistent(work, {src1}, context);
            {
                auto repo = Repository::open(work);
                ingest(*repo, ingest_of(src2));  // the retry succeeds
            }
            expect_consistent(work, {src1, src2}, context + ", after the retry");
            if (::testing::Test::HasFailure()) return;  // one clear failure, not hundreds
        }
    }
}

TEST_F(FaultFixture, IngestWithTheDiskStayingFullFailsCleanly) {
    copy_base();
    auto plan = std::make_shared<FaultPlan>();
    plan->kinds = kWriteCalls;
    plan->nth = 2;
    plan->error = ENOSPC;
    plan->sticky = true;  // every write from the second on fails, as on a full disk
    {
        auto repo = Repository::open(work, std::make_unique<FaultyObjectStore>(open_local_store(work), plan));
        EXPECT_THROW(ingest(*repo, ingest_of(src1)), StoreError);
    }
    expect_consistent(work, {}, "disk staying full");
}

TEST_F(FaultFixture, IngestWithReadsOrListingsFailingDamagesNothing) {
    // Beside a parent snapshot an ingest reads the parent's trees and lists snapshots/; fail every
    // read, then every listing, from the first on.
    {
        auto repo = Repository::open(base);
        ingest(*repo, ingest_of(src1));
    }
    for (StoreCall kind : {StoreCall::Read, StoreCall::List}) {
        const std::string context = kind == StoreCall::Read ? "reads failing" : "listings failing";
        copy_base();
        auto plan = std::make_shared<FaultPlan>();
        plan->kinds = unsigned(kind);
        plan->nth = 1;
        plan->sticky = true;
        bool failed = false;
        {
            auto repo =
                Repository::open(work, std::make_unique<FaultyObjectStore>(open_local_store(work), plan));
            try {
                ingest(*repo, ingest_of(src1));
            } catch (const StoreError& e) {
                failed = true;
                EXPECT_EQ(e.kind(), StoreError::Kind::Io) << context << ": " << e.what();
                EXPECT_EQ(e.error_number(), EIO) << context << ": " << e.what();
            }
        }
        // A refused listing stops the ingest. A refused read of the parent's trees is designed to
        // cost only re-reading the source (ingest.cpp): the snapshot is still made, and complete.
        EXPECT_GT(plan->injected, 0u) << context << ": the scenario must reach the failing call";
        if (kind == StoreCall::List) {
            EXPECT_TRUE(failed) << context;
        }
        std::printf("%s: %llu injected, ingest %s\n", context.c_str(),
                    (unsigned long long)plan->injected, failed ? "failed" : "succeeded");
        std::vector<std::string> sources{src1};
        if (!failed) sources.push_back(src1);
        expect_consistent(work, sources, context);
    }
}

// base: snapshot of src1, then of src2; the first forgotten, so prune deletes and repacks.
class PruneFaultFixture : public FaultFixture {
protected:
    void SetUp() override {
        FaultFixture::SetUp();
        auto repo = Repository::open(base);
        Snapshot first = ingest(*repo, ingest_of(src1)).snapshot;
        ingest(*repo, ingest_of(src2));
        auto lock = repo->lock_for_writing("test");
        forget_snapshots(*repo, {first.id});
    }

    static PruneOptions everything_now() {
        PruneOptions o;
        o.grace_seconds = 0;  // delete at once: the deletes are among the calls failed
        o.max_unused = 0;     // repack every partly used pack: the writes are too
        return o;
    }
};

TEST_F(PruneFaultFixture, PruneFailingAtEachWriteOrDeleteLeavesAConsistentRepository) {
    const unsigned kinds = kWriteCalls | unsigned(StoreCall::Remove);
    copy_base();
    std::uint64_t calls = 0;
    {
        auto plan = std::make_shared<FaultPlan>();
        plan->kinds = kinds;
        auto repo = Repository::open(work, std::make_unique<FaultyObjectStore>(open_local_store(work), plan));
        PruneResult r = prune(*repo, everything_now());
        ASSERT_GT(r.packs_written, 0u) << "the scenario must repack";
        ASSERT_GT(r.packs_deleted, 0u) << "the scenario must delete";
        calls = plan->calls;
    }
    std::printf("the prune makes %llu writes and deletes; failing each in turn\n",
                (unsigned long long)calls);
    for (std::uint64_t n = 1; n <= calls; ++n) {
        for (int err : {ENOSPC, EIO, EMFILE}) {  // a full disk, a failing one, no descriptors left
            const std::string context = "call " + std::to_string(n) + " of " + std::to_string(calls) +
                                        " failing with " + strerror(err);
            copy_base();
            auto plan = std::make_shared<FaultPlan>();
            plan->kinds = kinds;
            plan->nth = n;
            plan->error = err;
            {
                auto repo = Repository::open(
                    work, std::make_unique<FaultyObjectStore>(open_local_store(work), plan));
                try {
                    prune(*repo, everything_now());
                    ADD_FAILURE() << context << ": prune succeeded";
                } catch (const StoreError& e) {
                    EXPECT_EQ(e.kind(), StoreError::Kind::Io) << context << ": " << e.what();
                    EXPECT_EQ(e.error_number(), err) << context << ": " << e.what();
                }
            }
            expect_consistent(work, {src2}, context);
            {
                auto repo = Repository::open(work);
                prune(*repo, everything_now());  // the retry succeeds
            }
            expect_consistent(work, {src2}, context + ", after the retry");
            if (::testing::Test::HasFailure()) return;
        }
    }
}

}  // namespace
}  // namespace strata::testing
