// Index objects (store/format/index_object.h): their codec, and how a cache of a repository in an
// object store uses them. The "object store" here is a local directory opened the way a remote
// repository is (the index a cache in another folder, brought up to date at every open), so every
// request is seen and counted without a network.
#include "store/format/index_object.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "store/format/format.h"
#include "store/maintenance/prune.h"
#include "store/maintenance/retention.h"
#include "store/repo/index_cache.h"
#include "tests/store/repo_fixture.h"
#include "tests/testlib/faulty_object_store.h"

namespace strata::testing {
namespace {

IndexObject two_packs_and_a_record() {
    IndexObject o;
    IndexedPack a{sha256(as_bytes("pack a")), 0, {}};
    a.entries.push_back(
        {sha256(as_bytes("one")), format::BlobType::Data, format::Codec::Zstd, 0, 100, 400});
    a.entries.push_back(
        {sha256(as_bytes("two")), format::BlobType::Tree, format::Codec::Raw, 100, 50, 50});
    a.size = 150 + encode_pack_trailer(a.entries).size() + format::kPackFooterSize;
    IndexedPack b{sha256(as_bytes("pack b")), format::kPackFooterSize + 12, {}};
    o.packs = {a, b};
    const ByteView text = as_bytes("a snapshot record's bytes");
    Bytes record(text.begin(), text.end());
    o.records.push_back({sha256(record), record});
    return o;
}

std::vector<IndexedPack> two_packs() { return two_packs_and_a_record().packs; }

bool same(const std::vector<IndexedPack>& x, const std::vector<IndexedPack>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i].id != y[i].id || x[i].size != y[i].size ||
            x[i].entries.size() != y[i].entries.size())
            return false;
        for (std::size_t j = 0; j < x[i].entries.size(); ++j) {
            const PackEntry &e = x[i].entries[j], &f = y[i].entries[j];
            if (e.id != f.id || e.type != f.type || e.codec != f.codec || e.offset != f.offset ||
                e.stored_size != f.stored_size || e.raw_size != f.raw_size)
                return false;
        }
    }
    return true;
}

std::string corruption_of(ByteView data) {
    try {
        decode_index_object(data, *plain_blob_codec(3));
    } catch (const StoreError& e) {
        return e.kind() == StoreError::Kind::Corruption ? e.what() : "not corruption";
    }
    return "";
}

TEST(IndexObjectCodec, RoundTrips) {
    const IndexObject o = two_packs_and_a_record();
    const IndexObject back = decode_index_object(encode_index_object(o), *plain_blob_codec(3));
    EXPECT_TRUE(same(back.packs, o.packs));
    ASSERT_EQ(back.records.size(), 1u);
    EXPECT_EQ(back.records[0].id, o.records[0].id);
    EXPECT_EQ(back.records[0].record, o.records[0].record);
    const IndexObject empty = decode_index_object(encode_index_object({}), *plain_blob_codec(3));
    EXPECT_TRUE(empty.packs.empty() && empty.records.empty());
}

TEST(IndexObjectCodec, VersionOneWithoutRecordsIsStillRead) {
    IndexObject o = two_packs_and_a_record();
    o.records.clear();
    Bytes v1 = encode_index_object(o);
    v1.resize(v1.size() - 4);  // version 1 ends after the packs: no record count
    std::memcpy(v1.data(), format::kIndexObjectMagicV1, 8);
    const IndexObject back = decode_index_object(v1, *plain_blob_codec(3));
    EXPECT_TRUE(same(back.packs, o.packs));
    EXPECT_TRUE(back.records.empty());
}

TEST(IndexObjectCodec, ARecordThatDoesNotMatchItsIdIsCorruptionNamingIt) {
    IndexObject o = two_packs_and_a_record();
    o.records[0].record.back() ^= 1;
    EXPECT_NE(corruption_of(encode_index_object(o)).find(o.records[0].id.short_hex()),
              std::string::npos);
}

TEST(IndexObjectCodec, EveryTruncationAndABadMagicAreCorruption) {
    const Bytes data = encode_index_object(two_packs_and_a_record());
    for (std::size_t n = 0; n < data.size(); ++n)
        EXPECT_NE(corruption_of(ByteView(data.data(), n)), "") << "truncated to " << n;
    Bytes flipped = data;
    flipped[3] ^= 1;
    EXPECT_NE(corruption_of(flipped).find("bad magic"), std::string::npos);
    Bytes longer = data;
    longer.push_back(0);
    EXPECT_NE(corruption_of(longer).find("trailing bytes"), std::string::npos);
}

