// Reads of a remote pack in windows: blobs that follow one another cost one read, memory stays
// bounded, and a pack shorter than the index says still fails the read of a cut blob.
#include "store/repo/pack_windows.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "store/base/errors.h"
#include "tests/testlib/sample_tree.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

// Counts the reads that reach the local store under it.
class CountingStore final : public ObjectStore {
  public:
    explicit CountingStore(const std::string& root) : inner_(open_local_store(root)) {}
    std::atomic<int> reads{0};
    int delay_ms = 0;  // each read takes this long, like a GET
    std::unique_ptr<ObjectWriter> create() override { return inner_->create(); }
    void put(const std::string& n, ByteView d) override { inner_->put(n, d); }
    Bytes read(const std::string& n, std::uint64_t o, std::size_t l) override {
        ++reads;
        if (delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        return inner_->read(n, o, l);
    }
    Bytes read_all(const std::string& n) override { return inner_->read_all(n); }
    std::uint64_t size(const std::string& n) override { return inner_->size(n); }
    bool exists(const std::string& n) override { return inner_->exists(n); }
    std::vector<ObjectInfo> list(const std::string& p) override { return inner_->list(p); }
    void remove(const std::string& n) override { inner_->remove(n); }
    void discard_partial_writes() override {}

  private:
    std::unique_ptr<ObjectStore> inner_;
};

TEST(PackWindows, ConsecutiveBlobsCostOneReadPerWindow) {
    testing::TempDir dir;
    CountingStore store(dir.path());
    const std::string data = testing::random_data(10u << 20, 9);
    store.put("p", as_bytes(data));
    PackWindows w;
    // 2,000 blobs of 5,000 bytes, front to back: 10 MB in windows of 4 MiB is 3 reads.
    for (std::uint64_t off = 0; off + 5000 <= data.size() && off < 10'000'000; off += 5000) {
        Bytes b = w.read(store, "p", data.size(), off, 5000);
        ASSERT_EQ(std::string(b.begin(), b.end()), data.substr(off, 5000)) << off;
    }
    EXPECT_LE(store.reads, 4);
    // Back to the start: its window was the oldest of only three, still kept.
    int before = store.reads;
    w.read(store, "p", data.size(), 0, 100);
    EXPECT_EQ(store.reads, before);
}

// The mount reads smaller windows (StorageOptions::pack_window_bytes): the same blobs cost more
// reads, each no longer than the window.
TEST(PackWindows, AWindowIsAsLongAsItsOwnerAsks) {
    testing::TempDir dir;
    CountingStore store(dir.path());
    const std::string data = testing::random_data(10u << 20, 9);
    store.put("p", as_bytes(data));
    PackWindows w(1u << 20);
    for (std::uint64_t off = 0; off + 5000 <= 10'000'000; off += 5000) {
        Bytes b = w.read(store, "p", data.size(), off, 5000);
        ASSERT_EQ(std::string(b.begin(), b.end()), data.substr(off, 5000)) << off;
    }
    // 10 MB in windows of 1 MiB: 10 reads (a window starts at the blob that missed).
    EXPECT_GE(store.reads, 10);
    EXPECT_LE(store.reads, 11);
}

TEST(PackWindows, ReadersOfAWindowBeingFetchedWaitForItInsteadOfFetchingAgain) {
    testing::TempDir dir;
    CountingStore store(dir.path());
    const std::string data = testing::random_data(8u << 20, 3);
    store.put("p", as_bytes(data));
    store.delay_ms = 300;
    PackWindows w;
    // The mount's read-ahead workers: neighbouring chunks of one window, loaded at once.
    std::vector<std::thread> readers;
    std::atomic<int> wrong{0};
    for (int i = 0; i < 4; ++i) {
        readers.emplace_back([&, i] {
            std::this_thread::sleep_for(std::chrono::milliseconds(i ? 50 : 0));
            const std::uint64_t off = std::uint64_t(i) * 100000;
            Bytes b = w.read(store, "p", data.size(), off, 100000);
            if (std::string(b.begin(), b.end()) != data.substr(off, 100000)) wrong++;
        });
    }
    for (auto& t : readers) t.join();
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(store.reads, 1) << "one GET for the window all four lie in";
    // A failed fetch is not shared: the waiters fetch for themselves and see the error.
    store.delay_ms = 0;
    EXPECT_THROW(w.read(store, "absent", 1000, 0, 10), StoreError);
}

TEST(PackWindows, KeepsAtMostItsWindowsAndStopsAtThePacksEnd) {
    testing::TempDir dir;
    CountingStore store(dir.path());
    for (int i = 0; i < 12; ++i)
        store.put("p" + std::to_string(i), as_bytes(std::string(1000, 'a' + i)));
    PackWindows w;
    for (int i = 0; i < 12; ++i) {
        Bytes b = w.read(store, "p" + std::to_string(i), 1000, 10, 20);  // window: 10..1000
        EXPECT_EQ(std::string(b.begin(), b.end()), std::string(20, 'a' + i));
    }
    EXPECT_EQ(store.reads, 12);
    w.read(store, "p11", 1000, 500, 10);  // kept
    EXPECT_EQ(store.reads, 12);
    w.read(store, "p0", 1000, 500, 10);  // the oldest of 12 > kPackWindows: gone
    EXPECT_EQ(store.reads, 13);
    // The index says 1000 bytes but the pack has fewer: a blob past the cut fails as truncated.
    store.put("short", as_bytes(std::string(500, 'x')));
    EXPECT_THROW(w.read(store, "short", 1000, 400, 200), StoreError);
    // One before the cut still reads.
    Bytes b = w.read(store, "short", 1000, 100, 50);
    EXPECT_EQ(std::string(b.begin(), b.end()), std::string(50, 'x'));
}

}  // namespace
}  // namespace strata
