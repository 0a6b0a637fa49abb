#include "store/repo/repository.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>

#include "store/format/format.h"
#include "store/format/tree.h"
#include "store/ingest/blob_writer.h"
#include "store/repo/index_cache.h"
#include "store/repo/reader.h"
#include "tests/store/store_test_support.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

bool exists(const std::string& p) {
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
}

SnapshotRecord record(const BlobId& root, const std::string& note, std::int64_t time = 1700000000) {
    SnapshotRecord r;
    r.time_sec = time;
    r.host = "test";
    r.paths = {"/src"};
    r.note = note;
    r.root = root;
    r.root_meta.type = EntryType::Dir;
    r.root_meta.mode = 0755;
    return r;
}

class RepositoryTest : public ::testing::Test {
  protected:
    std::string repo() const { return dir_ / "repo"; }
    void init() { Repository::init(repo(), default_init_options()); }
    TempDir dir_;
};

TEST_F(RepositoryTest, InitCreatesTheLayout) {
    init();
    for (const char* d : {format::kPackDir, format::kSnapshotDir, format::kIndexDir,
                          format::kLockDir, format::kTmpDir})
        EXPECT_TRUE(exists(repo() + "/" + d)) << d;
    std::string config = read_file(repo() + "/" + format::kConfigFile);
    EXPECT_EQ(config.rfind("strata repository\n", 0), 0u) << config;
    // default_init_options: stored in the clear, format 1, readable by strata before encryption.
    EXPECT_NE(config.find("version = " + std::to_string(format::kPlainRepositoryVersion) + "\n"),
              std::string::npos);
    EXPECT_EQ(config.find("encryption"), std::string::npos);
    auto r = Repository::open(repo());
    EXPECT_EQ(r->config().version, format::kPlainRepositoryVersion);
    EXPECT_EQ(r->config().unlocked, nullptr);
    EXPECT_EQ(r->config().zstd_level, format::kDefaultZstdLevel);
    EXPECT_EQ(r->config().chunker.avg_size, format::kDefaultChunkAvg);
    EXPECT_EQ(r->config().id.size(), 64u);
    EXPECT_TRUE(r->snapshots().empty());
    // Two repositories get different ids.
    Repository::init(dir_ / "other", default_init_options());
    EXPECT_NE(Repository::open(dir_ / "other")->config().id, r->config().id);
}

TEST_F(RepositoryTest, InitIntoAnEmptyDirectory) {
    ASSERT_EQ(::mkdir(repo().c_str(), 0755), 0);
    init();
    EXPECT_NO_THROW(Repository::open(repo()));
}

TEST_F(RepositoryTest, InitRefusesANonEmptyDirectory) {
    ASSERT_EQ(::mkdir(repo().c_str(), 0755), 0);
    write_file(repo() + "/precious.txt", "keep me\n");
    std::string msg = expect_store_error([&] { init(); }, StoreError::Kind::Usage);
    EXPECT_NE(msg.find(repo()), std::string::npos) << msg;
    EXPECT_NE(msg.find("not empty"), std::string::npos) << msg;
    EXPECT_EQ(read_file(repo() + "/precious.txt"), "keep me\n");
    EXPECT_FALSE(exists(repo() + "/config"));
    EXPECT_FALSE(exists(repo() + "/packs"));

    write_file(dir_ / "a-file", "x");
    expect_store_error([&] { Repository::init(dir_ / "a-file", default_init_options()); },
                       StoreError::Kind::Usage, "a file");
    InitOptions bad = default_init_options();
    bad.zstd_level = 0;
    expect_store_error([&] { Repository::init(dir_ / "bad-level", bad); }, StoreError::Kind::Usage,
                       "level 0");
    EXPECT_FALSE(exists(dir_ / "bad-level")) << "a refused init must not leave a directory behind";
}

