#include "store/format/tree.h"

#include <gtest/gtest.h>

#include "store/format/format.h"
#include "tests/store/store_test_support.h"

namespace strata {
namespace {

BlobId id_of(const std::string& s) { return sha256(as_bytes(s)); }

void expect_same(const TreeEntry& a, const TreeEntry& b) {
    SCOPED_TRACE("entry " + a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.mode, b.mode);
    EXPECT_EQ(a.uid, b.uid);
    EXPECT_EQ(a.gid, b.gid);
    EXPECT_EQ(a.user, b.user);
    EXPECT_EQ(a.group, b.group);
    EXPECT_EQ(a.mtime_sec, b.mtime_sec);
    EXPECT_EQ(a.mtime_nsec, b.mtime_nsec);
    EXPECT_EQ(a.ctime_sec, b.ctime_sec);
    EXPECT_EQ(a.ctime_nsec, b.ctime_nsec);
    EXPECT_EQ(a.inode, b.inode);
    EXPECT_EQ(a.device, b.device);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(a.nlink, b.nlink);
    EXPECT_EQ(a.rdev, b.rdev);
    EXPECT_EQ(a.link_group, b.link_group);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.xattrs, b.xattrs);
    ASSERT_EQ(a.chunks.size(), b.chunks.size());
    for (std::size_t i = 0; i < a.chunks.size(); ++i) {
        EXPECT_EQ(a.chunks[i].offset, b.chunks[i].offset);
        EXPECT_EQ(a.chunks[i].id, b.chunks[i].id);
        EXPECT_EQ(a.chunks[i].size, b.chunks[i].size);
    }
    EXPECT_EQ(a.subtree, b.subtree);
}

TreeEntry base(const std::string& name, EntryType type) {
    TreeEntry e;
    e.name = name;
    e.type = type;
    e.mode = 0644;
    e.uid = 1000;
    e.gid = 100;
    e.user = "alice";
    e.group = "users";
    e.mtime_sec = 1700000000;
    e.mtime_nsec = 123456789;
    e.ctime_sec = 1700000001;
    e.ctime_nsec = 999999999;
    e.inode = 123456789012ull;
    e.device = 0x803;
    e.nlink = 1;
    return e;
}

// One entry of every type, each with the fields that type uses set to unusual values.
std::vector<TreeEntry> every_type() {
    std::vector<TreeEntry> v;
    TreeEntry blk = base("block", EntryType::BlockDev);
    blk.rdev = (8ull << 8) | 1;
    blk.mode = 0660;
    v.push_back(blk);
    TreeEntry chr = base("char", EntryType::CharDev);
    chr.rdev = 0xfff00000fff12345ull;
    chr.xattrs = {{"trusted.c", "dev"}};
    v.push_back(chr);
    TreeEntry dir = base("dir", EntryType::Dir);
    dir.mode = 01777;
    dir.nlink = 5;
    dir.subtree = id_of("subtree");
    dir.xattrs = {{"system.posix_acl_access", std::string("\x02\0\0\0\x01\0\x07\0\xff\xff\xff\xff", 12)},
                  {"system.posix_acl_default", std::string("\x02\0\0\0", 4)},
                  {"user.dir", ""}};
    v.push_back(dir);
    TreeEntry fifo = base("fifo", EntryType::Fifo);
    fifo.mode = 0;
    v.push_back(fifo);
    TreeEntry file = base("file", EntryType::File);
    file.mode = 06755;
    file.size = 100u << 20;  // holes between and after the chunks
    file.nlink = 3;
    file.link_group = 42;
    file.chunks = {{0, id_of("c0"), 1u << 20}, {(1u << 20) + 4096, id_of("c1"), 300000}, {50u << 20, id_of("c2"), 1}};
    file.xattrs = {{"security.capability", std::string("\x01\0\0\x02\0\x20\0\0", 8)},
                   {"trusted.t", std::string("\0\xff", 2)},
                   {"user.a", "1"}};
    v.push_back(file);
    TreeEntry empty = base("file-empty", EntryType::File);
    empty.size = 0;
    v.push_back(empty);
    TreeEntry old = base("file-old", EntryType::File);
    old.mtime_sec = -315619200;  // 1960
    old.ctime_sec = -1;
    v.push_back(old);
    TreeEntry sock = base("socket", EntryType::Socket);
    sock.mode = 0777;
    v.push_back(sock);
    TreeEntry link = base("symlink", EntryType::Symlink);
    link.target = std::string("../\xff\n/target", 13);
    link.size = link.target.size();
    link.mode = 0777;
    v.push_back(link);
    TreeEntry weird = base(std::string("z\xff\xfe\nname\t\x1b", 10), EntryType::File);
    weird.user = "";
    weird.group = "";
    weird.uid = 0xffffffffu;
    v.push_back(weird);
    return v;
}

TEST(Tree, RoundTripEveryEntryType) {
    auto entries = every_type();
    auto back = decode_tree(encode_tree(entries));
    ASSERT_EQ(back.size(), entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) expect_same(entries[i], back[i]);
    EXPECT_EQ(back[4].data_size(), (1u << 20) + 300000u + 1u);
}

TEST(Tree, EncodingIsDeterministic) {
    EXPECT_EQ(encode_tree(every_type()), encode_tree(every_type()));
    auto changed = every_type();
    changed[4].mtime_nsec++;
    EXPECT_NE(encode_tree(changed), encode_tree(every_type()));
    auto empty = decode_tree(encode_tree({}));
    EXPECT_TRUE(empty.empty());
}

TEST(Tree, RejectsBadNames) {
    for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a/b", "/", "/abs", "trailing/",
                                                           std::string("a\0b", 3), std::string(1, '\0')}) {
        TreeEntry e = base(bad, EntryType::File);
        std::string msg = expect_store_error([&] { decode_tree(encode_tree({e})); }, StoreError::Kind::Corruption,
                                             "name \"" + bad + "\"");
        EXPECT_NE(msg.find("name"), std::string::npos) << msg;
        EXPECT_FALSE(valid_entry_name(bad)) << bad;
    }
    for (const std::string good : {"...", ".hidden", "a b", "\xff", "-", "a\\b"}) {
        EXPECT_TRUE(valid_entry_name(good)) << good;
        EXPECT_EQ(decode_tree(encode_tree({base(good, EntryType::File)})).at(0).name, good);
    }
}

