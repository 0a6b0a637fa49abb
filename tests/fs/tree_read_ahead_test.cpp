// Loading subdirectory trees ahead of a walk (fs/tree_read_ahead.h).
#include "fs/tree_read_ahead.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fs/layout.h"
#include "tests/fs/fake_repository.h"

namespace strata::fs {
namespace {

using testing::dir_entry;
using testing::FakeRepository;
using testing::file_entry;

TEST(TreeReadAhead, LoadsTheSubdirectoriesOfAListingIntoTheCache) {
    FakeRepository repo;
    BlobId a = repo.add_tree({file_entry(repo, "x", "x")});
    BlobId b = repo.add_tree({file_entry(repo, "y", "y")});
    BlobId missing = repo.add_tree({file_entry(repo, "z", "z")});
    repo.lose(missing);  // a failed load is ignored (the listing reports it)
    Tree listing = {dir_entry("a", a), dir_entry("b", b), dir_entry("gone", missing),
                    file_entry(repo, "file", "f")};
    TreeCache cache([&](const BlobId& id) { return repo.load_tree(id); }, 1 << 20);
    TreeReadAhead ahead(cache, 2);
    ahead.request(listing);
    for (int i = 0; i < 500 && !(cache.contains(a) && cache.contains(b)); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(cache.contains(a));
    EXPECT_TRUE(cache.contains(b));
    EXPECT_FALSE(cache.contains(missing));
    const int loads = repo.tree_loads;
    ahead.request(listing);  // cached ones are not loaded again
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_LE(repo.tree_loads, loads + 1);  // at most the missing one, tried again
    EXPECT_EQ(cache.get(a)->front().name, "x");
}

TEST(TreeReadAhead, FetchesAtMostItsShareOfAHugeListing) {
    FakeRepository repo;
    Tree listing;
    for (std::size_t i = 0; i < 3 * kTreesAheadPerListing; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "d%05zu", i);
        listing.push_back(dir_entry(name, repo.add_tree({file_entry(repo, name, name)})));
    }
    TreeCache cache([&](const BlobId& id) { return repo.load_tree(id); }, 64 << 20);
    {
        TreeReadAhead ahead(cache, 1);
        ahead.request(listing);
        for (int i = 0; i < 500 && cache.count() < kTreesAheadPerListing; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(cache.count(), kTreesAheadPerListing);
    EXPECT_TRUE(cache.contains(listing.front().subtree));
}

}  // namespace
}  // namespace strata::fs
