// An encrypted repository opened in process (store/repo/repository.cpp, codec_for): the password
// from the storage options, the keyed chunker, and blobs placed in packs in an order that does
// not follow the file's.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "store/format/object_names.h"
#include "store/format/pack.h"
#include "store/format/tree.h"
#include "store/ingest/ingest.h"
#include "store/repo/repository.h"
#include "store/repo/storage.h"
#include "tests/store/store_test_support.h"
#include "tests/testlib/sample_tree.h"
#include "tests/testlib/temp_dir.h"

namespace strata {
namespace {

struct PasswordGiven {
    explicit PasswordGiven(std::string password) : before(storage_options()) {
        StorageOptions o = before;
        o.password = [password](const std::string&) { return password; };
        set_storage_options(o);
    }
    ~PasswordGiven() { set_storage_options(before); }
    StorageOptions before;
};

InitOptions encrypted(const std::string& password) {
    InitOptions o = default_init_options();
    o.password = password;
    o.kdf = {1, crypto::kMinMemoryKib};
    return o;
}

// The chunk ids of the one file in the snapshot's root.
std::vector<BlobId> chunks_of_file(Repository& repo, const std::string& name) {
    const auto snaps = repo.snapshots();
    for (const auto& e : repo.load_tree(snaps.back().rec.root))
        if (e.name == name) {
            std::vector<BlobId> out;
            for (const auto& c : e.chunks) out.push_back(c.id);
            return out;
        }
    return {};
}

TEST(EncryptedRepository, BlobsGoIntoPacksInAnotherOrderThanTheFiles) {
    testing::TempDir dir;
    const std::string repo_dir = dir / "repo", src = dir / "src";
    Repository::init(repo_dir, encrypted("pw"));
    ::mkdir(src.c_str(), 0755);
    testing::write_random_file(src + "/big.bin", 24u << 20, 5);  // about 24 chunks
    PasswordGiven given("pw");
    auto repo = Repository::open(repo_dir);
    IngestOptions o;
    o.paths = {src};
    ingest(*repo, o);
    const std::vector<BlobId> file_order = chunks_of_file(*repo, "big.bin");
    ASSERT_GE(file_order.size(), 12u);
    std::vector<BlobId> stored_order;
    for (const auto& p : repo->index().packs())
        for (const auto& e :
             read_pack_trailer(repo->objects(), repo->codec(), pack_object_name(p.id)))
            if (e.type == format::BlobType::Data) stored_order.push_back(e.id);
    // Every chunk stored once, but not in the file's order.
    std::vector<BlobId> a = file_order, b = stored_order;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b);
    EXPECT_NE(stored_order, file_order);
}

TEST(EncryptedRepository, OpensOnlyWithItsPasswordAndCutsWithAKeyedChunker) {
    testing::TempDir dir;
    const std::string a_dir = dir / "a", b_dir = dir / "b", src = dir / "src";
    Repository::init(a_dir, encrypted("pw"));
    Repository::init(b_dir, encrypted("pw"));
    ::mkdir(src.c_str(), 0755);
    testing::write_random_file(src + "/big.bin", 8u << 20, 6);
    expect_store_error([&] { Repository::open(a_dir); }, StoreError::Kind::Password,
                       "no password source");
    {
        PasswordGiven wrong("not it");
        expect_store_error([&] { Repository::open(a_dir); }, StoreError::Kind::Password,
                           "a wrong password");
    }
    PasswordGiven given("pw");
    auto a = Repository::open(a_dir);
    auto b = Repository::open(b_dir);
    EXPECT_NE(a->config().unlocked, nullptr);
    EXPECT_EQ(a->config().encryption(), "aes-256-gcm");
    IngestOptions o;
    o.paths = {src};
    ingest(*a, o);
    ingest(*b, o);
    const auto in_a = chunks_of_file(*a, "big.bin"), in_b = chunks_of_file(*b, "big.bin");
    ASSERT_FALSE(in_a.empty());
    // Other keys: other ids for every chunk (and almost surely other cut points).
    for (const auto& id : in_a) EXPECT_EQ(std::count(in_b.begin(), in_b.end(), id), 0);
}

}  // namespace
}  // namespace strata
