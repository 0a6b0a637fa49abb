// BlobIndex::compact: the index written pack by pack (one LMDB transaction each, random blob ids)
// is rewritten without free pages; everything it held is still there, byte for byte; it refuses
// while another process has the environment open; and a process opening the index afterwards
// reads the new file correctly (LMDB's lock file is set up afresh for it).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <string>

#include "store/index/index.h"
#include "tests/store/store_test_support.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

using testing::TempDir;

// Enough packs and blobs that each transaction copies most leaf pages, as an ingest does.
constexpr int kPacks = 40;
constexpr int kBlobsPerPack = 600;

std::uint64_t size_of(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return static_cast<std::uint64_t>(st.st_size);
}

// Everything the index holds, in a comparable form.
struct Content {
    std::map<BlobId, std::string> blobs;
    std::vector<std::string> packs;
    std::vector<BlobId> snapshots;
    std::uint64_t generation = 0;
    bool operator==(const Content&) const = default;
};

std::string describe(const BlobLocation& l) {
    return std::to_string(l.pack) + "/" + std::to_string(l.offset) + "/" + std::to_string(l.stored_size) + "/" +
           std::to_string(l.raw_size) + "/" + std::to_string(int(l.type)) + std::to_string(int(l.codec));
}

Content content_of(const BlobIndex& idx) {
    Content c;
    idx.for_each_blob([&](const BlobId& id, const BlobLocation& l) { c.blobs[id] = describe(l); });
    for (const auto& p : idx.packs())
        c.packs.push_back(std::to_string(p.seq) + " " + p.id.hex() + " " + std::to_string(p.size) + " " +
                          std::to_string(p.blobs) + " " + std::to_string(p.last_verified));
    for (const auto& s : idx.snapshots()) c.snapshots.push_back(s.id);
    c.generation = idx.snapshot_generation();
    return c;
}

void fill(BlobIndex& idx, int first_pack, int packs) {
    for (int p = first_pack; p < first_pack + packs; ++p) {
        std::vector<PackEntry> entries;
        for (int b = 0; b < kBlobsPerPack; ++b)
            entries.push_back({sha256(as_bytes("blob " + std::to_string(p) + "/" + std::to_string(b))),
                               b % 7 ? format::BlobType::Data : format::BlobType::Tree,
                               b % 3 ? format::Codec::Zstd : format::Codec::Raw, std::uint64_t(b) * 4096,
                               std::uint32_t(1000 + b), std::uint32_t(2000 + b)});
        idx.add_pack(sha256(as_bytes("pack " + std::to_string(p))), 32u << 20, entries);
    }
    SnapshotRecord r;
    r.time_sec = 1700000000 + first_pack;
    r.host = "h";
    r.root = sha256(as_bytes("root " + std::to_string(first_pack)));
    r.root_meta.type = EntryType::Dir;
    r.root_meta.subtree = r.root;
    idx.put_snapshot({sha256(encode_snapshot(r)), r});
}

// Runs `fn` in a child process and returns its exit status (0: every expectation held).
template <typename Fn>
int in_child(Fn fn) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(fn());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class IndexCompactionTest : public ::testing::Test {
protected:
    std::string dir() const { return tmp_ / "index"; }
    std::string data() const { return dir() + "/data.mdb"; }
    TempDir tmp_;
};

TEST_F(IndexCompactionTest, RewritesAWastefulIndexKeepingEveryEntry) {
    BlobIndex idx(dir(), BlobIndex::Access::Create);
    fill(idx, 0, kPacks);
    const Content before = content_of(idx);
    const BlobIndex::SpaceUse use = idx.space_use();
    EXPECT_EQ(use.file_bytes, size_of(data()));
    ASSERT_GE(use.file_bytes, use.compact_bytes * 2) << "the test data leaves too little to compact";

    BlobIndex::CompactionResult r = idx.compact();
    EXPECT_EQ(r.outcome, BlobIndex::Compaction::Done);
    EXPECT_EQ(r.bytes_before, use.file_bytes);
    EXPECT_EQ(r.bytes_after, size_of(data()));
    // Full pages and no free ones: within a few pages of the estimate, far below the old size.
    EXPECT_LE(r.bytes_after, use.compact_bytes + (16u << 10));
    EXPECT_LE(r.bytes_after * 2, r.bytes_before);
    EXPECT_FALSE(::access((data() + ".compact").c_str(), F_OK) == 0) << "the temporary copy was left";
    EXPECT_TRUE(content_of(idx) == before);

    // Nothing more to gain: left alone.
    r = idx.compact();
    EXPECT_EQ(r.outcome, BlobIndex::Compaction::NotNeeded);
    EXPECT_EQ(r.bytes_after, r.bytes_before);

    // Still writable, and pack numbering goes on where it was.
    fill(idx, kPacks, 1);
    auto packs = idx.packs();
    ASSERT_EQ(packs.size(), std::size_t(kPacks + 1));
    EXPECT_EQ(packs.back().seq, std::uint32_t(kPacks + 1));
}

