// The on-disk blob cache of remote repositories (store/repo/blob_file_cache.h): unbounded for
// trees; bounded in bytes for data chunks, dropping the least recently used, also across a
// restart (a new process learns the order from the files' times).
#include "store/repo/blob_file_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <ctime>
#include <string>

#include "tests/testlib/temp_dir.h"

namespace strata::testing {
namespace {

BlobId id_of(int i) { return sha256(as_bytes("blob " + std::to_string(i))); }

Bytes bytes_of(int i, std::size_t n) { return Bytes(n, static_cast<std::uint8_t>(i)); }

std::string file_of(const std::string& dir, const BlobId& id) {
    const std::string hex = id.hex();
    return dir + "/" + hex.substr(0, 2) + "/" + hex;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

// Sets the file's times `age` seconds into the past, as if it was last used then.
void age_file(const std::string& path, long age) {
    const std::time_t t = std::time(nullptr) - age;
    struct utimbuf times {t, t};
    ASSERT_EQ(::utime(path.c_str(), &times), 0) << path;
}

TEST(BlobFileCache, UnboundedKeepsEverythingAndDropsOnRequest) {
    TempDir dir;
    BlobFileCache cache(dir / "trees");
    EXPECT_FALSE(cache.get(id_of(1)));
    for (int i = 0; i < 10; ++i) cache.put(id_of(i), bytes_of(i, 1000));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(cache.get(id_of(i)), bytes_of(i, 1000)) << i;
    cache.drop(id_of(3));
    EXPECT_FALSE(cache.get(id_of(3)));
    EXPECT_FALSE(exists(file_of(dir / "trees", id_of(3))));
}

TEST(BlobFileCache, BoundedDropsTheLeastRecentlyUsedToStayWithinItsBound) {
    TempDir dir;
    BlobFileCache cache(dir / "chunks", 3000);
    for (int i = 0; i < 3; ++i) cache.put(id_of(i), bytes_of(i, 1000));
    EXPECT_EQ(cache.bytes(), 3000u);
    ASSERT_TRUE(cache.get(id_of(0)));  // 0 is now the most recently used; 1 the least
    cache.put(id_of(3), bytes_of(3, 1000));
    EXPECT_EQ(cache.bytes(), 3000u);
    EXPECT_FALSE(exists(file_of(dir / "chunks", id_of(1))));
    EXPECT_FALSE(cache.get(id_of(1)));
    for (int i : {0, 2, 3}) EXPECT_EQ(cache.get(id_of(i)), bytes_of(i, 1000)) << i;
    // A blob larger than the whole bound is not kept, and drops nothing.
    cache.put(id_of(9), bytes_of(9, 3001));
    EXPECT_FALSE(cache.get(id_of(9)));
    EXPECT_EQ(cache.bytes(), 3000u);
}

TEST(BlobFileCache, ANewProcessLearnsTheFolderAndASmallerBoundDropsTheOldestFiles) {
    TempDir dir;
    const std::string folder = dir / "chunks";
    {
        BlobFileCache cache(folder, 10000);
        for (int i = 0; i < 5; ++i) cache.put(id_of(i), bytes_of(i, 1000));
    }
    // Last used: 4 long ago, then 3, 2, 1, 0 most recently.
    for (int i = 0; i < 5; ++i) age_file(file_of(folder, id_of(i)), 100 * (i + 1));
    // A temporary file of a process that died while writing, and one being written now.
    const std::string hh = folder + "/" + id_of(0).hex().substr(0, 2);
    write_file(hh + "/" + id_of(0).hex() + ".1-0.tmp", "cut short");
    age_file(hh + "/" + id_of(0).hex() + ".1-0.tmp", 3600);
    write_file(hh + "/" + id_of(0).hex() + ".2-0.tmp", "being written");

    BlobFileCache smaller(folder, 2500);
    EXPECT_EQ(smaller.get(id_of(0)), bytes_of(0, 1000));  // the first use scans the folder
    EXPECT_EQ(smaller.bytes(), 2000u);
    EXPECT_EQ(smaller.get(id_of(1)), bytes_of(1, 1000));
    for (int i = 2; i < 5; ++i) EXPECT_FALSE(exists(file_of(folder, id_of(i)))) << i;
    EXPECT_FALSE(exists(hh + "/" + id_of(0).hex() + ".1-0.tmp"));
    EXPECT_TRUE(exists(hh + "/" + id_of(0).hex() + ".2-0.tmp"));
    // A hit counts as a use for the next process too: 1 was used after 0, so 0 goes first.
    age_file(file_of(folder, id_of(0)), 50);
    BlobFileCache later(folder, 1500);
    EXPECT_TRUE(later.get(id_of(1)));
    EXPECT_FALSE(exists(file_of(folder, id_of(0))));
}

TEST(BlobFileCache, AFileRemovedByAnotherProcessIsAMissAndLeavesTheAccount) {
    TempDir dir;
    BlobFileCache cache(dir / "chunks", 5000);
    cache.put(id_of(1), bytes_of(1, 1000));
    ASSERT_EQ(::unlink(file_of(dir / "chunks", id_of(1)).c_str()), 0);
    EXPECT_FALSE(cache.get(id_of(1)));
    EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace strata::testing
