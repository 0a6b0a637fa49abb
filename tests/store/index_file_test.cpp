// The checks made before LMDB maps index/data.mdb (store/index/index_file.h) and the probe that reads
// the whole index in a child (store/index/index_probe.h): a truncated file, damaged meta pages and
// damaged pages are refused with IndexUnusable naming the file, never a crash of the caller; a
// zero-byte file is not taken by a writer for a new index.
#include "store/index/index_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "store/format/format.h"
#include "store/index/index.h"
#include "store/index/index_probe.h"
#include "tests/store/store_test_support.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

using testing::TempDir;

BlobId id_of(const std::string& s) { return sha256(as_bytes(s)); }

class IndexFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(::mkdir(repo().c_str(), 0700), 0);
        BlobIndex idx(dir(), BlobIndex::Access::Create);
        for (int p = 0; p < 40; ++p) {  // enough blobs for branch pages
            std::vector<PackEntry> entries;
            for (int b = 0; b < 100; ++b)
                entries.push_back({id_of(std::to_string(p) + "/" + std::to_string(b)),
                                   format::BlobType::Data, format::Codec::Zstd,
                                   static_cast<std::uint64_t>(b) * 100, 100, 200});
            idx.add_pack(id_of("pack " + std::to_string(p)), 10000, entries);
        }
    }
    std::string repo() const { return tmp_ / "repo"; }
    std::string dir() const { return repo() + "/index"; }
    std::string data() const { return dir() + "/data.mdb"; }
    std::uint64_t size() const {
        struct stat st;
        return ::stat(data().c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    }
    void write_at(std::uint64_t offset, const std::string& bytes) {
        int fd = ::open(data().c_str(), O_RDWR);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
                  static_cast<ssize_t>(bytes.size()));
        ::close(fd);
    }
    void flip(std::uint64_t offset, unsigned char mask) {
        int fd = ::open(data().c_str(), O_RDWR);
        ASSERT_GE(fd, 0);
        unsigned char c;
        ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
        c ^= mask;
        ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
        ::close(fd);
    }
    // Opening as `access` throws IndexUnusable of `kind`; returns its message.
    std::string refused(BlobIndex::Access access,
                        StoreError::Kind kind = StoreError::Kind::Corruption) {
        try {
            BlobIndex idx(dir(), access);
        } catch (const IndexUnusable& e) {
            EXPECT_EQ(e.kind(), kind);
            std::string what = e.what();
            EXPECT_NE(what.find(data()), std::string::npos) << what;
            EXPECT_NE(what.find("`strata repair-index " + repo() + "`"), std::string::npos) << what;
            return what;
        }
        ADD_FAILURE() << "opened without complaint";
        return "";
    }
    TempDir tmp_;
};

TEST_F(IndexFileTest, ASoundFileIsAccepted) {
    IndexFileFacts facts;
    EXPECT_EQ(index_file_problem(data(), &facts), "");
    EXPECT_EQ(facts.file_bytes, size());
    EXPECT_EQ(facts.page_size, 4096u);
    EXPECT_EQ((facts.last_page + 1) * facts.page_size, size());
    EXPECT_GT(facts.txnid, 0u);
    probe_index_or_throw(repo() + "/" + format::kIndexDir, repo());
}

TEST_F(IndexFileTest, TruncationsAreRefusedBeforeLmdbMapsTheFile) {
    const std::uint64_t full = size();
    ASSERT_GT(full, 10 * 4096u);
    for (std::uint64_t cut :
         {full - 1, full - 4096, full / 2, std::uint64_t{3 * 4096}, std::uint64_t{8192 + 100},
          std::uint64_t{4096}, std::uint64_t{152}, std::uint64_t{0}}) {
        SCOPED_TRACE("cut to " + std::to_string(cut));
        ASSERT_EQ(::truncate(data().c_str(), static_cast<off_t>(cut)), 0);
        EXPECT_NE(index_file_problem(data()), "");
        refused(BlobIndex::Access::ReadOnly);
        refused(BlobIndex::Access::ReadWrite);
        if (cut >= 8192 + 100) {
            EXPECT_NE(refused(BlobIndex::Access::ReadOnly).find("(truncated)"), std::string::npos);
        }
        EXPECT_THROW(probe_index_or_throw(repo() + "/" + format::kIndexDir, repo()), IndexUnusable);
    }
}

