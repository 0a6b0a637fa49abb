// Storing small files ahead into the page cache (fs/page_cache_fill.h), with a recording Store
// in place of the kernel.
#include "fs/page_cache_fill.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "tests/fs/fake_repository.h"

namespace strata::fs {
namespace {

using testing::dir_entry;
using testing::FakeRepository;
using testing::file_entry;

class PageCacheFillTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::vector<TreeEntry> files;
        for (int i = 0; i < 6; ++i)
            files.push_back(
                file_entry(repo, "f" + std::to_string(i), "content " + std::to_string(i)));
        TreeEntry big = file_entry(repo, "big", std::string(kFillFileBytes + 1, 'b'), 1 << 20);
        TreeEntry empty = file_entry(repo, "empty", "");
        TreeEntry sparse;  // 100 bytes, data only in [40, 50)
        sparse.name = "sparse";
        sparse.type = EntryType::File;
        sparse.mode = 0644;
        sparse.size = 100;
        sparse.chunks.push_back({40, repo.add_data("0123456789"), 10});
        files.push_back(big);
        files.push_back(empty);
        files.push_back(sparse);
        files.push_back(dir_entry("sub", repo.add_tree({file_entry(repo, "deep", "deep")})));
        BlobId dir = repo.add_tree(files);
        repo.add_snapshot(repo.add_tree({dir_entry("dir", dir)}), 1700000000);
    }

    // Remembers the root of the snapshot, dir/ and the named entries of dir/ (as readdirplus
    // would); returns dir/.
    NodePtr know(MountLayout& layout, const std::vector<std::string>& names) {
        NodePtr snaps = layout.remember(layout.find_child(layout.root(), "snapshots")->node);
        auto cat = layout.catalog();
        NodePtr root = layout.remember(layout.find_child(snaps, cat->all().front()->name)->node);
        NodePtr dir = layout.remember(layout.find_child(root, "dir")->node);
        for (const auto& n : names) nodes[n] = layout.remember(layout.find_child(dir, n)->node);
        return dir;
    }

