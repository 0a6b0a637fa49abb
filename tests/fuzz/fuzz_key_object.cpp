// Input: the bytes of a key object (store/crypto/key_object.h). The decoder must refuse anything
// malformed as Corruption, never ask Argon2id for costs outside the bounds, and an accepted key
// object's fields must encode back to the bytes it came from (its header is exactly its prefix).
// Argon2id itself is not run: at its smallest cost it would slow fuzzing a thousandfold, and it
// reads only the decoded fields, which are checked here.
#include <algorithm>

#include "store/base/errors.h"
#include "store/crypto/envelope.h"
#include "store/crypto/key_object.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;
using namespace strata::crypto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    KeyObject k;
    try {
        k = decode_key_object(in);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "key object rejected as corruption");
        return 0;
    }
    FUZZ_REQUIRE(k.kdf.time_cost >= 1 && k.kdf.time_cost <= kMaxTimeCost, "time cost in bounds");
    FUZZ_REQUIRE(k.kdf.memory_kib >= kMinMemoryKib && k.kdf.memory_kib <= kMaxMemoryKib,
                 "memory cost in bounds");
    FUZZ_REQUIRE(k.host.size() <= 255, "host name bounded");
    FUZZ_REQUIRE(k.header.size() + k.nonce.size() + k.wrapped.size() == size,
                 "header, nonce and wrapped key make up the whole object");
    FUZZ_REQUIRE(std::equal(k.header.begin(), k.header.end(), data), "header is the prefix");
    FUZZ_REQUIRE(std::equal(k.nonce.begin(), k.nonce.end(), data + k.header.size()),
                 "nonce follows the header");
    FUZZ_REQUIRE(k.wrapped.size() == Key::kSize + kTagSize, "wrapped key is a sealed key");
    return 0;
}
