// Prune on a real repository: what it deletes and repacks, the grace period, deletion records
// (and the old pending-deletion list), unindexed packs, snapshots added while it marks, and
// refusing to run on a damaged index.
#include "store/maintenance/prune.h"

#include <gtest/gtest.h>

#include <ctime>
#include <set>

#include "store/format/format.h"
#include "store/maintenance/retention.h"
#include "store/maintenance/verify.h"
#include "tests/store/repo_fixture.h"
#include "tests/testlib/pack_builder.h"

namespace strata {
namespace {

using testing::TestRepo;

PruneOptions no_grace() {
    PruneOptions o;
    o.grace_seconds = 0;
    return o;
}

// Loads (and so hash-checks) every tree and data blob of every snapshot; returns how many.
std::size_t read_every_snapshot(Repository& repo) {
    std::size_t n = 0;
    for (const auto& s : repo.snapshots())
        testing::for_each_chunk(repo, s, [&](const ChunkRef& c) {
            EXPECT_EQ(repo.load_data(c.id).size(), c.size);
            n++;
        });
    return n;
}

void expect_clean(Repository& repo) {
    VerifyOptions vo;
    vo.read_data = VerifyOptions::ReadData::All;
    VerifyReport r = verify(repo, vo);
    for (const auto& p : r.problems) ADD_FAILURE() << p.kind << " " << p.object << ": " << p.detail;
}

std::set<BlobId> indexed_pack_ids(Repository& repo) {
    std::set<BlobId> out;
    for (const auto& p : repo.index().packs()) out.insert(p.id);
    return out;
}

TEST(Prune, DeletesPacksNothingUses) {
    TestRepo t;
    t.write("old.bin", 300000, 1);
    Snapshot a = t.ingest_src();
    auto packs_of_a = indexed_pack_ids(*t.repo);
    t.remove("old.bin");
    t.write("new.bin", 300000, 2);
    t.ingest_src();
    {
        auto lock = t.repo->lock_for_writing("test");
        forget_snapshots(*t.repo, {a.id});
    }
    PruneResult r = prune(*t.repo, no_grace());
    EXPECT_EQ(r.plan.delete_packs, packs_of_a.size());
    EXPECT_EQ(r.plan.repack_packs, 0u);
    EXPECT_EQ(r.packs_deleted, packs_of_a.size());
    EXPECT_EQ(r.bytes_deleted, r.plan.delete_bytes);
    for (const auto& id : packs_of_a) {
        EXPECT_FALSE(t.repo->objects().exists(pack_object_name(id)));
        EXPECT_EQ(indexed_pack_ids(*t.repo).count(id), 0u);
    }
    EXPECT_TRUE(load_pending_deletions(t.repo->objects()).empty());
    EXPECT_GT(read_every_snapshot(*t.repo), 0u);
    expect_clean(*t.repo);
}

TEST(Prune, RepacksPartlyUsedPacksAndKeepsEveryUsedBlob) {
    TestRepo t;
    t.write("keep.bin", 200000, 1);
    t.write("drop.bin", 600000, 2);
    Snapshot a = t.ingest_src();
    auto before = indexed_pack_ids(*t.repo);
    t.remove("drop.bin");
    t.ingest_src();
    {
        auto lock = t.repo->lock_for_writing("test");
        forget_snapshots(*t.repo, {a.id});
    }
    PruneResult r = prune(*t.repo, no_grace());
    EXPECT_EQ(r.plan.repack_packs, 1u);
    EXPECT_GE(r.plan.repack_copy_bytes, 200000u);
    EXPECT_LT(r.plan.repack_copy_bytes, 220000u);
    EXPECT_EQ(r.packs_written, 1u);
    // The repacked pack, and a's tree pack when trees have packs of their own (nothing uses it).
    EXPECT_EQ(r.packs_deleted, 1u + r.plan.delete_packs);
    EXPECT_LE(r.plan.delete_packs, 1u);
    EXPECT_EQ(r.plan.unused_after, 0u);
    for (const auto& id : before) EXPECT_FALSE(t.repo->objects().exists(pack_object_name(id)));
    EXPECT_GT(read_every_snapshot(*t.repo), 0u);
    expect_clean(*t.repo);
    // Nothing is left to do.
    PruneResult again = prune(*t.repo, no_grace());
    EXPECT_EQ(again.plan.delete_packs + again.plan.repack_packs + again.plan.unindexed_packs, 0u);
    EXPECT_EQ(again.plan.unused_bytes, 0u);
}

TEST(Prune, MaxUnusedLeavesSomeWasteRatherThanRewrite) {
    TestRepo t;
    t.write("keep.bin", 200000, 1);
    t.write("drop.bin", 20000, 2);
    Snapshot a = t.ingest_src();
    t.remove("drop.bin");
    t.ingest_src();
    {
        auto lock = t.repo->lock_for_writing("test");
        forget_snapshots(*t.repo, {a.id});
    }
    PruneOptions o = no_grace();
    o.max_unused = 0.5;  // ~10% is unused: within the limit
    PruneResult r = prune(*t.repo, o);
    EXPECT_EQ(r.plan.repack_packs, 0u);
    EXPECT_GT(r.plan.unused_after, 20000u);
    o.max_unused = 0;  // no waste tolerated
    r = prune(*t.repo, o);
    EXPECT_EQ(r.plan.repack_packs, 1u);
    EXPECT_EQ(r.plan.unused_after, 0u);
    expect_clean(*t.repo);
}

// A repository whose first snapshot (one pack of its own) is forgotten; returns that pack's ids.
std::set<BlobId> forget_first_of_two(TestRepo& t) {
    t.write("old.bin", 100000, 1);
    Snapshot a = t.ingest_src();
    auto packs_of_a = indexed_pack_ids(*t.repo);
    t.remove("old.bin");
    t.write("new.bin", 100000, 2);
    t.ingest_src();
    auto lock = t.repo->lock_for_writing("test");
    forget_snapshots(*t.repo, {a.id});
    return packs_of_a;
}

TEST(Prune, FilesStayForTheGracePeriod) {
    TestRepo t;
    auto packs_of_a = forget_first_of_two(t);
    PruneOptions o;
    o.grace_seconds = 3600;
    const auto started = static_cast<std::int64_t>(std::time(nullptr));
    PruneResult r = prune(*t.repo, o);
    EXPECT_EQ(r.packs_deleted, 0u);
    EXPECT_EQ(r.packs_waiting, packs_of_a.size());
    EXPECT_GE(r.next_deletion, started + 3600);
    auto pending = load_pending_deletions(t.repo->objects());
    ASSERT_EQ(pending.size(), packs_of_a.size());
    for (const auto& p : pending) {
        EXPECT_TRUE(packs_of_a.count(p.pack));
        EXPECT_GE(p.since, started);
        // Out of the index, still on disk: a reader that looked it up just before still finds it.
        EXPECT_TRUE(t.repo->objects().exists(pack_object_name(p.pack)));
        EXPECT_EQ(indexed_pack_ids(*t.repo).count(p.pack), 0u);
    }
    // A second prune inside the grace period deletes nothing and keeps the original times.
    r = prune(*t.repo, o);
    EXPECT_EQ(r.packs_deleted, 0u);
    EXPECT_EQ(r.plan.pending_packs, packs_of_a.size());
    EXPECT_EQ(r.plan.expired_packs, 0u);
    EXPECT_EQ(load_pending_deletions(t.repo->objects())[0].since, pending[0].since);
    // Once the period is over (the records say two hours ago), they go.
    for (auto& p : pending) p.since -= 7200;
    replace_pending_deletions(t.repo->objects(), pending);
    r = prune(*t.repo, o);
    EXPECT_EQ(r.plan.expired_packs, packs_of_a.size());
    EXPECT_EQ(r.packs_deleted, packs_of_a.size());
    for (const auto& id : packs_of_a) EXPECT_FALSE(t.repo->objects().exists(pack_object_name(id)));
    EXPECT_TRUE(load_pending_deletions(t.repo->objects()).empty());
    expect_clean(*t.repo);
}

TEST(Prune, UnindexedPackFilesAreRetiredLikeOthers) {
    TestRepo t;
    t.write("f.bin", 100000, 1);
    t.ingest_src();
    // A pack written by a writer that died before indexing it.
    PackBuilder b;
    const std::string content = "orphaned content";
    Bytes blob(content.begin(), content.end());
    b.add(sha256(blob), format::BlobType::Data, format::Codec::Raw, blob,
          static_cast<std::uint32_t>(blob.size()));
    BlobId orphan;
    Bytes pack = b.finish(orphan);
    t.repo->objects().put(pack_object_name(orphan), pack);

    PruneOptions o;
    PruneResult r = prune(*t.repo, o);
    EXPECT_EQ(r.plan.unindexed_packs, 1u);
    EXPECT_EQ(r.plan.unindexed_bytes, pack.size());
    EXPECT_TRUE(t.repo->objects().exists(pack_object_name(orphan)));  // grace period
    ASSERT_EQ(load_pending_deletions(t.repo->objects()).size(), 1u);
    r = prune(*t.repo, no_grace());
    EXPECT_EQ(r.packs_deleted, 1u);
    EXPECT_FALSE(t.repo->objects().exists(pack_object_name(orphan)));
    expect_clean(*t.repo);
}

TEST(Prune, NeverDeletesAPackTheIndexStillNames) {
    TestRepo t;
    t.write("f.bin", 100000, 1);
    t.ingest_src();
    auto packs = indexed_pack_ids(*t.repo);
    // As if a prune died after listing these packs but before taking them out of the index.
    std::vector<PendingDeletion> list;
    for (const auto& id : packs) list.push_back({id, 0, ""});
    replace_pending_deletions(t.repo->objects(), list);
    PruneResult r = prune(*t.repo, no_grace());
    EXPECT_EQ(r.packs_deleted, 0u);
    EXPECT_EQ(r.plan.pending_packs, 0u);  // taken off the list
    for (const auto& id : packs) EXPECT_TRUE(t.repo->objects().exists(pack_object_name(id)));
    EXPECT_TRUE(load_pending_deletions(t.repo->objects()).empty());
    EXPECT_GT(read_every_snapshot(*t.repo), 0u);
}

TEST(Prune, RefusesWhenTheIndexLacksUsedBlobs) {
    TestRepo t;
    t.write("f.bin", 100000, 1);
    t.ingest_src();
    auto files = t.pack_files();
    {
        auto lock = t.repo->lock_for_writing("test");
        t.repo->index().remove_pack(t.repo->index().packs().front().seq);
    }
    try {
        prune(*t.repo, no_grace());
        FAIL() << "prune ran on an index that lacks blobs the snapshots use";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption);
        EXPECT_NE(std::string(e.what()).find("repair-index"), std::string::npos) << e.what();
    }
    EXPECT_EQ(t.pack_files(), files);
    // repair-index brings the pack back; then prune has nothing to do.
    {
        auto lock = t.repo->lock_for_writing("test");
        t.repo->repair_index();
    }
    PruneResult r = prune(*t.repo, no_grace());
    EXPECT_EQ(r.packs_deleted, 0u);
    expect_clean(*t.repo);
}

TEST(Prune, DryRunChangesNothing) {
    TestRepo t;
    t.write("old.bin", 100000, 1);
    Snapshot a = t.ingest_src();
    t.remove("old.bin");
    t.write("new.bin", 100000, 2);
    t.ingest_src();
    {
        auto lock = t.repo->lock_for_writing("test");
        forget_snapshots(*t.repo, {a.id});
    }
    auto files = t.pack_files();
    PruneOptions o = no_grace();
    o.dry_run = true;
    bool planned = false;
    o.on_plan = [&](const PrunePlan& p) {
        planned = true;
        EXPECT_FALSE(p.locked);
        EXPECT_GE(p.delete_packs, 1u);  // a's pack (and its tree pack when trees have their own)
    };
    PruneResult r = prune(*t.repo, o);
    EXPECT_TRUE(planned);
    EXPECT_EQ(r.packs_deleted, 0u);
    EXPECT_EQ(t.pack_files(), files);
    EXPECT_FALSE(t.repo->objects().exists(format::kPendingDeletionFile));
    // The real prune does what the dry run planned.
    PruneResult real = prune(*t.repo, no_grace());
    EXPECT_EQ(real.plan.delete_packs, r.plan.delete_packs);
    EXPECT_EQ(real.plan.delete_bytes, r.plan.delete_bytes);
    EXPECT_EQ(real.packs_deleted, r.plan.delete_packs);
}

TEST(Prune, KeepsWhatASnapshotAddedDuringTheMarkPhaseUses) {
    TestRepo t;
    t.write("kept.bin", 100000, 1);
    t.ingest_src();
    // A second source whose snapshot is forgotten: its data is unused when prune starts.
    const std::string other = t.dir / "other";
    ::mkdir(other.c_str(), 0755);
    testing::write_random_file(other + "/shared.bin", 300000, 7);
    IngestOptions io;
    io.paths = {other};
    io.threads = 1;
    Snapshot doomed = ingest(*t.repo, io).snapshot;
    {
        auto lock = t.repo->lock_for_writing("test");
        forget_snapshots(*t.repo, {doomed.id});
    }
    // While prune marks (before it takes the lock), a backup of the same data runs: it
    // deduplicates against the forgotten snapshot's blobs, which are still indexed.
    bool ingested = false;
    Snapshot late;
    PruneOptions o = no_grace();
    o.on_progress = [&](const PruneProgress& p) {
        if (ingested || std::string(p.phase) != "mark") return;
        ingested = true;
        late = ingest(*t.repo, io).snapshot;
        EXPECT_LT(late.rec.bytes_added, 10000u);  // deduplicated
    };
    PruneResult r = prune(*t.repo, o);
    ASSERT_TRUE(ingested);
    EXPECT_EQ(r.plan.snapshots, 2u);
    EXPECT_EQ(r.plan.delete_packs, 0u);
    EXPECT_GT(read_every_snapshot(*t.repo), 0u);
    expect_clean(*t.repo);
}

TEST(Prune, PendingListRoundTripsAndRejectsGarbage) {
    TestRepo t;
    EXPECT_TRUE(load_pending_deletions(t.repo->objects()).empty());
    std::vector<PendingDeletion> list{{sha256(as_bytes("a")), 1700000000, ""},
                                      {sha256(as_bytes("b")), 5, ""}};
    replace_pending_deletions(t.repo->objects(), list);
    auto back = load_pending_deletions(t.repo->objects());
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].pack, list[0].pack);
    EXPECT_EQ(back[0].since, 1700000000);
    EXPECT_EQ(back[1].since, 5);
    t.repo->objects().put(format::kPendingDeletionFile,
                          as_bytes("strata pending-deletion 1\nxyz 12\n"));
    EXPECT_THROW(load_pending_deletions(t.repo->objects()), StoreError);
    t.repo->objects().put(format::kPendingDeletionFile, as_bytes("something else\n"));
    EXPECT_THROW(load_pending_deletions(t.repo->objects()), StoreError);
}