    // Runs `fill` until it has handled `directories` directories (or a few seconds passed).
    static void settle(PageCacheFill& fill, std::uint64_t directories) {
        for (int i = 0; i < 500 && fill.stats().directories < directories; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    FakeRepository repo;
    std::map<std::string, NodePtr> nodes;
    std::mutex mu;
    std::map<std::uint64_t, std::string> stored;  // by inode
    PageCacheFill::Store recorder() {
        return [this](std::uint64_t ino, const std::uint8_t* data, std::size_t size) {
            std::lock_guard lock(mu);
            EXPECT_EQ(stored.count(ino), 0u) << "stored twice";
            stored[ino] = std::string(reinterpret_cast<const char*>(data), size);
            return 0;
        };
    }
};

TEST_F(PageCacheFillTest, StoresTheSmallFilesTheKernelKnowsOnceEach) {
    MountLayout layout(repo, {0, 0, kDefaultTreeCacheBytes});
    ChunkCache chunks([&](const BlobId& id) { return load_chunk(repo, id); }, 1 << 20);
    know(layout, {"f0", "f1", "f2", "f4", "big", "empty", "sparse", "sub"});  // f3, f5 unknown
    PageCacheFill fill(layout, chunks);
    fill.start(recorder());
    fill.request(*nodes["f1"]);
    settle(fill, 1);
    fill.request(*nodes["f2"]);   // the same directory again: nothing more
    fill.request(*nodes["sub"]);  // not a file: nothing
    fill.stop();

    std::lock_guard lock(mu);
    // f0, f2, f4, sparse; not f1 (being read), big, empty, nor f3 and f5 (unknown to the kernel)
    EXPECT_EQ(stored.size(), 4u);
    EXPECT_EQ(stored[nodes["f0"]->ino], "content 0");
    EXPECT_EQ(stored[nodes["f2"]->ino], "content 2");
    EXPECT_EQ(stored[nodes["f4"]->ino], "content 4");
    EXPECT_EQ(stored[nodes["sparse"]->ino],
              std::string(40, '\0') + "0123456789" + std::string(50, '\0'));
    EXPECT_EQ(stored.count(nodes["f1"]->ino), 0u);
    EXPECT_EQ(stored.count(nodes["big"]->ino), 0u);
    EXPECT_EQ(fill.stats().files, 4u);
    EXPECT_EQ(fill.stats().directories, 1u);
}

// The order of the stores follows the reader's: by inode number when it started with the
// lowest one (as `cp` does), by name from the file after its first otherwise (`tar`, `rsync`).
TEST_F(PageCacheFillTest, StoresInTheOrderTheReaderTakes) {
    const std::vector<std::string> small = {"f0", "f1", "f2", "f3", "f4", "f5", "sparse"};
    auto stores_after = [&](const std::string& first) {
        MountLayout layout(repo, {0, 0, kDefaultTreeCacheBytes});
        ChunkCache chunks([&](const BlobId& id) { return load_chunk(repo, id); }, 1 << 20);
        nodes.clear();
        know(layout, small);
        std::vector<std::string> order;
        std::map<std::uint64_t, std::string> name_of;
        for (const auto& n : small) name_of[nodes[n]->ino] = n;
        PageCacheFill fill(layout, chunks);
        fill.start([&](std::uint64_t ino, const std::uint8_t*, std::size_t) {
            std::lock_guard lock(mu);
            order.push_back(name_of.at(ino));
            return 0;
        });
        fill.request(*nodes[first]);
        settle(fill, 1);
        fill.stop();
        std::lock_guard lock(mu);
        return order;
    };

    // Which file has the lowest inode number depends on the keys: find it, and the expected
    // inode order, from a first layout.
    MountLayout probe(repo, {0, 0, kDefaultTreeCacheBytes});
    know(probe, small);
    std::vector<std::string> by_inode = small;
    std::sort(by_inode.begin(), by_inode.end(), [&](const std::string& a, const std::string& b) {
        return nodes[a]->ino < nodes[b]->ino;
    });
    const std::string lowest = by_inode.front();
    by_inode.erase(by_inode.begin());
    std::vector<std::string> by_name;  // the tree's order without `lowest`
    for (const auto& n : small)
        if (n != lowest) by_name.push_back(n);
    ASSERT_NE(by_inode, by_name) << "the keys happen to sort like the names: the test shows nothing";
    EXPECT_EQ(stores_after(lowest), by_inode);

    // A name-order reader starting at a file that is not the lowest by inode number: the files
    // after it by name, then those before it.
    const std::string start = lowest == "f2" ? "f3" : "f2";
    std::vector<std::string> expected;
    bool after = false;
    for (const auto& n : small) {
        if (n == start) {
            after = true;
            continue;
        }
        if (after) expected.push_back(n);
    }
    for (const auto& n : small) {
        if (n == start) break;
        expected.push_back(n);
    }
    EXPECT_EQ(stores_after(start), expected);
}

TEST_F(PageCacheFillTest, DamagedChunksAndRefusedStoresAreSkipped) {
    MountLayout layout(repo, {0, 0, kDefaultTreeCacheBytes});
    ChunkCache chunks([&](const BlobId& id) { return load_chunk(repo, id); }, 1 << 20);
    know(layout, {"f0", "f1", "f2", "f3"});
    repo.damage(layout.content(*nodes["f2"]).chunks().back().id);  // "2": f2's alone
    PageCacheFill fill(layout, chunks);
    fill.start([this](std::uint64_t ino, const std::uint8_t* data, std::size_t size) {
        if (ino == nodes["f3"]->ino) return -ENOENT;  // the kernel dropped it meanwhile
        std::lock_guard lock(mu);
        stored[ino] = std::string(reinterpret_cast<const char*>(data), size);
        return 0;
    });
    fill.request(*nodes["f0"]);
    settle(fill, 1);
    fill.stop();
    std::lock_guard lock(mu);
    EXPECT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[nodes["f1"]->ino], "content 1");
    EXPECT_EQ(fill.stats().failed, 2u);
}

TEST_F(PageCacheFillTest, NothingHappensBeforeStartOrAfterStop) {
    MountLayout layout(repo, {0, 0, kDefaultTreeCacheBytes});
    ChunkCache chunks([&](const BlobId& id) { return load_chunk(repo, id); }, 1 << 20);
    know(layout, {"f0", "f1"});
    PageCacheFill fill(layout, chunks);
    fill.request(*nodes["f0"]);  // not started: ignored
    fill.start(recorder());
    fill.stop();
    fill.request(*nodes["f1"]);  // stopped: ignored
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard lock(mu);
    EXPECT_TRUE(stored.empty());
    EXPECT_EQ(fill.stats().directories, 0u);
}

}  // namespace
}  // namespace strata::fs