TEST(Tree, RejectsUnsortedAndDuplicateNames) {
    auto a = base("a", EntryType::File), b = base("b", EntryType::File);
    expect_store_error([&] { decode_tree(encode_tree({b, a})); }, StoreError::Kind::Corruption, "unsorted");
    expect_store_error([&] { decode_tree(encode_tree({a, a})); }, StoreError::Kind::Corruption, "duplicate");
    // Sorting is bytewise: 0xff sorts after ASCII.
    auto hi = base("\xff", EntryType::File);
    EXPECT_EQ(decode_tree(encode_tree({a, hi})).size(), 2u);
    expect_store_error([&] { decode_tree(encode_tree({hi, a})); }, StoreError::Kind::Corruption, "bytewise");
}

TEST(Tree, RejectsBadChunks) {
    TreeEntry f = base("f", EntryType::File);
    f.size = 1000;
    f.chunks = {{0, id_of("a"), 600}, {500, id_of("b"), 200}};
    expect_store_error([&] { decode_tree(encode_tree({f})); }, StoreError::Kind::Corruption, "overlapping");
    f.chunks = {{500, id_of("b"), 100}, {0, id_of("a"), 100}};
    expect_store_error([&] { decode_tree(encode_tree({f})); }, StoreError::Kind::Corruption, "out of order");
    f.chunks = {{900, id_of("a"), 101}};
    expect_store_error([&] { decode_tree(encode_tree({f})); }, StoreError::Kind::Corruption, "past the end");
    f.chunks = {{2000, id_of("a"), 1}};
    expect_store_error([&] { decode_tree(encode_tree({f})); }, StoreError::Kind::Corruption, "starts past the end");
    f.chunks = {{0, id_of("a"), 0}};
    expect_store_error([&] { decode_tree(encode_tree({f})); }, StoreError::Kind::Corruption, "empty chunk");
    f.size = 1ull << 40;
    f.chunks = {{0, id_of("a"), format::kMaxBlobSize + 1}};
    expect_store_error([&] { decode_tree(encode_tree({f})); }, StoreError::Kind::Corruption, "oversized chunk");
    f.chunks = {{UINT64_MAX - 10, id_of("a"), 100}};
    expect_store_error([&] { decode_tree(encode_tree({f})); }, StoreError::Kind::Corruption, "offset overflow");
    f.size = 1000;
    f.chunks = {{0, id_of("a"), 500}, {500, id_of("b"), 500}};  // adjacent is fine
    EXPECT_EQ(decode_tree(encode_tree({f})).at(0).chunks.size(), 2u);
}

