#include "store/format/tree.h"

#include <algorithm>
#include <cstring>

#include "store/format/format.h"

namespace strata {

std::uint64_t TreeEntry::data_size() const {
    std::uint64_t n = 0;
    for (const auto& c : chunks) n += c.size;
    return n;
}

bool valid_entry_name(std::string_view name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

void encode_entry(Encoder& e, const TreeEntry& t) {
    {
        e.str(t.name);
        e.u8(static_cast<std::uint8_t>(t.type));
        e.varint(t.mode);
        e.varint(t.uid);
        e.varint(t.gid);
        e.str(t.user);
        e.str(t.group);
        e.svarint(t.mtime_sec);
        e.varint(t.mtime_nsec);
        e.svarint(t.ctime_sec);
        e.varint(t.ctime_nsec);
        e.varint(t.inode);
        e.varint(t.device);
        e.varint(t.size);
        e.varint(t.nlink);
        e.varint(t.rdev);
        e.varint(t.link_group);
        e.str(t.target);
        e.varint(t.xattrs.size());
        for (const auto& x : t.xattrs) {
            e.str(x.name);
            e.str(x.value);
        }
        if (t.type == EntryType::File) {
            e.varint(t.chunks.size());
            for (const auto& c : t.chunks) {
                e.varint(c.offset);
                e.raw(c.id.bytes);
                e.varint(c.size);
            }
        } else if (t.type == EntryType::Dir) {
            e.raw(t.subtree.bytes);
        }
    }
}

Bytes encode_tree(const std::vector<TreeEntry>& entries) {
    Encoder e;
    e.raw(std::string_view(format::kTreeMagic, 4));
    e.u8(format::kTreeVersion);
    e.varint(entries.size());
    for (const auto& t : entries) encode_entry(e, t);
    return e.take();
}

TreeEntry decode_entry(Decoder& d, bool is_root) {
    auto u32_of = [&](std::uint64_t v, const char* field) {
        if (v > 0xffffffffu) d.fail(std::string(field) + " out of range");
        return static_cast<std::uint32_t>(v);
    };
    TreeEntry t;
    t.name = d.str();
    if (is_root ? !t.name.empty() : !valid_entry_name(t.name)) d.fail("invalid entry name");
    std::uint8_t type = d.u8();
    if (type < 1 || type > 7) d.fail("unknown entry type " + std::to_string(type));
    t.type = static_cast<EntryType>(type);
    if (is_root && t.type != EntryType::Dir) d.fail("root entry is not a directory");
    t.mode = u32_of(d.varint(), "mode");
    if (t.mode > 07777) d.fail("mode has bits beyond 07777");
    t.uid = u32_of(d.varint(), "uid");
    t.gid = u32_of(d.varint(), "gid");
    t.user = d.str();
    t.group = d.str();
    t.mtime_sec = d.svarint();
    t.mtime_nsec = u32_of(d.varint(), "mtime_nsec");
    t.ctime_sec = d.svarint();
    t.ctime_nsec = u32_of(d.varint(), "ctime_nsec");
    if (t.mtime_nsec >= 1000000000u || t.ctime_nsec >= 1000000000u) d.fail("nanoseconds >= 1e9");
    t.inode = d.varint();
    t.device = d.varint();
    t.size = d.varint();
    t.nlink = u32_of(d.varint(), "nlink");
    t.rdev = d.varint();
    t.link_group = d.varint();
    t.target = d.str();
    std::size_t nx = d.count(2);
    t.xattrs.reserve(nx);
    for (std::size_t k = 0; k < nx; ++k) {
        Xattr x;
        x.name = d.str();
        x.value = d.str();
        if (x.name.empty() || x.name.find('\0') != std::string::npos) d.fail("invalid xattr name");
        t.xattrs.push_back(std::move(x));
    }
    if (t.type == EntryType::File) {
        std::size_t nc = d.count(34);
        t.chunks.reserve(nc);
        std::uint64_t end = 0;
        for (std::size_t k = 0; k < nc; ++k) {
            ChunkRef c;
            c.offset = d.varint();
            c.id = BlobId::from_bytes(d.raw(32));
            c.size = u32_of(d.varint(), "chunk size");
            if (c.offset < end) d.fail("chunks overlap or are out of order");
            if (c.size == 0 || c.size > format::kMaxBlobSize) d.fail("chunk size out of range");
            if (c.offset > t.size || c.size > t.size - c.offset) d.fail("chunk past end of file");
            end = c.offset + c.size;
            t.chunks.push_back(c);
        }
    } else if (t.type == EntryType::Dir) {
        t.subtree = BlobId::from_bytes(d.raw(32));
    }
    if (t.type == EntryType::Symlink && t.target.empty()) d.fail("symlink without target");
    return t;
}

std::vector<TreeEntry> decode_tree(ByteView data) {
    Decoder d(data, "tree");
    auto magic = d.raw(4);
    if (std::memcmp(magic.data(), format::kTreeMagic, 4) != 0) d.fail("bad magic");
    if (std::uint8_t v = d.u8(); v != format::kTreeVersion)
        d.fail("unsupported tree version " + std::to_string(v));
    // Every entry takes at least 20 bytes, which bounds the count by the data we have.
    std::size_t n = d.count(20);
    std::vector<TreeEntry> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        TreeEntry t = decode_entry(d, false);
        if (!out.empty() && !(out.back().name < t.name)) d.fail("entries not sorted or duplicated");
        out.push_back(std::move(t));
    }
    d.expect_done();
    return out;
}

const TreeEntry* find_entry(const std::vector<TreeEntry>& entries, std::string_view name) {
    auto it = std::lower_bound(entries.begin(), entries.end(), name,
                               [](const TreeEntry& e, std::string_view n) { return e.name < n; });
    return it == entries.end() || it->name != name ? nullptr : &*it;
}

}  // namespace strata
