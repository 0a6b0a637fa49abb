// Input: one byte codec, four bytes claimed raw size (little-endian), then the stored blob, as a
// pack entry or index value would present them. decompress_blob must return exactly the claimed
// size or throw Corruption, and must not allocate beyond the format's blob limit.
#include "store/format/compress.h"
#include "tests/fuzz/fuzz_check.h"

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 5) return 0;
    const auto codec = static_cast<format::Codec>(data[0]);
    const std::uint32_t raw_size = std::uint32_t(data[1]) | std::uint32_t(data[2]) << 8 |
                                   std::uint32_t(data[3]) << 16 | std::uint32_t(data[4]) << 24;
    ByteView stored(data + 5, size - 5);
    Bytes plain;
    try {
        plain = decompress_blob(codec, stored, raw_size);
    } catch (const StoreError& e) {
        FUZZ_REQUIRE(e.kind() == StoreError::Kind::Corruption, "blob rejected as corruption");
        return 0;
    }
    FUZZ_REQUIRE(plain.size() == raw_size, "decompressed size is the claimed size");
    // What decompresses must compress and decompress back to itself.
    Compressed c = compress_blob(plain, 1);
    Bytes back = c.codec == format::Codec::Raw ? plain : decompress_blob(c.codec, c.data, raw_size);
    FUZZ_REQUIRE(back == plain, "compress/decompress round trip");
    return 0;
}