TEST_F(RepositoryTest, OpenRefusesWhatIsNotARepository) {
    std::string msg = expect_store_error([&] { Repository::open(repo()); },
                                         StoreError::Kind::NotFound, "missing");
    EXPECT_NE(msg.find("strata init"), std::string::npos) << msg;
    ASSERT_EQ(::mkdir(repo().c_str(), 0755), 0);
    msg = expect_store_error([&] { Repository::open(repo()); }, StoreError::Kind::Format,
                             "no config");
    EXPECT_NE(msg.find("not a strata repository"), std::string::npos) << msg;
    write_file(repo() + "/config", "[core]\nversion = 2\n");
    expect_store_error([&] { Repository::open(repo()); }, StoreError::Kind::Format,
                       "someone else's config");
}

TEST_F(RepositoryTest, OpenRefusesANewerFormatClearly) {
    init();
    const std::string cfg = repo() + "/" + format::kConfigFile;
    std::string config = read_file(cfg);
    const std::string line = "version = " + std::to_string(format::kPlainRepositoryVersion) + "\n";
    const std::string newer = "version = " + std::to_string(format::kRepositoryVersion + 1) + "\n";
    config.replace(config.find(line), line.size(), newer);
    write_file(cfg, config);
    std::string msg =
        expect_store_error([&] { Repository::open(repo()); }, StoreError::Kind::Format);
    EXPECT_NE(msg.find("newer"), std::string::npos) << msg;
    EXPECT_NE(msg.find("upgrade"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(format::kRepositoryVersion + 1)), std::string::npos) << msg;
    expect_store_error([&] { open_repository_reader(repo()); }, StoreError::Kind::Format, "reader");
    expect_store_error([&] { Repository::open_for_repair(repo()); }, StoreError::Kind::Format,
                       "repair");
}

TEST_F(RepositoryTest, SecondWriterIsRefusedNamingTheHolder) {
    init();
    int ready[2], release[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(release), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int rc = 1;
        try {
            auto r = Repository::open(repo());
            auto lock = r->lock_for_writing("child-holds-it");
            char c = 'x';
            if (::write(ready[1], &c, 1) == 1 && ::read(release[0], &c, 1) >= 0) rc = 0;
        } catch (...) {
        }
        ::_exit(rc);
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the child could not take the lock";

    auto r = Repository::open(repo());
    auto t0 = std::chrono::steady_clock::now();
    std::string msg =
        expect_store_error([&] { r->lock_for_writing("ingest", 0.3); }, StoreError::Kind::Locked);
    EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.3);
    EXPECT_NE(msg.find("pid " + std::to_string(child)), std::string::npos) << msg;
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    EXPECT_NE(msg.find(host), std::string::npos) << msg;
    EXPECT_NE(msg.find("child-holds-it"), std::string::npos) << msg;
    EXPECT_NE(msg.find("since"), std::string::npos) << msg;
    auto holder = read_lock_holder(repo());
    ASSERT_TRUE(holder.has_value());
    EXPECT_EQ(holder->pid, child);
    EXPECT_EQ(holder->purpose, "child-holds-it");

    // Readers are never blocked by the writer (r was opened and reads without the lock; a second
    // LMDB environment on the same file in one process is not allowed, so no second reader here).
    EXPECT_TRUE(r->snapshots().empty());

    // A writer killed with SIGKILL leaves no stale lock behind.
    ::kill(child, SIGKILL);
    int status;
    ::waitpid(child, &status, 0);
    t0 = std::chrono::steady_clock::now();
    EXPECT_NO_THROW(r->lock_for_writing("after-the-kill"));
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
    for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

TEST_F(RepositoryTest, AWriterWaitsForARefreshOfTheCacheToEnd) {
    init();
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // What a mount's periodic refresh does: holds the lock for a moment.
        auto lock = open_local_writer_lock(repo())->try_lock(kRefreshPurpose);
        char c = 'x';
        if (!lock || ::write(ready[1], &c, 1) != 1) ::_exit(1);
        ::usleep(800000);
        ::_exit(0);
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the child could not take the lock";
    auto r = Repository::open(repo());
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_NO_THROW(r->lock_for_writing("ingest", 0))
        << "no --lock-wait, yet it waits for a refresh";
    EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.3);
    int status;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int fd : {ready[0], ready[1]}) ::close(fd);
}