TEST(IndexObjectCodec, ABlobOutsideItsPackIsRefusedNamingThePack) {
    auto packs = two_packs();
    packs[0].size -= 1;  // the last blob now ends past the pack's data
    EXPECT_NE(corruption_of(encode_index_object({packs, {}})).find(packs[0].id.short_hex()),
              std::string::npos);
    packs = two_packs();
    packs[1].size = format::kPackFooterSize;  // smaller than its own trailer
    EXPECT_NE(corruption_of(encode_index_object({packs, {}})).find("too small"), std::string::npos);
}

// A local repository opened as a remote one is: the index a cache in `cache`, every request
// through `plan` (kept in its log).
RepositoryStorage as_remote(const std::string& repo, const std::string& cache,
                            std::shared_ptr<FaultPlan> plan) {
    ::mkdir(cache.c_str(), 0700);
    RepositoryStorage s;
    s.location = repo;
    s.objects = std::make_unique<FaultyObjectStore>(open_local_store(repo), std::move(plan));
    s.index_dir = cache + "/index";
    s.locks = open_local_writer_lock(cache);
    s.index_is_cache = true;
    s.tree_cache_dir = cache + "/trees";
    return s;
}

std::size_t calls_starting(const FaultPlan& plan, const std::string& prefix) {
    return static_cast<std::size_t>(
        std::count_if(plan.log.begin(), plan.log.end(),
                      [&](const std::string& call) { return call.rfind(prefix, 0) == 0; }));
}

std::vector<std::string> index_objects_in(const std::string& repo) {
    std::vector<std::string> names;
    for (const auto& o : open_local_store(repo)->list(format::kIndexObjectDir))
        names.push_back(o.name);
    return names;
}

struct IndexObjects : ::testing::Test {
    TempDir dir;
    std::string repo = dir / "repo", src = dir / "src";
    std::shared_ptr<FaultPlan> plan = std::make_shared<FaultPlan>();

    void SetUp() override {
        Repository::init(repo, small_chunks());
        ::mkdir(src.c_str(), 0755);
    }
    std::unique_ptr<Repository> host(const std::string& name) {
        return Repository::open(as_remote(repo, dir / name, plan));
    }
    Snapshot ingest_on(Repository& r) {
        IngestOptions o;
        o.paths = {src};
        o.threads = 1;
        o.host = "testhost";
        return ingest(r, o).snapshot;
    }
    // What a host with an empty cache reads to build it; the calls it makes are in plan->log.
    CacheRefresh fresh_host(const std::string& name) {
        plan->log.clear();
        plan->keep_log = true;
        RepositoryStorage s = as_remote(repo, dir / name, plan);
        CacheRefresh r = refresh_index_cache(s, *plain_blob_codec(3));
        plan->keep_log = false;
        return r;
    }
    // Two ingests on `r`, each of a new file: one index object each.
    void two_ingests_on(Repository& r) {
        write_random_file(src + "/one.bin", 300000, 1);
        ingest_on(r);
        write_random_file(src + "/two.bin", 300000, 2);
        ingest_on(r);
    }
    // Every blob of every snapshot loads on `r` (the index locates each one correctly).
    void expect_every_snapshot_reads_back(Repository& r) {
        for (const auto& s : r.snapshots())
            for_each_chunk(r, s, [&](const ChunkRef& c) { EXPECT_NO_THROW(r.load_data(c.id)); });
    }
};

TEST_F(IndexObjects, AFreshHostReadsTheIndexObjectsAndNoTrailer) {
    auto a = host("cache-a");
    two_ingests_on(*a);
    // One index object per ingest, each written before its snapshot record.
    EXPECT_EQ(index_objects_in(repo).size(), 2u);
    const std::size_t packs = a->index().packs().size();
    ASSERT_GE(packs, 2u);

    CacheRefresh r = fresh_host("cache-b");
    EXPECT_TRUE(r.problems.empty());
    EXPECT_EQ(r.index_objects_read, 2u);
    EXPECT_EQ(r.packs_added, packs);
    EXPECT_EQ(r.packs_from_trailers, 0u);
    EXPECT_EQ(calls_starting(*plan, "read packs/"), 0u) << "no trailer read";
    EXPECT_EQ(calls_starting(*plan, "read indexes/"), 2u);
    // Each carries the record of the snapshot its ingest saved.
    EXPECT_EQ(r.snapshots_added, 2u);
    EXPECT_EQ(r.snapshots_from_index_objects, 2u);
    EXPECT_EQ(calls_starting(*plan, "read snapshots/"), 0u) << "no record fetched";

    auto b = host("cache-b");
    EXPECT_EQ(b->snapshots().size(), 2u);
    EXPECT_EQ(b->index().blob_count(), a->index().blob_count());
    expect_every_snapshot_reads_back(*b);
    // An up-to-date cache reads no index object again, nor lists them.
    r = fresh_host("cache-b");
    EXPECT_EQ(r.index_objects_read, 0u);
    EXPECT_EQ(calls_starting(*plan, "list indexes"), 0u);
}