TEST(Prune, RejectsBadOptions) {
    TestRepo t;
    PruneOptions o;
    o.max_unused = 1.5;
    EXPECT_THROW(prune(*t.repo, o), StoreError);
    o.max_unused = 0.05;
    o.grace_seconds = -1;
    EXPECT_THROW(prune(*t.repo, o), StoreError);
}

TEST(Prune, EachPruneWritesADeletionRecordOfItsOwnAndNeverChangesOne) {
    TestRepo t;
    auto packs_of_a = forget_first_of_two(t);
    PruneOptions o;  // an hour's grace: the packs wait
    prune(*t.repo, o);
    auto records = load_deletion_records(t.repo->objects());
    ASSERT_EQ(records.size(), 1u);
    const std::string name = records[0].name;
    EXPECT_EQ(name.rfind("deletions/", 0), 0u) << name;
    EXPECT_EQ(records[0].snapshots.size(), 1u);  // the snapshot it marked
    EXPECT_EQ(records[0].packs.size(), packs_of_a.size());
    const Bytes before = t.repo->objects().read_all(name);
    // Its name is the SHA-256 of its bytes; a second prune adds nothing and rewrites nothing.
    EXPECT_EQ("deletions/" + sha256(before).hex(), name);
    prune(*t.repo, o);
    records = load_deletion_records(t.repo->objects());
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(t.repo->objects().read_all(name), before);
    EXPECT_EQ(t.repo->objects().list(format::kPendingDeletionFile).size(), 0u);
}

