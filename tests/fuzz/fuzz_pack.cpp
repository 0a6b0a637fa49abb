// Input: a whole pack file. Decodes its footer and, without checking the SHA-256 (so the fuzzer
// reaches the trailer), its trailer. Whatever decodes must lie inside the pack and re-encode to
// exactly the bytes it came from (the pack format has no alternative encodings).
#include <cstring>

#include "store/base/bytes.h"
#include "store/format/format.h"
#include "store/format/pack.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

namespace {

// The trailer layout of docs/repository-format.md, "Packs", written independently of pack.cpp.
Bytes encode_trailer_per_spec(const std::vector<PackEntry>& entries) {
    Encoder e;
    e.raw(ByteView(reinterpret_cast<const std::uint8_t*>(format::kPackTrailerMagic), 8));
    e.u32(static_cast<std::uint32_t>(entries.size()));
    for (const auto& p : entries) {
        e.raw(p.id.bytes);
        e.u8(static_cast<std::uint8_t>(p.type));
        e.u8(static_cast<std::uint8_t>(p.codec));
        e.u64(p.offset);
        e.u32(p.stored_size);
        e.u32(p.raw_size);
    }
    return e.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView pack(data, size);
    if (size < format::kPackFooterSize) return 0;
    const std::size_t body = size - format::kPackFooterSize;
    PackFooter footer;
    try {
        footer = decode_pack_footer(pack.subspan(body));
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "footer rejected as corruption");
        return 0;
    }
    Encoder f;
    f.u32(footer.trailer_size);
    f.raw(ByteView(reinterpret_cast<const std::uint8_t*>(format::kPackFooterMagic), 8));
    f.raw(footer.checksum.bytes);
    FUZZ_REQUIRE(f.size() == format::kPackFooterSize &&
                     std::memcmp(f.bytes().data(), data + body, format::kPackFooterSize) == 0,
                 "footer re-encodes to its bytes");

    if (footer.trailer_size > body) return 0;  // read_pack_trailer rejects this before decoding
    const std::size_t data_end = body - footer.trailer_size;
    ByteView trailer = pack.subspan(data_end, footer.trailer_size);
    std::vector<PackEntry> entries;
    try {
        entries = decode_pack_trailer(trailer, data_end);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "trailer rejected as corruption");
        return 0;
    }
    for (const auto& e : entries) {
        FUZZ_REQUIRE(e.offset <= data_end && e.stored_size <= data_end - e.offset,
                     "accepted blob lies inside the pack's data");
        FUZZ_REQUIRE(e.raw_size <= (e.type == format::BlobType::Tree ? format::kMaxTreeBlobSize
                                                                     : format::kMaxBlobSize),
                     "accepted blob within the size limit");
    }
    Bytes again = encode_trailer_per_spec(entries);
    FUZZ_REQUIRE(again.size() == trailer.size() &&
                     std::memcmp(again.data(), trailer.data(), again.size()) == 0,
                 "trailer re-encodes to its bytes");
    return 0;
}