TEST_F(IndexFileTest, AnEmptyFileIsNotTakenForANewIndex) {
    ASSERT_EQ(::truncate(data().c_str(), 0), 0);
    EXPECT_NE(refused(BlobIndex::Access::ReadWrite).find("empty"), std::string::npos);
    EXPECT_EQ(size(), 0u);  // LMDB did not write a fresh environment over it
    EXPECT_NE(probe_index(repo() + "/" + format::kIndexDir, repo()).find("is empty (0 bytes)"), std::string::npos)
        << probe_index(repo() + "/" + format::kIndexDir, repo());
}

TEST_F(IndexFileTest, DamagedMetaPagesAreRefused) {
    struct Damage {
        const char* what;
        std::uint64_t offset;
        std::string bytes;
    };
    const std::string zero4(4, '\0');
    for (const Damage& d :
         {Damage{"page 0 flags", 10, std::string(2, '\0')}, Damage{"page 0 magic", 16, zero4},
          Damage{"page 1 magic", 4096 + 16, zero4},
          Damage{"page 0 version", 20, std::string("\x07\0\0\0", 4)},
          Damage{"page size", 16 + 24, std::string("\x01\x10\0\0", 4)},
          Damage{"last page", 4096 + 16 + 120, std::string(8, '\x7f')},
          Damage{"main root", 4096 + 16 + 72 + 40, std::string(7, '\x7f')}}) {
        SCOPED_TRACE(d.what);
        const std::string before = testing::read_file(data());
        write_at(d.offset, d.bytes);
        std::string why = index_file_problem(data());
        if (why.empty()) {
            // Damage to the older meta page LMDB ignores is harmless: the probe still reads it all.
            probe_index_or_throw(repo() + "/" + format::kIndexDir, repo());
        } else {
            refused(BlobIndex::Access::ReadOnly);
            EXPECT_THROW(probe_index_or_throw(repo() + "/" + format::kIndexDir, repo()), IndexUnusable);
        }
        testing::write_file(data(), before);
        EXPECT_EQ(index_file_problem(data()), "");
    }
}

// Page numbers and offsets inside pages are LMDB's to trust: a flip there can make LMDB read
// outside its map. The probe's child dies of that, or finds the damage; the caller never does.
TEST_F(IndexFileTest, FlippedBytesInPagesAreFoundByTheProbeWithoutCrashingTheCaller) {
    const std::string before = testing::read_file(data());
    const std::uint64_t pages = size() / 4096;
    int found = 0, trials = 0;
    // About 25 pages spread over the file, the header fields LMDB trusts in each (flags, lower,
    // upper, the first node offset) and a byte of node data.
    const std::uint64_t step = std::max<std::uint64_t>(1, pages / 25);
    for (std::uint64_t page = 2; page < pages; page += step) {
        for (std::uint64_t at : {10u, 12u, 14u, 16u, 4096u - 100}) {
            flip(page * 4096 + at, 0x5a);
            trials++;
            try {
                probe_index_or_throw(repo() + "/" + format::kIndexDir, repo());
            } catch (const IndexUnusable& e) {
                found++;
                EXPECT_NE(std::string(e.what()).find(data()), std::string::npos) << e.what();
            }
            testing::write_file(data(), before);
        }
    }
    // Pages on LMDB's free list are read by nobody, and a flip in a value (a blob's offset) is
    // no damage LMDB or the decoders can see: only some flips are found, never a crash here.
    EXPECT_GT(found, 0) << found << " of " << trials;
}

TEST_F(IndexFileTest, AMissingIndexIsNotFound) {
    ASSERT_EQ(::unlink(data().c_str()), 0);
    EXPECT_NE(refused(BlobIndex::Access::ReadOnly, StoreError::Kind::NotFound).find("is missing"),
              std::string::npos);
    try {
        probe_index_or_throw(repo() + "/" + format::kIndexDir, repo());
        ADD_FAILURE() << "probed without complaint";
    } catch (const IndexUnusable& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::NotFound);
    }
}

}  // namespace
}  // namespace strata
