// ingest_stream: one stream as a snapshot holding one file, chunked and deduplicated as a file
// is, and no snapshot when the stream or its finish hook fails.
#include "store/ingest/stream_ingest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "store/base/errors.h"
#include "tests/store/repo_fixture.h"

namespace strata::testing {
namespace {

// `data` in a file under `dir`, opened for reading: a stream with a known end.
int stream_of(TempDir& dir, const std::string& name, const std::string& data) {
    write_file(dir / name, data);
    int fd = ::open((dir / name).c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    return fd;
}

IngestOptions stream_options() {
    IngestOptions o;
    o.threads = 1;
    o.host = "testhost";
    return o;
}

std::string file_content(Repository& repo, const TreeEntry& e) {
    std::string out(e.size, '\0');
    for (const auto& c : e.chunks) {
        Bytes b = repo.load_data(c.id);
        std::copy(b.begin(), b.end(), out.begin() + static_cast<std::ptrdiff_t>(c.offset));
    }
    return out;
}

TEST(StreamIngest, StoresTheStreamAsOneFileOfTheRunningUser) {
    TestRepo t;
    const std::string data = random_data(300u << 10, 7);
    int fd = stream_of(t.dir, "in", data);
    StreamSource src{"db.sql", "the test stream", [&] { return fd; }, {}};
    IngestOptions o = stream_options();
    o.tags = {"db"};
    o.note = "nightly";
    IngestResult r = ingest_stream(*t.repo, o, src);
    ::close(fd);
    EXPECT_EQ(r.snapshot.rec.paths, std::vector<std::string>{"/db.sql"});
    EXPECT_EQ(r.snapshot.rec.tags, std::vector<std::string>{"db"});
    EXPECT_EQ(r.snapshot.rec.note, "nightly");
    EXPECT_EQ(r.snapshot.rec.files, 1u);
    EXPECT_EQ(r.snapshot.rec.bytes, data.size());
    auto entries = t.repo->load_tree(r.snapshot.rec.root);
    ASSERT_EQ(entries.size(), 1u);
    const TreeEntry& e = entries[0];
    EXPECT_EQ(e.name, "db.sql");
    EXPECT_EQ(e.type, EntryType::File);
    EXPECT_EQ(e.mode, 0600u);
    EXPECT_EQ(e.uid, ::geteuid());
    EXPECT_EQ(e.gid, ::getegid());
    EXPECT_NEAR(static_cast<double>(e.mtime_sec), static_cast<double>(::time(nullptr)), 60);
    EXPECT_GT(e.chunks.size(), 1u) << "small chunks: 300 KiB makes several";
    EXPECT_EQ(file_content(*t.repo, e), data);
}

// The same content as a file and as a stream gives the same chunks: the chunker sees the same
// bytes, so a dump stored once either way dedups against the other.
TEST(StreamIngest, ChunksAsAFileIsChunked) {
    TestRepo t;
    const std::string data = random_data(500u << 10, 11);
    write_file(t.src + "/f", data);
    IngestOptions fo = stream_options();
    fo.paths = {t.src + "/f"};
    Snapshot file_snap = ingest(*t.repo, fo).snapshot;
    int fd = stream_of(t.dir, "in", data);
    IngestResult r =
        ingest_stream(*t.repo, stream_options(), {"f", "stream", [&] { return fd; }, {}});
    ::close(fd);
    auto as_file = t.repo->load_tree(file_snap.rec.root).at(0).chunks;
    auto as_stream = t.repo->load_tree(r.snapshot.rec.root).at(0).chunks;
    ASSERT_EQ(as_file.size(), as_stream.size());
    for (std::size_t i = 0; i < as_file.size(); ++i) EXPECT_EQ(as_file[i].id, as_stream[i].id) << i;
    EXPECT_EQ(r.snapshot.rec.blobs_added, 1u) << "only the new tree";
}

TEST(StreamIngest, AnEmptyStreamIsAnEmptyFile) {
    TestRepo t;
    int fd = stream_of(t.dir, "in", "");
    IngestResult r =
        ingest_stream(*t.repo, stream_options(), {"empty", "s", [&] { return fd; }, {}});
    ::close(fd);
    auto entries = t.repo->load_tree(r.snapshot.rec.root);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].size, 0u);
    EXPECT_TRUE(entries[0].chunks.empty());
}

TEST(StreamIngest, AFailingFinishLeavesNoSnapshot) {
    TestRepo t;
    int fd = stream_of(t.dir, "in", random_data(100u << 10, 3));
    StreamSource src{
        "x", "stream", [&] { return fd; },
        [] { throw StoreError(StoreError::Kind::Io, "the command exited with status 3"); }};
    EXPECT_THROW(ingest_stream(*t.repo, stream_options(), src), StoreError);
    ::close(fd);
    t.reopen();
    EXPECT_TRUE(t.repo->snapshots().empty());
}

TEST(StreamIngest, AReadErrorNamesTheStreamAndLeavesNoSnapshot) {
    TestRepo t;
    int fd = ::open(t.dir.path().c_str(), O_RDONLY | O_DIRECTORY);  // read(2): EISDIR
    ASSERT_GE(fd, 0);
    try {
        ingest_stream(*t.repo, stream_options(), {"x", "standard input", [&] { return fd; }, {}});
        ADD_FAILURE() << "no error";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Io);
        EXPECT_NE(std::string(e.what()).find("standard input"), std::string::npos) << e.what();
    }
    ::close(fd);
    EXPECT_TRUE(t.repo->snapshots().empty());
}

TEST(StreamIngest, RefusesPathsTreeOptionsAndBadNames) {
    TestRepo t;
    bool opened = false;
    StreamSource src{"x",
                     "stream",
                     [&] {
                         opened = true;
                         return -1;
                     },
                     {}};
    IngestOptions with_path = stream_options();
    with_path.paths = {t.src};
    EXPECT_THROW(ingest_stream(*t.repo, with_path, src), StoreError);
    IngestOptions with_exclude = stream_options();
    with_exclude.excludes = {"*.o"};
    EXPECT_THROW(ingest_stream(*t.repo, with_exclude, src), StoreError);
    for (const char* bad : {"", ".", "..", "a/b"}) {
        src.name = bad;
        EXPECT_THROW(ingest_stream(*t.repo, stream_options(), src), StoreError) << bad;
    }
    EXPECT_FALSE(opened) << "nothing is read before the options are checked";
}

}  // namespace
}  // namespace strata::testing