TEST_F(IndexCompactionTest, OtherProcessesReadTheNewFileCorrectly) {
    BlobIndex idx(dir(), BlobIndex::Access::Create);
    fill(idx, 0, kPacks);
    // LMDB's lock file remembers the last transaction id, and readers pick a meta page by its
    // parity: compact after an even and after an odd number of commits, and read each result
    // from a fresh process.
    for (int round = 0; round < 2; ++round) {
        if (round == 1) idx.set_pack_verified(1, 1234);
        const Content expected = content_of(idx);
        ASSERT_EQ(idx.compact(true).outcome, BlobIndex::Compaction::Done) << "round " << round;
        EXPECT_TRUE(content_of(idx) == expected) << "round " << round;
        const int status = in_child([&] {
            BlobIndex reader(dir(), BlobIndex::Access::ReadOnly);
            return content_of(reader) == expected ? 0 : 1;
        });
        EXPECT_EQ(status, 0) << "round " << round << ": a new reader does not see what the index holds";
    }
}

TEST_F(IndexCompactionTest, LeavesTheIndexAloneWhileAnotherProcessHasItOpen) {
    {
        BlobIndex idx(dir(), BlobIndex::Access::Create);
        fill(idx, 0, kPacks);
    }
    // A child opens the index (as a mount would) and keeps it open until told to stop.
    int to_child[2], from_child[2];
    ASSERT_EQ(::pipe(to_child), 0);
    ASSERT_EQ(::pipe(from_child), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(to_child[1]);
        ::close(from_child[0]);
        int code = 0;
        {
            BlobIndex reader(dir(), BlobIndex::Access::ReadOnly);
            const std::size_t n = reader.packs().size();
            char c = 'r';
            if (::write(from_child[1], &c, 1) != 1) code = 2;
            if (::read(to_child[0], &c, 1) != 1) code = 3;  // the parent has tried to compact
            // The file this reader has mapped is still the index, with all it held.
            if (reader.packs().size() != n || reader.blob_count() != std::uint64_t(kPacks) * kBlobsPerPack)
                code = 1;
        }
        ::_exit(code);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    char c;
    ASSERT_EQ(::read(from_child[0], &c, 1), 1);

    BlobIndex idx(dir(), BlobIndex::Access::ReadWrite);
    const std::uint64_t before = size_of(data());
    BlobIndex::CompactionResult r = idx.compact(true);
    EXPECT_EQ(r.outcome, BlobIndex::Compaction::InUse);
    EXPECT_EQ(size_of(data()), before);
    EXPECT_EQ(idx.blob_count(), std::uint64_t(kPacks) * kBlobsPerPack);

    ASSERT_EQ(::write(to_child[1], "x", 1), 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader's status " << status;
    ::close(to_child[1]);
    ::close(from_child[0]);

    // Once the reader is gone, it is compacted.
    r = idx.compact();
    EXPECT_EQ(r.outcome, BlobIndex::Compaction::Done);
    EXPECT_LT(size_of(data()), before);
}

// Readers that open the index while it is being compacted (a mount starting during an ingest)
// either stop the compaction or wait for it, and always read the whole index: never a new file
// described by the old file's lock table.
TEST_F(IndexCompactionTest, ReadersOpeningMeanwhileAlwaysSeeTheWholeIndex) {
    constexpr int kRounds = 100;
    {
        BlobIndex idx(dir(), BlobIndex::Access::Create);
        fill(idx, 0, kPacks / 4);
    }
    const std::uint64_t blobs = std::uint64_t(kPacks / 4) * kBlobsPerPack;
    int stop[2];
    ASSERT_EQ(::pipe(stop), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(stop[1]);
        ::fcntl(stop[0], F_SETFL, O_NONBLOCK);
        int opens = 0;
        char c;
        while (::read(stop[0], &c, 1) < 0) {
            {
                BlobIndex reader(dir(), BlobIndex::Access::ReadOnly);
                if (reader.blob_count() != blobs || reader.packs().size() != std::size_t(kPacks / 4)) ::_exit(1);
            }
            opens++;
            ::usleep(500 + 300 * (opens % 7));  // leave the writer gaps to compact in
        }
        ::_exit(opens > 0 ? 0 : 2);
    }
    ::close(stop[0]);
    int done = 0, in_use = 0;
    {
        BlobIndex idx(dir(), BlobIndex::Access::ReadWrite);
        for (int i = 0; i < kRounds; ++i) {
            idx.set_pack_verified(1, i);  // a commit between compactions: the parity changes
            auto r = idx.compact(true);
            (r.outcome == BlobIndex::Compaction::Done ? done : in_use)++;
            ASSERT_NE(r.outcome, BlobIndex::Compaction::NotNeeded);
            ASSERT_EQ(idx.blob_count(), blobs);
        }
    }
    ASSERT_EQ(::write(stop[1], "x", 1), 1);
    ::close(stop[1]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "a reader saw an incomplete index (status " << status << ")";
    std::cout << "[ info     ] " << done << " compactions done, " << in_use << " found a reader\n";
}

}  // namespace
}  // namespace strata
