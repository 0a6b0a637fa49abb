// Input: the content of a forget record (store/repo/rollback_check.h), as an encrypted
// repository's envelope opens it or a plain repository stores it. It is rejected as corruption,
// or accepted, and what it says encodes and decodes back the same.
#include "store/repo/rollback_check.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ByteView input(data, size);
    ForgetRecord r;
    try {
        r = decode_forget_record(input);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "forget record rejected as corruption");
        return 0;
    }
    const ForgetRecord again = decode_forget_record(encode_forget_record(r));
    FUZZ_REQUIRE(again.snapshots == r.snapshots && again.time == r.time && again.host == r.host,
                 "an accepted forget record round-trips");
    return 0;
}
