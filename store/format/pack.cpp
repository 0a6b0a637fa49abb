#include "store/format/pack.h"

#include <cstring>

namespace strata {

Bytes encode_pack_trailer(const std::vector<PackEntry>& entries) {
    Encoder t;
    t.raw(std::string_view(format::kPackTrailerMagic, 8));
    t.u32(static_cast<std::uint32_t>(entries.size()));
    for (const auto& e : entries) {
        t.raw(e.id.bytes);
        t.u8(static_cast<std::uint8_t>(e.type));
        t.u8(static_cast<std::uint8_t>(e.codec));
        t.u64(e.offset);
        t.u32(e.stored_size);
        t.u32(e.raw_size);
    }
    return t.take();
}

Bytes encode_pack_footer(std::uint32_t trailer_size, const BlobId& checksum) {
    Encoder f;
    f.u32(trailer_size);
    f.raw(std::string_view(format::kPackFooterMagic, 8));
    f.raw(checksum.bytes);
    return f.take();
}

void PackWriter::add(const BlobId& id, format::BlobType type, format::Codec codec, ByteView stored,
                     std::uint32_t raw_size) {
    entries_.push_back(
        {id, type, codec, out_->size(), static_cast<std::uint32_t>(stored.size()), raw_size});
    out_->append(stored);
    hash_.update(stored);
}

BlobId PackWriter::commit() {
    Bytes trailer = codec_.seal_trailer(encode_pack_trailer(entries_));
    out_->append(trailer);
    hash_.update(trailer);
    BlobId pack_id = hash_.finish();
    out_->append(encode_pack_footer(static_cast<std::uint32_t>(trailer.size()), pack_id));
    out_->commit(pack_object_name(pack_id));
    return pack_id;
}

PackFooter decode_pack_footer(ByteView footer) {
    Decoder d(footer, "pack footer");
    PackFooter f;
    f.trailer_size = d.u32();
    auto magic = d.raw(8);
    if (std::memcmp(magic.data(), format::kPackFooterMagic, 8) != 0) d.fail("bad magic");
    f.checksum = BlobId::from_bytes(d.raw(32));
    d.expect_done();
    return f;
}

std::vector<PackEntry> decode_pack_trailer(ByteView trailer, std::uint64_t data_end) {
    Decoder d(trailer, "pack trailer");
    auto magic = d.raw(8);
    if (std::memcmp(magic.data(), format::kPackTrailerMagic, 8) != 0) d.fail("bad magic");
    std::uint32_t n = d.u32();
    if (n > d.remaining() / format::kPackTrailerEntrySize)
        d.fail("entry count larger than trailer");
    std::vector<PackEntry> out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        PackEntry e;
        e.id = BlobId::from_bytes(d.raw(32));
        std::uint8_t type = d.u8(), codec = d.u8();
        if (type > 1) d.fail("unknown blob type " + std::to_string(type));
        if (codec > format::kMaxCodec) d.fail("unknown codec " + std::to_string(codec));
        e.type = static_cast<format::BlobType>(type);
        e.codec = static_cast<format::Codec>(codec);
        e.offset = d.u64();
        e.stored_size = d.u32();
        e.raw_size = d.u32();
        if (e.offset > data_end || e.stored_size > data_end - e.offset)
            d.fail("blob " + e.id.short_hex() + " lies outside the pack");
        const std::uint32_t limit =
            e.type == format::BlobType::Tree ? format::kMaxTreeBlobSize : format::kMaxBlobSize;
        if (e.raw_size > limit) d.fail("blob larger than the format allows");
        out.push_back(e);
    }
    d.expect_done();
    return out;
}

std::vector<PackEntry> open_pack_trailer(const BlobCodec& codec, Bytes stored, std::uint64_t size) {
    const std::uint64_t data_end = size - format::kPackFooterSize - stored.size();
    Bytes plain;
    try {
        plain = codec.open_trailer(std::move(stored));
    } catch (const StoreError& e) {
        throw_corruption(std::string("its trailer cannot be opened: ") + e.what());
    }
    return decode_pack_trailer(plain, data_end);
}

namespace {

std::vector<PackEntry> open_named_pack_trailer(const BlobCodec& codec, Bytes stored,
                                               std::uint64_t size, const std::string& name) {
    try {
        return open_pack_trailer(codec, std::move(stored), size);
    } catch (const StoreError& e) {
        throw_corruption(name + ": " + e.what());
    }
}

}  // namespace

std::vector<PackEntry> read_pack_trailer(ObjectStore& store, const BlobCodec& codec,
                                         const std::string& name) {
    return read_pack_trailer(store, codec, name, store.size(name));
}

std::vector<PackEntry> read_pack_trailer(ObjectStore& store, const BlobCodec& codec,
                                         const std::string& name, std::uint64_t size) {
    if (size < format::kPackFooterSize + 12) throw_corruption(name + ": too short to be a pack");
    Bytes fb = store.read(name, size - format::kPackFooterSize, format::kPackFooterSize);
    PackFooter f;
    try {
        f = decode_pack_footer(fb);
    } catch (const StoreError& e) {
        throw_corruption(name + ": " + e.what());
    }
    if (f.trailer_size > size - format::kPackFooterSize)
        throw_corruption(name + ": trailer length past the start of the pack");
    const std::uint64_t data_end = size - format::kPackFooterSize - f.trailer_size;
    return open_named_pack_trailer(codec, store.read(name, data_end, f.trailer_size), size, name);
}

std::vector<PackEntry> verify_pack_file(ObjectStore& store, const BlobCodec& codec,
                                        const std::string& name, Bytes* content) {
    Bytes all = store.read_all(name);
    if (all.size() < format::kPackFooterSize + 12)
        throw_corruption(name + ": too short to be a pack");
    const std::size_t body = all.size() - format::kPackFooterSize;
    PackFooter f;
    try {
        f = decode_pack_footer(ByteView(all).subspan(body));
    } catch (const StoreError& e) {
        throw_corruption(name + ": " + e.what());
    }
    BlobId actual = sha256(ByteView(all).subspan(0, body));
    if (actual != f.checksum) throw_corruption(name + ": pack checksum mismatch (content damaged)");
    auto named = pack_id_from_name(name);
    if (named && *named != actual)
        throw_corruption(name + ": pack content does not match its name");
    if (f.trailer_size > body)
        throw_corruption(name + ": trailer length past the start of the pack");
    const ByteView trailer = ByteView(all).subspan(body - f.trailer_size, f.trailer_size);
    std::vector<PackEntry> entries =
        open_named_pack_trailer(codec, Bytes(trailer.begin(), trailer.end()), all.size(), name);
    if (content) *content = std::move(all);
    return entries;
}

}  // namespace strata