TEST(Tree, RejectsOtherBadFields) {
    auto bad = [](const std::function<void(TreeEntry&)>& change, const char* what) {
        TreeEntry e = base("e", EntryType::File);
        change(e);
        expect_store_error([&] { decode_tree(encode_tree({e})); }, StoreError::Kind::Corruption, what);
    };
    bad([](TreeEntry& e) { e.mode = 010000; }, "mode beyond 07777");
    bad([](TreeEntry& e) { e.mtime_nsec = 1000000000; }, "mtime nanoseconds");
    bad([](TreeEntry& e) { e.ctime_nsec = 1000000000; }, "ctime nanoseconds");
    bad([](TreeEntry& e) { e.type = static_cast<EntryType>(0); }, "type 0");
    bad([](TreeEntry& e) { e.type = static_cast<EntryType>(8); }, "type 8");
    bad([](TreeEntry& e) {
        e.type = EntryType::Symlink;
        e.target.clear();
    }, "symlink without target");
    bad([](TreeEntry& e) { e.xattrs = {{"", "v"}}; }, "empty xattr name");
    bad([](TreeEntry& e) { e.xattrs = {{std::string("user.a\0b", 8), "v"}}; }, "xattr name with NUL");
}

TEST(Tree, RejectsDamagedFraming) {
    Bytes good = encode_tree(every_type());
    for (std::size_t n = 0; n < good.size(); n += 7) {
        Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        expect_store_error([&] { decode_tree(cut); }, StoreError::Kind::Corruption, "truncated to " + std::to_string(n));
    }
    Bytes extra = good;
    extra.push_back(0);
    expect_store_error([&] { decode_tree(extra); }, StoreError::Kind::Corruption, "trailing bytes");
    Bytes magic = good;
    magic[0] = 'X';
    expect_store_error([&] { decode_tree(magic); }, StoreError::Kind::Corruption, "magic");
    Bytes version = good;
    version[4] = format::kTreeVersion + 1;
    expect_store_error([&] { decode_tree(version); }, StoreError::Kind::Corruption, "version");
}

// Counts are checked against the bytes left before anything is reserved: a crafted count must
// give Corruption, not std::length_error or bad_alloc (or an attempt to allocate terabytes).
TEST(Tree, AbsurdCountsAreRejectedWithoutAllocating) {
    {
        Encoder e;
        e.raw(std::string_view(format::kTreeMagic, 4));
        e.u8(format::kTreeVersion);
        e.varint(1ull << 40);
        Bytes b = e.take();
        expect_store_error([&] { decode_tree(b); }, StoreError::Kind::Corruption, "entry count");
    }
    // A file entry with 0 xattrs and 0 chunks ends with two zero varints: replace them.
    TreeEntry f = base("f", EntryType::File);
    Bytes plain = encode_tree({f});
    ASSERT_EQ(plain.back(), 0);
    ASSERT_EQ(plain[plain.size() - 2], 0);
    {
        Bytes b(plain.begin(), plain.end() - 2);
        Encoder e;
        e.varint(1ull << 40);  // xattr count
        b.insert(b.end(), e.bytes().begin(), e.bytes().end());
        expect_store_error([&] { decode_tree(b); }, StoreError::Kind::Corruption, "xattr count");
    }
    {
        Bytes b(plain.begin(), plain.end() - 1);
        Encoder e;
        e.varint(1ull << 40);  // chunk count
        b.insert(b.end(), e.bytes().begin(), e.bytes().end());
        expect_store_error([&] { decode_tree(b); }, StoreError::Kind::Corruption, "chunk count");
    }
    {
        // A string length far beyond the data.
        Bytes b(plain.begin(), plain.begin() + 5 + 1);  // magic, version, count = 1
        Encoder e;
        e.varint(1ull << 40);
        b.insert(b.end(), e.bytes().begin(), e.bytes().end());
        b.push_back('x');
        expect_store_error([&] { decode_tree(b); }, StoreError::Kind::Corruption, "name length");
    }
}

}  // namespace
}  // namespace strata