TEST(Prune, AKeepRecordTakesARetiredPackBack) {
    TestRepo t;
    auto packs_of_a = forget_first_of_two(t);
    prune(*t.repo, PruneOptions{});
    // Retired two hours ago: due for deletion under the default hour of grace.
    auto pending = load_pending_deletions(t.repo->objects());
    ASSERT_EQ(pending.size(), packs_of_a.size());
    for (auto& p : pending) p.since -= 7200;
    replace_pending_deletions(t.repo->objects(), pending);
    auto records = load_deletion_records(t.repo->objects());
    ASSERT_EQ(records.size(), 1u);
    const BlobId kept = *packs_of_a.begin();
    record_kept(t.repo->objects(), records[0].name, {kept});
    for (const auto& p : load_pending_deletions(t.repo->objects())) EXPECT_NE(p.pack, kept);
    PruneResult r = prune(*t.repo, PruneOptions{});
    EXPECT_EQ(r.packs_deleted, packs_of_a.size() - 1);
    // Taken back, it is a pack like any other: indexed again, and (used by nothing here) retired
    // afresh, with the whole grace period ahead of it.
    EXPECT_TRUE(t.repo->objects().exists(pack_object_name(kept)));
    pending = load_pending_deletions(t.repo->objects());
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].pack, kept);
    EXPECT_GT(pending[0].since, static_cast<std::int64_t>(std::time(nullptr)) - 60);
    // The old record had nothing left to delete: it went, and its keep record after it.
    records = load_deletion_records(t.repo->objects());
    ASSERT_EQ(records.size(), 1u);
    EXPECT_TRUE(records[0].keeps.empty());
}

