// Input: one byte choosing the table, then an LMDB value of the blob table (BlobLocation) or the
// pack table (PackInfo). Both are fixed-width, so what decodes must re-encode to the same bytes.
#include "store/index/index.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    ByteView value(data + 1, size - 1);
    try {
        if (data[0] & 1) {
            PackInfo p = decode_pack_info(7, value);
            FUZZ_REQUIRE(p.seq == 7, "pack seq comes from the key");
            Bytes again = encode_pack_info(p);
            FUZZ_REQUIRE(Bytes(value.begin(), value.end()) == again, "pack value round trip");
        } else {
            BlobLocation l = decode_location(value);
            FUZZ_REQUIRE(l.type == format::BlobType::Data || l.type == format::BlobType::Tree,
                         "accepted blob type is known");
            Bytes again = encode_location(l);
            FUZZ_REQUIRE(Bytes(value.begin(), value.end()) == again, "blob value round trip");
        }
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "value rejected as corruption");
    }
    return 0;
}