TEST_F(RepositoryTest, BlobsRoundTripDedupAndDetectDamage) {
    init();
    auto r = Repository::open(repo());
    auto lock = r->lock_for_writing("test");
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "compressible line " + std::to_string(i % 10) + "\n";
    Bytes random(200000);
    std::mt19937_64 rng(5);
    for (auto& b : random) b = static_cast<std::uint8_t>(rng());
    BlobId text_id, random_id, tree_id;
    {
        BlobWriter w(*r, 2);
        text_id = w.put(bytes_of(text), format::BlobType::Data);
        random_id = w.put(random, format::BlobType::Data);
        EXPECT_EQ(w.put(bytes_of(text), format::BlobType::Data), text_id);  // deduplicated
        tree_id = w.put(encode_tree({}), format::BlobType::Tree);
        w.flush();
        EXPECT_EQ(w.blobs_added(), 3u);
        EXPECT_LT(w.bytes_added(), text.size() / 4 + random.size() + 1000)
            << "compressible data was compressed";
    }
    EXPECT_EQ(sha256(bytes_of(text)), text_id);
    EXPECT_EQ(r->load_data(text_id), bytes_of(text));
    EXPECT_EQ(r->load_data(random_id), random);
    EXPECT_TRUE(r->load_tree(tree_id).empty());
    expect_store_error([&] { r->load_tree(text_id); }, StoreError::Kind::Corruption,
                       "data blob read as a tree");
    expect_store_error([&] { r->load_data(sha256(as_bytes("absent"))); },
                       StoreError::Kind::NotFound, "absent");
    {
        BlobWriter again(*r, 1);
        again.put(bytes_of(text), format::BlobType::Data);
        again.flush();
        EXPECT_EQ(again.blobs_added(), 0u) << "a blob already in the index is not stored twice";
    }
    auto loc = r->index().find(random_id);
    ASSERT_TRUE(loc.has_value());
    const std::string pack = repo() + "/" + pack_object_name(r->index().pack(loc->pack)->id);
    // One LMDB environment per file and process: close this one before opening another.
    lock.reset();
    r.reset();
    // A reader opened separately sees the same blobs.
    EXPECT_EQ(open_repository_reader(repo())->load_data(random_id), random);

    // Damage the random blob on disk: its hash check fails, with the pack named.
    std::string content = read_file(pack);
    content[loc->offset + loc->stored_size / 2] ^= 0x20;
    write_file(pack, content);
    auto fresh = Repository::open(repo());
    std::string msg =
        expect_store_error([&] { fresh->load_data(random_id); }, StoreError::Kind::Corruption);
    EXPECT_NE(msg.find(random_id.short_hex()), std::string::npos) << msg;
}

TEST_F(RepositoryTest, SnapshotRecordsAreTheTruth) {
    init();
    auto r = Repository::open(repo());
    auto lock = r->lock_for_writing("test");
    BlobId root;
    {
        BlobWriter w(*r, 1);
        root = w.put(encode_tree({}), format::BlobType::Tree);
        w.flush();
    }
    BlobId a = r->save_snapshot(record(root, "a", 1000));
    const std::string file = repo() + "/" + snapshot_object_name(a);
    ASSERT_TRUE(exists(file));
    EXPECT_EQ(sha256(bytes_of(read_file(file))), a) << "the record's name is the hash of its bytes";
    ASSERT_EQ(r->snapshots().size(), 1u);
    EXPECT_EQ(r->snapshots()[0].id, a);
    EXPECT_EQ(r->snapshots()[0].rec.note, "a");

    // A record written by a writer that died before indexing it is picked up by the next writer;
    // a record removed from snapshots/ disappears from the index.
    Bytes orphan = encode_snapshot(record(root, "orphan", 2000));
    BlobId orphan_id = sha256(orphan);
    r->objects().put(snapshot_object_name(orphan_id), orphan);
    ASSERT_EQ(::unlink(file.c_str()), 0);
    write_file(repo() + "/" + format::kTmpDir + "/partial-pack", "half a pack");
    lock.reset();
    lock = r->lock_for_writing("test again");
    auto snaps = r->snapshots();
    ASSERT_EQ(snaps.size(), 1u);
    EXPECT_EQ(snaps[0].id, orphan_id);
    EXPECT_FALSE(exists(repo() + "/" + format::kTmpDir + "/partial-pack"))
        << "tmp/ is cleared by a writer";
}

