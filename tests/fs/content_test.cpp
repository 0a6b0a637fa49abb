// File content arithmetic (holes, SEEK_DATA/SEEK_HOLE) and the two caches, without a kernel.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fs/chunk_cache.h"
#include "fs/file_content.h"
#include "fs/file_content_cache.h"
#include "fs/read_ahead.h"
#include "fs/tree_cache.h"
#include "store/base/errors.h"

namespace strata::fs {
namespace {

BlobId id_of(int n) {
    BlobId id;
    id.bytes[0] = static_cast<std::uint8_t>(n);
    id.bytes[1] = static_cast<std::uint8_t>(n >> 8);
    return id;
}

// 100 bytes: data [10,30) [30,40), hole [40,70), data [70,80), hole to the end.
FileContent sparse() {
    return FileContent({{10, id_of(1), 20}, {30, id_of(2), 10}, {70, id_of(3), 10}}, 100);
}

TEST(FileContent, PlansReadsAcrossChunksAndHoles) {
    FileContent f = sparse();
    auto p = f.plan_read(0, 100);
    ASSERT_EQ(p.size(), 6u);
    EXPECT_EQ(p[0].chunk, FileContent::kHole);
    EXPECT_EQ(p[0].length, 10u);
    EXPECT_EQ(p[1].chunk, 0u);
    EXPECT_EQ(p[1].length, 20u);
    EXPECT_EQ(p[2].chunk, 1u);
    EXPECT_EQ(p[3].chunk, FileContent::kHole);
    EXPECT_EQ(p[3].length, 30u);
    EXPECT_EQ(p[4].chunk, 2u);
    EXPECT_EQ(p[5].chunk, FileContent::kHole);
    EXPECT_EQ(p[5].length, 20u);
    std::uint64_t total = 0;
    for (const auto& piece : p) total += piece.length;
    EXPECT_EQ(total, 100u);

    auto mid = f.plan_read(25, 10);  // 5 bytes of chunk 0 from 15, 5 of chunk 1
    ASSERT_EQ(mid.size(), 2u);
    EXPECT_EQ(mid[0].chunk, 0u);
    EXPECT_EQ(mid[0].offset_in_chunk, 15u);
    EXPECT_EQ(mid[0].length, 5u);
    EXPECT_EQ(mid[1].chunk, 1u);
    EXPECT_EQ(mid[1].offset_in_chunk, 0u);

    auto tail = f.plan_read(95, 1000);  // clipped at the end
    ASSERT_EQ(tail.size(), 1u);
    EXPECT_EQ(tail[0].length, 5u);
    EXPECT_TRUE(f.plan_read(100, 10).empty());
    EXPECT_TRUE(f.plan_read(1000, 10).empty());
}

TEST(FileContent, SeeksDataAndHoles) {
    FileContent f = sparse();
    EXPECT_EQ(f.seek_data(0), 10u);
    EXPECT_EQ(f.seek_data(15), 15u);
    EXPECT_EQ(f.seek_data(40), 70u);
    EXPECT_EQ(f.seek_data(80), std::nullopt);
    EXPECT_EQ(f.seek_data(100), std::nullopt);
    EXPECT_EQ(f.seek_hole(0), 0u);
    EXPECT_EQ(f.seek_hole(10), 40u);  // two adjacent chunks are one run of data
    EXPECT_EQ(f.seek_hole(35), 40u);
    EXPECT_EQ(f.seek_hole(50), 50u);
    EXPECT_EQ(f.seek_hole(75), 80u);
    EXPECT_EQ(f.seek_hole(99), 99u);
    EXPECT_EQ(f.seek_hole(100), std::nullopt);

    FileContent dense({{0, id_of(1), 50}, {50, id_of(2), 50}}, 100);
    EXPECT_EQ(dense.seek_hole(0), 100u);  // the end counts as a hole
    EXPECT_EQ(dense.seek_data(99), 99u);
    FileContent empty({}, 0);
    EXPECT_EQ(empty.seek_data(0), std::nullopt);
    FileContent all_hole({}, 4096);
    EXPECT_EQ(all_hole.seek_data(0), std::nullopt);
    EXPECT_EQ(all_hole.seek_hole(0), 0u);
}

TEST(FileContentCache, MakesEachFileOnceAndStaysWithinBudget) {
    int made = 0;
    auto make = [&](std::size_t chunks) {
        return [&made, chunks] {
            made++;
            std::vector<ChunkRef> list;
            for (std::size_t i = 0; i < chunks; ++i) list.push_back({i * 10, id_of(1), 10});
            return FileContent(list, chunks * 10);
        };
    };
    const std::size_t one = sizeof(ReadingFile) + 100 * sizeof(ChunkRef);
    FileContentCache cache(one * 2 + one / 2);
    auto a = cache.get(NodeKey{1, 1}, make(100));
    EXPECT_EQ(cache.get(NodeKey{1, 1}, make(100)), a);  // the same file, with its read state
    a->last_end = 42;
    cache.get(NodeKey{2, 1}, make(100));
    cache.get(NodeKey{1, 1}, make(100));
    cache.get(NodeKey{3, 1}, make(100));  // evicts key 2, the least recent
    EXPECT_EQ(made, 3);
    EXPECT_EQ(cache.count(), 2u);
    EXPECT_EQ(cache.get(NodeKey{1, 1}, make(100))->last_end, 42u);
    cache.get(NodeKey{2, 1}, make(100));
    EXPECT_EQ(made, 4);
    EXPECT_THROW(cache.get(NodeKey{9, 9}, [&]() -> FileContent { throw_corruption("damaged"); }),
                 StoreError);
    EXPECT_EQ(cache.get(NodeKey{9, 9}, make(1))->content.size(), 10u);  // failure not kept
}

TEST(ChunkCache, KeepsRecentChunksWithinItsCapacity) {
    std::atomic<int> loads{0};
    ChunkCache cache(
        [&](const BlobId& id) {
            loads++;
            return Bytes(100, id.bytes[0]);
        },
        250);
    EXPECT_EQ((*cache.get(id_of(1)))[0], 1);
    cache.get(id_of(2));
    cache.get(id_of(1));  // hit; 2 is now the least recent
    cache.get(id_of(3));  // 300 bytes > 250: 2 goes
    EXPECT_EQ(loads, 3);
    EXPECT_TRUE(cache.contains(id_of(1)));
    EXPECT_FALSE(cache.contains(id_of(2)));
    EXPECT_TRUE(cache.contains(id_of(3)));
    EXPECT_LE(cache.stats().bytes, 250u);
    EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(ChunkCache, LoadsOnceForConcurrentReadersAndForgetsFailures) {
    std::atomic<int> loads{0};
    std::atomic<bool> fail{true};
    ChunkCache cache(
        [&](const BlobId&) {
            loads++;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (fail) throw_corruption("damaged");
            return Bytes(10, 7);
        },
        1000);
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            try {
                cache.get(id_of(9));
            } catch (const StoreError& e) {
                if (e.kind() == StoreError::Kind::Corruption) errors++;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(loads, 1);   // one load, shared
    EXPECT_EQ(errors, 4);  // everyone saw the failure
    fail = false;
    EXPECT_EQ(cache.get(id_of(9))->size(), 10u);  // not remembered: tried again
    EXPECT_EQ(loads, 2);
}

TEST(ChunkCache, ChunkLargerThanTheCacheIsServedButNotKept) {
    ChunkCache cache([](const BlobId&) { return Bytes(500, 1); }, 100);
    EXPECT_EQ(cache.get(id_of(1))->size(), 500u);
    EXPECT_FALSE(cache.contains(id_of(1)));
    EXPECT_EQ(cache.stats().bytes, 0u);
}

TEST(ReadAhead, FetchesRequestedChunksIntoTheCache) {
    std::atomic<int> loads{0};
    ChunkCache cache(
        [&](const BlobId& id) {
            loads++;
            return Bytes(10, id.bytes[0]);
        },
        1000);
    {
        ReadAhead ahead(cache, 2);
        ahead.request({id_of(1), id_of(2), id_of(3), id_of(1)});
        for (int i = 0; i < 200 && !(cache.contains(id_of(1)) && cache.contains(id_of(2)) &&
                                     cache.contains(id_of(3)));
             ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(cache.contains(id_of(3)));
    EXPECT_EQ(loads, 3);
    cache.get(id_of(2));
    EXPECT_EQ(loads, 3);
}

TEST(TreeCache, StaysWithinItsBudgetButKeepsTheNewest) {
    std::atomic<int> loads{0};
    auto make = [&](const BlobId&) {
        loads++;
        Tree t(100);
        for (std::size_t i = 0; i < t.size(); ++i)
            t[i].name = "entry-with-a-long-name-" + std::to_string(i);
        return t;
    };
    const std::size_t one = approximate_size(make(id_of(0)));
    loads = 0;
    TreeCache cache(make, one * 2 + one / 2);
    cache.get(id_of(1));
    cache.get(id_of(2));
    cache.get(id_of(1));
    cache.get(id_of(3));  // evicts 2
    EXPECT_EQ(cache.count(), 2u);
    cache.get(id_of(1));
    EXPECT_EQ(loads, 3);
    cache.get(id_of(2));
    EXPECT_EQ(loads, 4);

    TreeCache tiny(make, 1);
    tiny.get(id_of(1));
    tiny.get(id_of(1));
    EXPECT_EQ(tiny.count(), 1u);
    EXPECT_EQ(loads, 5);
}

}  // namespace
}  // namespace strata::fs
