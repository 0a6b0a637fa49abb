// Blob compression with zstd. A blob that does not shrink is stored raw (Codec::Raw).
#pragma once

#include "store/base/bytes.h"
#include "store/format/format.h"

namespace strata {

struct Compressed {
    format::Codec codec;
    Bytes data;  // empty when codec is Raw: the caller keeps the plaintext
};

// Thread-safe; keeps one compression context per thread.
Compressed compress_blob(ByteView plain, int level);

// Decompresses `stored` (as found in a pack) into exactly `raw_size` bytes; throws Corruption if
// the frame is damaged or its size differs.
Bytes decompress_blob(format::Codec codec, ByteView stored, std::uint32_t raw_size);

}  // namespace strata
