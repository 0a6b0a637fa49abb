// Input: an index object (store/format/index_object.h) without its name, so the fuzzer reaches
// the decoder past the SHA-256 check. Whatever decodes must lie inside each pack it names and
// re-encode to exactly the bytes it came from (the format has no alternative encodings), and each
// snapshot record it carries must match its id.
#include <cstring>

#include "store/base/bytes.h"
#include "store/format/format.h"
#include "store/format/index_object.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView object(data, size);
    IndexObject decoded;
    try {
        decoded = decode_index_object(object, *plain_blob_codec(3));
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption,
                     "index object rejected as corruption");
        return 0;
    }
    for (const auto& p : decoded.packs) {
        FUZZ_REQUIRE(p.size <= format::kMaxPackSize, "accepted pack within the size limit");
        for (const auto& e : p.entries)
            FUZZ_REQUIRE(e.offset <= p.size && e.stored_size <= p.size - e.offset,
                         "accepted blob lies inside its pack");
    }
    for (const auto& r : decoded.records)
        FUZZ_REQUIRE(sha256(r.record) == r.id, "accepted record matches its id");
    // Version 1 has no alternative encoding either, but re-encodes as version 2.
    if (size >= 8 && std::memcmp(data, format::kIndexObjectMagicV1, 8) == 0) return 0;
    Bytes again = encode_index_object(decoded);
    FUZZ_REQUIRE(again.size() == size && std::memcmp(again.data(), data, size) == 0,
                 "index object re-encodes to its bytes");
    return 0;
}
