// The read-side helpers of reader.h, against an in-memory RepositoryReader.
#include "store/repo/reader.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/store/store_test_support.h"

namespace strata {
namespace {

Snapshot with_id(const std::string& hex64, std::int64_t time) {
    Snapshot s;
    s.id = *BlobId::from_hex(hex64);
    s.rec.time_sec = time;
    return s;
}

std::string hex_id(const std::string& prefix) { return prefix + std::string(64 - prefix.size(), '0'); }

class ResolveTest : public ::testing::Test {
protected:
    // Oldest first, as RepositoryReader::snapshots() returns them.
    std::vector<Snapshot> all = {with_id(hex_id("abcd1"), 1), with_id(hex_id("abcd2"), 2),
                                 with_id(hex_id("0123"), 3), with_id(hex_id("fedcba"), 4)};
};

TEST_F(ResolveTest, FullIdPrefixAndLatest) {
    EXPECT_EQ(&resolve_snapshot(all, hex_id("abcd1")), &all[0]);
    EXPECT_EQ(&resolve_snapshot(all, "abcd2"), &all[1]);
    EXPECT_EQ(&resolve_snapshot(all, "0123"), &all[2]);
    EXPECT_EQ(&resolve_snapshot(all, "FEDC"), &all[3]) << "hex digits in either case";
    EXPECT_EQ(&resolve_snapshot(all, "latest"), &all[3]);
}

TEST_F(ResolveTest, AmbiguousUnknownAndMalformed) {
    std::string msg = expect_store_error([&] { resolve_snapshot(all, "abcd"); }, StoreError::Kind::Usage, "ambiguous");
    EXPECT_NE(msg.find("ambiguous"), std::string::npos) << msg;
    msg = expect_store_error([&] { resolve_snapshot(all, "9999"); }, StoreError::Kind::NotFound, "unknown");
    EXPECT_NE(msg.find("9999"), std::string::npos) << msg;
    expect_store_error([&] { resolve_snapshot(all, hex_id("9")); }, StoreError::Kind::NotFound, "unknown full id");
    msg = expect_store_error([&] { resolve_snapshot(all, "abc"); }, StoreError::Kind::Usage, "3 digits");
    EXPECT_NE(msg.find("4"), std::string::npos) << "says how many digits are needed: " << msg;
    expect_store_error([&] { resolve_snapshot(all, ""); }, StoreError::Kind::Usage, "empty");
    expect_store_error([&] { resolve_snapshot(all, "abcz"); }, StoreError::Kind::Usage, "not hex");
    expect_store_error([&] { resolve_snapshot(all, hex_id("abcd1") + "0"); }, StoreError::Kind::Usage, "65 digits");
    expect_store_error([&] { resolve_snapshot(all, "Latest"); }, StoreError::Kind::Usage, "Latest");
    std::vector<Snapshot> none;
    expect_store_error([&] { resolve_snapshot(none, "latest"); }, StoreError::Kind::NotFound, "empty repository");
}

// Trees in memory, keyed by the hash of their encoding.
class MemoryReader final : public RepositoryReader {
public:
    BlobId add(const std::vector<TreeEntry>& entries) {
        Bytes b = encode_tree(entries);
        BlobId id = sha256(b);
        trees_[id] = b;
        return id;
    }
    std::vector<Snapshot> snapshots() override { return {}; }
    std::uint64_t snapshot_generation() override { return 0; }
    std::vector<TreeEntry> load_tree(const BlobId& id) override {
        auto it = trees_.find(id);
        if (it == trees_.end()) throw_not_found("tree " + id.short_hex());
        return decode_tree(it->second);
    }
    Bytes load_data(const BlobId&) override { throw_not_found("no data here"); }

private:
    std::map<BlobId, Bytes> trees_;
};

TEST(FindPath, WalksTrees) {
    MemoryReader repo;
    TreeEntry file;
    file.name = "report.odt";
    file.type = EntryType::File;
    file.size = 3;
    TreeEntry link;
    link.name = "link";
    link.type = EntryType::Symlink;
    link.target = "docs";
    link.size = 4;
    TreeEntry docs;
    docs.name = "docs";
    docs.type = EntryType::Dir;
    docs.subtree = repo.add({file});
    Snapshot s;
    s.rec.root = repo.add({docs, link});
    s.rec.root_meta.type = EntryType::Dir;
    s.rec.root_meta.mode = 0750;

    for (const std::string root : {"", "/", ".", "//"}) {
        TreeEntry r = find_path(repo, s, root);
        EXPECT_EQ(r.type, EntryType::Dir) << root;
        EXPECT_EQ(r.subtree, s.rec.root) << root;
        EXPECT_EQ(r.mode, 0750u) << root;
    }
    EXPECT_EQ(find_path(repo, s, "docs").subtree, docs.subtree);
    for (const std::string p : {"docs/report.odt", "/docs/report.odt", "docs//report.odt", "./docs/report.odt"})
        EXPECT_EQ(find_path(repo, s, p).name, "report.odt") << p;

    std::string msg = expect_store_error([&] { find_path(repo, s, "docs/missing.txt"); },
                                         StoreError::Kind::NotFound, "missing file");
    EXPECT_NE(msg.find("docs/missing.txt"), std::string::npos) << msg;
    msg = expect_store_error([&] { find_path(repo, s, "nope/report.odt"); }, StoreError::Kind::NotFound,
                             "missing directory");
    EXPECT_NE(msg.find("nope"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("report.odt"), std::string::npos) << "names the first missing component: " << msg;
    expect_store_error([&] { find_path(repo, s, "docs/report.odt/x"); }, StoreError::Kind::NotFound,
                       "through a file");
    // Symlinks are entries, never followed.
    EXPECT_EQ(find_path(repo, s, "link").type, EntryType::Symlink);
    expect_store_error([&] { find_path(repo, s, "link/report.odt"); }, StoreError::Kind::NotFound,
                       "through a symlink");
    // ".." is a name like any other, and no tree holds it.
    expect_store_error([&] { find_path(repo, s, "docs/../docs"); }, StoreError::Kind::NotFound, "dot-dot");
}

}  // namespace
}  // namespace strata