TEST_F(IndexObjects, PacksNoSoundIndexObjectDescribesAreReadFromTheirTrailers) {
    auto a = host("cache-a");
    two_ingests_on(*a);
    const std::size_t packs = a->index().packs().size();
    auto names = index_objects_in(repo);
    ASSERT_EQ(names.size(), 2u);
    // One is lost (its writer died before writing it), the other damaged.
    auto store = open_local_store(repo);
    Bytes damaged = store->read_all(names[1]);
    store->remove(names[0]);
    damaged[damaged.size() / 2] ^= 0x40;
    store->remove(names[1]);
    store->put(names[1], damaged);

    CacheRefresh r = fresh_host("cache-b");
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find(names[1]), std::string::npos) << r.problems[0];
    EXPECT_NE(r.problems[0].find("read from their trailers"), std::string::npos) << r.problems[0];
    EXPECT_EQ(r.packs_added, packs);
    EXPECT_EQ(r.packs_from_trailers, packs);
    auto b = host("cache-b");
    expect_every_snapshot_reads_back(*b);
}

TEST_F(IndexObjects, PruneMergesThemIntoOneThatDescribesWhatIsLeft) {
    auto a = host("cache-a");
    write_random_file(src + "/old.bin", 300000, 1);
    Snapshot first = ingest_on(*a);
    ::unlink((src + "/old.bin").c_str());
    for (int i = 2; i <= 3; ++i) {
        write_random_file(src + "/f" + std::to_string(i), 300000, i);
        ingest_on(*a);
    }
    EXPECT_EQ(index_objects_in(repo).size(), 3u);
    {
        auto lock = a->lock_for_writing("test");
        forget_snapshots(*a, {first.id});
    }
    PruneOptions o;
    o.grace_seconds = 0;
    o.max_unused = 0;
    PruneResult pr = prune(*a, o);
    EXPECT_GT(pr.packs_deleted + pr.packs_written, 0u);
    EXPECT_EQ(pr.index_objects_merged, 3u);
    ASSERT_EQ(index_objects_in(repo).size(), 1u);

    CacheRefresh r = fresh_host("cache-c");
    EXPECT_TRUE(r.problems.empty());
    EXPECT_EQ(r.index_objects_read, 1u);
    EXPECT_EQ(r.packs_from_trailers, 0u);
    EXPECT_EQ(r.snapshots_from_index_objects, 2u) << "the merged object carries the records kept";
    EXPECT_EQ(calls_starting(*plan, "read snapshots/"), 0u);
    EXPECT_EQ(r.packs_added, a->index().packs().size());
    auto c = host("cache-c");
    EXPECT_EQ(c->snapshots().size(), 2u);
    EXPECT_EQ(c->index().blob_count(), a->index().blob_count());
    expect_every_snapshot_reads_back(*c);

    // A prune with nothing to change leaves the one index object alone.
    pr = prune(*a, o);
    EXPECT_EQ(pr.index_objects_merged, 0u);
    EXPECT_EQ(index_objects_in(repo).size(), 1u);
}

TEST_F(IndexObjects, ARecordCarriedForAForgottenSnapshotStaysForgotten) {
    auto a = host("cache-a");
    write_random_file(src + "/one.bin", 300000, 1);
    Snapshot first = ingest_on(*a);
    write_random_file(src + "/two.bin", 300000, 2);
    Snapshot second = ingest_on(*a);
    {
        auto lock = a->lock_for_writing("test");
        forget_snapshots(*a, {first.id});
    }
    // The first ingest's index object still carries the forgotten record; snapshots/ decides.
    CacheRefresh r = fresh_host("cache-b");
    EXPECT_EQ(r.snapshots_added, 1u);
    EXPECT_EQ(r.snapshots_from_index_objects, 1u);
    auto b = host("cache-b");
    ASSERT_EQ(b->snapshots().size(), 1u);
    EXPECT_EQ(b->snapshots()[0].id, second.id);
}

TEST_F(IndexObjects, ALocalRepositoryHasNone) {
    TestRepo t;
    t.write("a.bin", 100000, 1);
    t.ingest_src();
    EXPECT_TRUE(index_objects_in(t.path).empty());
}

}  // namespace
}  // namespace strata::testing