TEST(Prune, AnOldPendingDeletionListIsReadAndRemovedOnceEmpty) {
    TestRepo t;
    auto packs_of_a = forget_first_of_two(t);
    // As a prune from before deletion records left it: packs out of the index, in the old list.
    {
        auto lock = t.repo->lock_for_writing("test");
        std::vector<std::uint32_t> seqs;
        std::string text = "strata pending-deletion 1\n";
        for (const auto& p : t.repo->index().packs())
            if (packs_of_a.count(p.id)) {
                seqs.push_back(p.seq);
                text += p.id.hex() + " 1000\n";
            }
        t.repo->objects().put(format::kPendingDeletionFile, as_bytes(text));
        t.repo->index().remove_packs(seqs);
    }
    EXPECT_EQ(load_pending_deletions(t.repo->objects()).size(), packs_of_a.size());
    PruneResult r = prune(*t.repo, PruneOptions{});  // since 1000: long past the grace period
    EXPECT_EQ(r.packs_deleted, packs_of_a.size());
    EXPECT_FALSE(t.repo->objects().exists(format::kPendingDeletionFile));
    EXPECT_TRUE(load_pending_deletions(t.repo->objects()).empty());
    expect_clean(*t.repo);
}

TEST(Prune, MalformedDeletionRecordsAreCorruptionNamingThem) {
    TestRepo t;
    const std::string name = std::string(format::kDeletionDir) + "/" + std::string(64, 'a');
    t.repo->objects().put(name, as_bytes("strata deletion 1\npack nothex 12\n"));
    try {
        load_pending_deletions(t.repo->objects());
        ADD_FAILURE() << "no error";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption);
        EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
    // A time too long for a number is malformed too, not an exception of another kind.
    const std::string pack = "pack " + std::string(64, 'b') + " ";
    for (const std::string& text : {"strata deletion 1\n" + pack + std::string(40, '9') + "\n",
                                    "strata pending-deletion 1\n" + std::string(64, 'b') + " " +
                                        std::string(40, '9') + "\n"}) {
        const std::string where = text[7] == 'p' ? std::string(format::kPendingDeletionFile) : name;
        t.repo->objects().put(where, as_bytes(text));
        try {
            load_pending_deletions(t.repo->objects());
            ADD_FAILURE() << "no error for " << text;
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << e.what();
        }
        if (where != name) t.repo->objects().remove(where);
    }
    // A bare "host" line names no host.
    t.repo->objects().put(name, as_bytes("strata deletion 1\nhost\n" + pack + "12\n"));
    auto records = load_deletion_records(t.repo->objects());
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].host, "");
    EXPECT_EQ(records[0].packs.size(), 1u);

    t.repo->objects().put(name, as_bytes("strata deletion 1\n"));
    t.repo->objects().put(name + ".keep-0011223344556677", as_bytes("strata keep 1\nwhat\n"));
    EXPECT_THROW(load_pending_deletions(t.repo->objects()), StoreError);
}

}  // namespace
}  // namespace strata
