#include "store/format/snapshot.h"

#include <cstring>

#include "store/format/format.h"

namespace strata {

Bytes encode_snapshot(const SnapshotRecord& s) {
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
    e.u8(s.parent ? 1 : 0);
    if (s.parent) e.raw(s.parent->bytes);
    e.raw(s.root.bytes);
    TreeEntry meta = s.root_meta;
    meta.name.clear();
    meta.type = EntryType::Dir;
    meta.subtree = s.root;
    encode_entry(e, meta);
    e.varint(s.files);
    e.varint(s.dirs);
    e.varint(s.bytes);
    e.varint(s.bytes_added);
    e.varint(s.blobs_added);
    e.varint(s.duration_ns);
    e.u8(s.partial ? 1 : 0);
    return e.take();
}

SnapshotRecord decode_snapshot(ByteView data) {
    Decoder d(data, "snapshot record");
    auto magic = d.raw(4);
    if (std::memcmp(magic.data(), format::kSnapshotMagic, 4) != 0) d.fail("bad magic");
    if (std::uint8_t v = d.u8(); v != format::kSnapshotVersion)
        d.fail("unsupported snapshot version " + std::to_string(v));
    SnapshotRecord s;
    s.time_sec = d.i64();
    s.time_nsec = d.u32();
    if (s.time_nsec >= 1000000000u) d.fail("nanoseconds >= 1e9");
    s.host = d.str();
    for (std::size_t n = d.count(1), i = 0; i < n; ++i) s.paths.push_back(d.str());
    for (std::size_t n = d.count(1), i = 0; i < n; ++i) s.tags.push_back(d.str());
    s.note = d.str();
    if (std::uint8_t has = d.u8(); has == 1)
        s.parent = BlobId::from_bytes(d.raw(32));
    else if (has != 0)
        d.fail("bad parent flag");
    s.root = BlobId::from_bytes(d.raw(32));
    s.root_meta = decode_entry(d, true);
    if (s.root_meta.subtree != s.root) d.fail("root entry does not match the root tree");
    s.files = d.varint();
    s.dirs = d.varint();
    s.bytes = d.varint();
    s.bytes_added = d.varint();
    s.blobs_added = d.varint();
    s.duration_ns = d.varint();
    std::uint8_t partial = d.u8();
    if (partial > 1) d.fail("bad partial flag");
    s.partial = partial == 1;
    d.expect_done();
    return s;
}

}  // namespace strata
