// Input: a sealed object (store/crypto/envelope.h), preceded by one byte choosing the kind it is
// opened as. Under the target's fixed key, anything that is not what seal made for that kind and
// id must be refused as Corruption; what opens must seal and open again to the same plaintext.
// The seeds (corpus/envelope/) are sealed under this key and id, so mutations start from inputs
// that authenticate.
#include "store/base/errors.h"
#include "store/crypto/envelope.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;
using namespace strata::crypto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    Bytes key_bytes(Key::kSize);
    for (std::size_t i = 0; i < key_bytes.size(); ++i) key_bytes[i] = static_cast<std::uint8_t>(i);
    static const Key content(key_bytes);
    BlobId id;
    id.bytes.fill(0xab);
    const auto kind = static_cast<ObjectKind>(data[0] % 6);
    const ByteView sealed(data + 1, size - 1);
    Bytes plain;
    try {
        plain = open(content, kind, id, sealed);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "envelope rejected as corruption");
        return 0;
    }
    FUZZ_REQUIRE(sealed.size() == plain.size() + kEnvelopeOverhead, "overhead is fixed");
    FUZZ_REQUIRE(open(content, kind, id, seal(content, kind, id, plain)) == plain,
                 "an opened object seals and opens again");
    return 0;
}
