// The retrying decorator around a store that fails on cue: passing failures are retried with
// growing waits, lasting ones pass through at once, a commit that failed is sent again.
#include "store/backend/retrying_store.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "store/base/errors.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

using namespace std::chrono_literals;

// Fails the next `failures` calls with `error`, then forwards to a local store.
class FlakyStore final : public ObjectStore {
  public:
    explicit FlakyStore(const std::string& root) : inner_(open_local_store(root)) {}
    int failures = 0;
    StoreError error{StoreError::Kind::Io, "HTTP 503 SlowDown", EAGAIN};
    int calls = 0;

    void maybe_fail() {
        ++calls;
        if (failures > 0) {
            --failures;
            throw error;
        }
    }
    std::unique_ptr<ObjectWriter> create() override {
        struct W final : ObjectWriter {
            FlakyStore& s;
            std::unique_ptr<ObjectWriter> inner;
            W(FlakyStore& st, std::unique_ptr<ObjectWriter> i) : s(st), inner(std::move(i)) {}
            void append(ByteView d) override { inner->append(d); }
            std::uint64_t size() const override { return inner->size(); }
            void commit(const std::string& n) override {
                s.maybe_fail();
                inner->commit(n);
            }
        };
        return std::make_unique<W>(*this, inner_->create());
    }
    void put(const std::string& n, ByteView d) override { maybe_fail(), inner_->put(n, d); }
    Bytes read(const std::string& n, std::uint64_t o, std::size_t l) override {
        maybe_fail();
        return inner_->read(n, o, l);
    }
    Bytes read_all(const std::string& n) override {
        maybe_fail();
        return inner_->read_all(n);
    }
    std::uint64_t size(const std::string& n) override {
        maybe_fail();
        return inner_->size(n);
    }
    bool exists(const std::string& n) override {
        maybe_fail();
        return inner_->exists(n);
    }
    std::vector<ObjectInfo> list(const std::string& p) override {
        maybe_fail();
        return inner_->list(p);
    }
    void remove(const std::string& n) override { maybe_fail(), inner_->remove(n); }
    void discard_partial_writes() override { inner_->discard_partial_writes(); }

  private:
    std::unique_ptr<ObjectStore> inner_;
};

struct Retrying : ::testing::Test {
    testing::TempDir dir;
    FlakyStore* flaky = nullptr;
    std::vector<std::chrono::milliseconds> waits;
    std::vector<std::string> heard;
    std::unique_ptr<ObjectStore> store;

    void SetUp() override {
        auto f = std::make_unique<FlakyStore>(dir.path());
        flaky = f.get();
        RetryPolicy p;
        p.attempts = 5;
        p.first_delay = 100ms;
        p.max_delay = 300ms;
        p.jitter = false;
        p.sleep = [this](std::chrono::milliseconds d) { waits.push_back(d); };
        p.on_retry = [this](const std::string& what, int, std::chrono::milliseconds) {
            heard.push_back(what);
        };
        store = open_retrying_store(std::move(f), p);
    }
};

TEST_F(Retrying, PassingFailuresAreRetriedWithGrowingWaits) {
    store->put("a", as_bytes("hello"));
    flaky->failures = 3;
    Bytes b = store->read_all("a");
    EXPECT_EQ(std::string(b.begin(), b.end()), "hello");
    EXPECT_EQ(waits, (std::vector<std::chrono::milliseconds>{100ms, 200ms, 300ms}));
    ASSERT_EQ(heard.size(), 3u);
    EXPECT_NE(heard[0].find("503 SlowDown"), std::string::npos);
}

TEST(RetryingJitter, WaitsAreDrawnFromTheUpperHalfOfEachDelay) {
    testing::TempDir dir;
    auto flaky = std::make_unique<FlakyStore>(dir.path());
    flaky->failures = 4;
    FlakyStore& f = *flaky;
    std::vector<std::chrono::milliseconds> waits;
    RetryPolicy p;
    p.first_delay = 1000ms;
    p.max_delay = 4000ms;
    p.sleep = [&](std::chrono::milliseconds d) { waits.push_back(d); };
    auto store = open_retrying_store(std::move(flaky), p);
    EXPECT_FALSE(store->exists("a"));
    ASSERT_EQ(waits.size(), 4u);
    const long delays[] = {1000, 2000, 4000, 4000};
    for (int i = 0; i < 4; ++i) {
        EXPECT_GE(waits[i].count(), delays[i] / 2);
        EXPECT_LE(waits[i].count(), delays[i]);
    }
    EXPECT_EQ(f.calls, 5);
}

TEST_F(Retrying, GivesUpAfterItsTriesAndSaysSo) {
    flaky->failures = 100;
    flaky->error = StoreError(StoreError::Kind::Io, "connection refused", ECONNREFUSED);
    try {
        store->list("packs");
        FAIL() << "no error";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.error_number(), ECONNREFUSED);
        EXPECT_NE(std::string(e.what()).find("gave up after 5 tries"), std::string::npos);
    }
    EXPECT_EQ(flaky->calls, 5);
}

TEST_F(Retrying, LastingFailuresPassThroughAtOnce) {
    flaky->failures = 1;
    flaky->error = StoreError(StoreError::Kind::Io, "permission denied", EACCES);
    EXPECT_THROW(store->exists("a"), StoreError);
    EXPECT_EQ(flaky->calls, 1);
    EXPECT_THROW(store->read_all("absent"), StoreError);  // NotFound: not retried
    EXPECT_EQ(flaky->calls, 2);
    EXPECT_TRUE(waits.empty());
}

TEST_F(Retrying, AFailedCommitIsSentAgainWithItsData) {
    auto w = store->create();
    w->append(as_bytes("pack "));
    w->append(as_bytes("bytes"));
    flaky->failures = 2;
    w->commit("packs/p");
    Bytes b = store->read_all("packs/p");
    EXPECT_EQ(std::string(b.begin(), b.end()), "pack bytes");
    EXPECT_EQ(waits.size(), 2u);
}

}  // namespace
}  // namespace strata
