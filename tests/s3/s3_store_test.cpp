// The S3 object store against a real radosgw: the ObjectStore contract (whole and ranged reads,
// listings with sizes across pages, removal, streamed writes that appear only on commit), and
// what a user sees when the bucket, the credentials or the store itself are wrong.
#include "store/backend/s3/s3_store.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>

#include "store/backend/retrying_store.h"
#include "store/base/errors.h"
#include "tests/s3/s3_support.h"
#include "tests/testlib/sample_tree.h"

namespace strata::testing {
namespace {

std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

s3::S3StoreOptions options_for(const std::string& location) {
    s3::S3StoreOptions o;
    o.location = s3::parse_s3_location(location);
    o.credentials = s3::load_aws_credentials();
    return o;
}

struct S3StoreTest : ::testing::Test {
    std::string location = fresh_s3_location("some/prefix");
    s3::S3StoreOptions options = options_for(location);
    std::unique_ptr<ObjectStore> store;
    void SetUp() override {
        s3::create_bucket_if_missing(options);
        store = s3::open_s3_store(options);
    }
};

TEST_F(S3StoreTest, PutReadRangesSizeExistsRemove) {
    const std::string data = random_data(100000, 7);
    store->put("packs/ab/one.pack", as_bytes(data));
    EXPECT_EQ(text(store->read_all("packs/ab/one.pack")), data);
    EXPECT_EQ(text(store->read("packs/ab/one.pack", 99990, 10)), data.substr(99990));
    EXPECT_EQ(text(store->read("packs/ab/one.pack", 12345, 6789)), data.substr(12345, 6789));
    EXPECT_EQ(store->size("packs/ab/one.pack"), 100000u);
    EXPECT_TRUE(store->exists("packs/ab/one.pack"));
    EXPECT_FALSE(store->exists("packs/ab/two.pack"));
    // Reading past the end is damage (a truncated object), not a short answer.
    try {
        store->read("packs/ab/one.pack", 99995, 10);
        FAIL() << "read past the end";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << e.what();
    }
    try {
        store->read_all("packs/ab/two.pack");
        FAIL() << "read an absent object";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::NotFound) << e.what();
        EXPECT_NE(std::string(e.what()).find(location + "/packs/ab/two.pack"), std::string::npos)
            << e.what();
    }
    store->remove("packs/ab/one.pack");
    EXPECT_FALSE(store->exists("packs/ab/one.pack"));
    store->remove("packs/ab/one.pack");  // absent: not an error
    // Replacing is atomic: the new content, whole.
    store->put("config", as_bytes("first"));
    store->put("config", as_bytes("second"));
    EXPECT_EQ(text(store->read_all("config")), "second");
}

TEST_F(S3StoreTest, ListingsGiveNamesBelowThePrefixWithSizesAcrossPages) {
    // More than one page of 1000 keys, and keys outside the folder that must not show.
    for (int i = 0; i < 1005; ++i)
        store->put("snapshots/" + std::to_string(100000 + i), as_bytes(std::string(i % 7, 'x')));
    store->put("snapshotsX", as_bytes("not in the folder"));
    store->put("packs/00/p", as_bytes("p"));
    auto listed = store->list("snapshots");
    ASSERT_EQ(listed.size(), 1005u);
    for (int i = 0; i < 1005; ++i) {
        EXPECT_EQ(listed[i].name, "snapshots/" + std::to_string(100000 + i));
        EXPECT_EQ(listed[i].size, static_cast<std::uint64_t>(i % 7));
        EXPECT_GT(listed[i].mtime, 1700000000);
    }
    auto all = store->list("");
    EXPECT_EQ(all.size(), 1007u);
    EXPECT_TRUE(store->list("index").empty());
}

TEST_F(S3StoreTest, StreamedWritesAppearOnlyWhenCommitted) {
    const std::string a = random_data(3 << 20, 1), b = random_data(1 << 20, 2);
    {
        auto w = store->create();
        w->append(as_bytes(a));
        w->append(as_bytes(b));
        EXPECT_EQ(w->size(), a.size() + b.size());
        EXPECT_FALSE(store->exists("packs/cd/big.pack"));
        w->commit("packs/cd/big.pack");
    }
    EXPECT_EQ(text(store->read_all("packs/cd/big.pack")), a + b);
    {
        auto w = store->create();
        w->append(as_bytes(a));
        // destroyed uncommitted: nothing is stored
    }
    EXPECT_EQ(store->list("packs").size(), 1u);
}

TEST_F(S3StoreTest, NamesWithCharactersThatNeedEncoding) {
    for (std::string name : {"a b/c+d=e", "x/ü€/y", "t/%41~_.-"}) {
        store->put(name, as_bytes(name));
        EXPECT_EQ(text(store->read_all(name)), name);
    }
    auto all = store->list("");
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].name, "a b/c+d=e");
}

TEST_F(S3StoreTest, WrongSecretIsRefusedNamingTheCredentials) {
    s3::S3StoreOptions bad = options;
    bad.credentials.secret_access_key += "x";
    auto s = s3::open_s3_store(bad);
    try {
        s->read_all("config");
        FAIL() << "a wrong secret was accepted";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Io);
        EXPECT_EQ(e.error_number(), EACCES);
        const std::string m = e.what();
        EXPECT_NE(m.find("refused the credentials"), std::string::npos) << m;
        EXPECT_NE(m.find("AWS_ACCESS_KEY_ID"), std::string::npos) << m;
        EXPECT_NE(m.find("access key " + options.credentials.access_key_id), std::string::npos)
            << m;
        EXPECT_EQ(m.find(options.credentials.secret_access_key), std::string::npos) << m;
    }
}

TEST_F(S3StoreTest, MissingBucketSaysSoAndHowToCreateIt) {
    s3::S3StoreOptions other = options_for(fresh_s3_location());
    auto s = s3::open_s3_store(other);
    try {
        s->list("snapshots");
        FAIL() << "listed a bucket that does not exist";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::NotFound);
        EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("strata init"), std::string::npos) << e.what();
    }
}

TEST(S3StoreUnreachable, RefusedConnectionsAreRetriedThenReported) {
    ceph_endpoint();  // the credentials
    // Port 9 (discard): nothing listens on it here.
    s3::S3StoreOptions o = options_for("s3:http://127.0.0.1:9/some-bucket");
    RetryPolicy p;
    p.attempts = 3;
    p.first_delay = std::chrono::milliseconds(10);
    int retries = 0;
    p.on_retry = [&](const std::string&, int, std::chrono::milliseconds) { ++retries; };
    auto s = open_retrying_store(s3::open_s3_store(o), p);
    try {
        s->read_all("config");
        FAIL() << "read from nowhere";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Io);
        EXPECT_EQ(e.error_number(), ECONNREFUSED) << e.what();
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:9"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("gave up after 3 tries"), std::string::npos);
    }
    EXPECT_EQ(retries, 2);
}

}  // namespace
}  // namespace strata::testing
