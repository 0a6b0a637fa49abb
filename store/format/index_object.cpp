#include "store/format/index_object.h"

#include <cstring>
#include <string>

#include "store/format/format.h"

namespace strata {

Bytes encode_index_object(const IndexObject& object) {
    Encoder out;
    out.raw(std::string_view(format::kIndexObjectMagic, 8));
    out.u32(static_cast<std::uint32_t>(object.packs.size()));
    for (const auto& p : object.packs) {
        Bytes trailer = encode_pack_trailer(p.entries);
        out.raw(p.id.bytes);
        out.u64(p.size);
        out.u32(static_cast<std::uint32_t>(trailer.size()));
        out.raw(trailer);
    }
    out.u32(static_cast<std::uint32_t>(object.records.size()));
    for (const auto& r : object.records) {
        out.raw(r.id.bytes);
        out.u32(static_cast<std::uint32_t>(r.record.size()));
        out.raw(r.record);
    }
    return out.take();
}

IndexObject decode_index_object(ByteView data, const BlobCodec& codec) {
    Decoder d(data, "index object");
    auto magic = d.raw(8);
    const bool v1 = std::memcmp(magic.data(), format::kIndexObjectMagicV1, 8) == 0;
    if (!v1 && std::memcmp(magic.data(), format::kIndexObjectMagic, 8) != 0) d.fail("bad magic");
    const std::uint32_t n = d.u32();
    if (n > d.remaining() / format::kIndexObjectPackHeaderSize)
        d.fail("pack count larger than the object");
    IndexObject object;
    std::vector<IndexedPack>& out = object.packs;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        IndexedPack p;
        p.id = BlobId::from_bytes(d.raw(32));
        p.size = d.u64();
        const std::uint32_t trailer_size = d.u32();
        ByteView trailer = d.raw(trailer_size);
        if (p.size > format::kMaxPackSize ||
            p.size < std::uint64_t(format::kPackFooterSize) + trailer_size)
            d.fail("pack " + p.id.short_hex() + " is too small for its trailer or too large");
        try {
            p.entries =
                decode_pack_trailer(trailer, p.size - format::kPackFooterSize - trailer_size);
        } catch (const StoreError& e) {
            d.fail("pack " + p.id.short_hex() + ": " + e.what());
        }
        out.push_back(std::move(p));
    }
    if (!v1) {
        const std::uint32_t records = d.u32();
        if (records > d.remaining() / format::kIndexObjectRecordHeaderSize)
            d.fail("record count larger than the object");
        object.records.reserve(records);
        for (std::uint32_t i = 0; i < records; ++i) {
            CarriedRecord r;
            r.id = BlobId::from_bytes(d.raw(32));
            ByteView record = d.raw(d.u32());
            r.record.assign(record.begin(), record.end());
            if (codec.id_of(r.record) != r.id)
                d.fail("snapshot record " + r.id.short_hex() + " does not match its id");
            object.records.push_back(std::move(r));
        }
    }
    d.expect_done();
    return object;
}

}  // namespace strata