TEST_F(RepositoryTest, RepairIndexRebuildsFromPacksAndRecords) {
    init();
    BlobId data_id, root, snap;
    {
        auto r = Repository::open(repo());
        auto lock = r->lock_for_writing("test");
        BlobWriter w(*r, 1);
        data_id = w.put(bytes_of("some content"), format::BlobType::Data);
        TreeEntry f;
        f.name = "f";
        f.size = 12;
        f.chunks = {{0, data_id, 12}};
        root = w.put(encode_tree({f}), format::BlobType::Tree);
        w.flush();
        snap = r->save_snapshot(record(root, "kept"));
    }
    testing::remove_tree(repo() + "/" + format::kIndexDir);
    std::string msg =
        expect_store_error([&] { Repository::open(repo()); }, StoreError::Kind::NotFound);
    EXPECT_NE(msg.find("repair-index"), std::string::npos) << msg;

    {
        auto r = Repository::open_for_repair(repo());
        auto lock = r->lock_for_writing("repair-index");
        auto report = r->repair_index();
        EXPECT_TRUE(report.problems.empty());
        EXPECT_EQ(report.packs, 1u);
        EXPECT_EQ(report.blobs, 2u);
        EXPECT_EQ(report.snapshots, 1u);
        ASSERT_EQ(r->snapshots().size(), 1u);
        EXPECT_EQ(r->snapshots()[0].id, snap);
        EXPECT_EQ(r->load_data(data_id), bytes_of("some content"));
        EXPECT_EQ(r->load_tree(root).at(0).name, "f");
    }
    EXPECT_EQ(Repository::open(repo())->snapshots().size(), 1u);

    // A damaged record is reported, not indexed; the rest still is.
    write_file(repo() + "/" + format::kSnapshotDir + "/" + std::string(64, 'a'), "garbage");
    auto r2 = Repository::open_for_repair(repo());
    auto lock2 = r2->lock_for_writing("repair-index");
    auto report2 = r2->repair_index();
    EXPECT_EQ(report2.problems.size(), 1u);
    EXPECT_EQ(report2.snapshots, 1u);
}

// A reader that may not write the index's lock.mdb (another user than the repository's owner, a
// read-only mount) reads without LMDB's reader table, which is unsafe beside a writer: it says so
// (the mount logs it). The repository's owner reads with the table and has nothing to say.
TEST_F(RepositoryTest, AReaderWithoutWriteAccessToTheIndexLockSaysWritersAreUnsafe) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, to read as another user";
    init();
    {
        auto repo = Repository::open(this->repo());
        auto lock = repo->lock_for_writing("test");
        BlobWriter w(*repo, 1);
        BlobId root = w.put(encode_tree({}), format::BlobType::Tree);
        w.flush();
        repo->save_snapshot(record(root, "one"));
    }
    EXPECT_EQ(open_repository_reader(repo())->concurrent_writer_caveat(), "");
    // Readable by everyone, writable by root only.
    std::string chmod = "chmod -R a+rX " + dir_.path();
    ASSERT_EQ(std::system(chmod.c_str()), 0);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        std::string said = "cannot drop to uid 65534";
        if (::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0) {
            try {
                auto reader = open_repository_reader(repo());
                said = reader->snapshots().size() == 1 ? reader->concurrent_writer_caveat()
                                                       : "snapshot not seen";
            } catch (const std::exception& e) {
                said = std::string("open failed: ") + e.what();
            }
        }
        [[maybe_unused]] auto n = ::write(fds[1], said.data(), said.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string said;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        said.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    EXPECT_NE(said.find("lock.mdb"), std::string::npos) << said;
    EXPECT_NE(said.find("safe only while no ingest or prune"), std::string::npos) << said;
}

}  // namespace
}  // namespace strata
