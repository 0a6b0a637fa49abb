#include "store/format/snapshot.h"

#include <gtest/gtest.h>

#include "store/format/format.h"
#include "tests/store/store_test_support.h"

namespace strata {
namespace {

SnapshotRecord sample(bool with_parent) {
    SnapshotRecord s;
    s.time_sec = 1763700000;
    s.time_nsec = 987654321;
    s.host = "host\xff-name";
    s.paths = {"/home/alice", std::string("/srv/\xfe\ndata", 11)};
    s.tags = {"a", "nightly"};
    s.note = "before upgrade";
    if (with_parent) s.parent = sha256(as_bytes("parent"));
    s.root = sha256(as_bytes("root tree"));
    s.root_meta.type = EntryType::Dir;
    s.root_meta.mode = 0751;
    s.root_meta.uid = 1234;
    s.root_meta.gid = 5678;
    s.root_meta.user = "alice";
    s.root_meta.mtime_sec = 1700000000;
    s.root_meta.mtime_nsec = 5;
    s.root_meta.xattrs = {{"user.root", "meta"}};
    s.root_meta.subtree = s.root;
    s.files = 1000;
    s.dirs = 20;
    s.bytes = 1ull << 40;
    s.bytes_added = 12345;
    s.blobs_added = 7;
    s.duration_ns = 1500000000;
    s.partial = true;
    return s;
}

void expect_same(const SnapshotRecord& a, const SnapshotRecord& b) {
    EXPECT_EQ(a.time_sec, b.time_sec);
    EXPECT_EQ(a.time_nsec, b.time_nsec);
    EXPECT_EQ(a.host, b.host);
    EXPECT_EQ(a.paths, b.paths);
    EXPECT_EQ(a.tags, b.tags);
    EXPECT_EQ(a.note, b.note);
    EXPECT_EQ(a.parent, b.parent);
    EXPECT_EQ(a.root, b.root);
    EXPECT_EQ(a.root_meta.mode, b.root_meta.mode);
    EXPECT_EQ(a.root_meta.uid, b.root_meta.uid);
    EXPECT_EQ(a.root_meta.gid, b.root_meta.gid);
    EXPECT_EQ(a.root_meta.user, b.root_meta.user);
    EXPECT_EQ(a.root_meta.mtime_sec, b.root_meta.mtime_sec);
    EXPECT_EQ(a.root_meta.mtime_nsec, b.root_meta.mtime_nsec);
    EXPECT_EQ(a.root_meta.xattrs, b.root_meta.xattrs);
    EXPECT_EQ(b.root_meta.subtree, b.root);
    EXPECT_EQ(b.root_meta.type, EntryType::Dir);
    EXPECT_EQ(a.files, b.files);
    EXPECT_EQ(a.dirs, b.dirs);
    EXPECT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(a.bytes_added, b.bytes_added);
    EXPECT_EQ(a.blobs_added, b.blobs_added);
    EXPECT_EQ(a.duration_ns, b.duration_ns);
    EXPECT_EQ(a.partial, b.partial);
}

TEST(Snapshot, RoundTrip) {
    for (bool parent : {true, false}) {
        SCOPED_TRACE(parent ? "with parent" : "without parent");
        SnapshotRecord s = sample(parent);
        expect_same(s, decode_snapshot(encode_snapshot(s)));
    }
    SnapshotRecord minimal;
    minimal.root = sha256(as_bytes("r"));
    minimal.root_meta.type = EntryType::Dir;
    expect_same(minimal, decode_snapshot(encode_snapshot(minimal)));
}

TEST(Snapshot, IdIsTheHashOfTheRecord) {
    Bytes a = encode_snapshot(sample(true));
    EXPECT_EQ(a, encode_snapshot(sample(true)));
    SnapshotRecord other = sample(true);
    other.note += ".";
    EXPECT_NE(sha256(encode_snapshot(other)), sha256(a));
    BlobId id = sha256(a);
    EXPECT_EQ(snapshot_object_name(id), std::string(format::kSnapshotDir) + "/" + id.hex());
}

TEST(Snapshot, EveryTruncationIsCorruption) {
    Bytes full = encode_snapshot(sample(true));
    for (std::size_t n = 0; n < full.size(); ++n) {
        Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        expect_store_error([&] { decode_snapshot(cut); }, StoreError::Kind::Corruption,
                           "truncated to " + std::to_string(n));
    }
    full.push_back(0);
    expect_store_error([&] { decode_snapshot(full); }, StoreError::Kind::Corruption, "trailing byte");
}

TEST(Snapshot, RejectsInconsistentRecords) {
    Bytes good = encode_snapshot(sample(false));
    Bytes magic = good;
    magic[1] ^= 1;
    expect_store_error([&] { decode_snapshot(magic); }, StoreError::Kind::Corruption, "magic");
    Bytes version = good;
    version[4] = format::kSnapshotVersion + 1;
    expect_store_error([&] { decode_snapshot(version); }, StoreError::Kind::Corruption, "version");
    SnapshotRecord nanos = sample(false);
    nanos.time_nsec = 1000000000;
    expect_store_error([&] { decode_snapshot(encode_snapshot(nanos)); }, StoreError::Kind::Corruption, "nanos");

    // The root entry must be an unnamed directory whose subtree is the record's root. The
    // encoder forces name, type and subtree, so craft the bytes: re-encode the entry by hand.
    auto with_root_entry = [&](const TreeEntry& meta) {
        SnapshotRecord s = sample(false);
        Encoder e;
        e.raw(std::string_view(format::kSnapshotMagic, 4));
        e.u8(format::kSnapshotVersion);
        e.i64(s.time_sec);
        e.u32(s.time_nsec);
        e.str(s.host);
        e.varint(s.paths.size());
        for (const auto& p : s.paths) e.str(p);
        e.varint(s.tags.size());
        for (const auto& t : s.tags) e.str(t);
        e.str(s.note);
        e.u8(0);
        e.raw(s.root.bytes);
        encode_entry(e, meta);
        for (int i = 0; i < 6; ++i) e.varint(1);
        e.u8(0);
        return e.take();
    };
    TreeEntry meta = sample(false).root_meta;
    EXPECT_NO_THROW(decode_snapshot(with_root_entry(meta))) << "the hand encoding must match the format";
    TreeEntry named = meta;
    named.name = "..";
    expect_store_error([&] { decode_snapshot(with_root_entry(named)); }, StoreError::Kind::Corruption, "named root");
    TreeEntry file = meta;
    file.type = EntryType::File;
    expect_store_error([&] { decode_snapshot(with_root_entry(file)); }, StoreError::Kind::Corruption, "file root");
    TreeEntry other = meta;
    other.subtree = sha256(as_bytes("elsewhere"));
    expect_store_error([&] { decode_snapshot(with_root_entry(other)); }, StoreError::Kind::Corruption,
                       "root mismatch");
}

}  // namespace
}  // namespace strata
