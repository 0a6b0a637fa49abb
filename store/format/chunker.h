// Content-defined chunking: a FastCDC-style gear rolling hash with normalized chunking
// (a stricter mask below the average size, a looser one above it), so that inserting or removing
// bytes in the middle of a file only changes the chunks around the edit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "store/base/bytes.h"

namespace strata {

struct ChunkerParams {
    std::uint32_t min_size;
    std::uint32_t avg_size;  // a power of two
    std::uint32_t max_size;
};

// The gear hash's 256 values, one per byte value. They decide where chunks end.
using GearTable = std::array<std::uint64_t, 256>;
// gear-fastcdc-v1's fixed table (docs/repository-format.md, "Chunking"). An encrypted repository
// will use a table derived from its chunker key instead (crypto::gear_table), so that the chunk
// lengths, and with them which files a repository holds, cannot be worked out without the key.
const GearTable& fixed_gear_table();

class Chunker {
  public:
    explicit Chunker(ChunkerParams p, const GearTable& gear = fixed_gear_table());

    // Length of the next chunk at the start of `data`. `at_end` says no more data follows `data`;
    // if it is false and no boundary is found within `data`, returns 0 (feed more data).
    // Thread-safe: the chunker holds no state between calls.
    std::size_t next_boundary(ByteView data, bool at_end) const;

    const ChunkerParams& params() const { return p_; }

  private:
    ChunkerParams p_;
    GearTable gear_;
    std::uint64_t mask_small_;  // used before avg_size: harder to match
    std::uint64_t mask_large_;  // used after avg_size: easier to match
};

}  // namespace strata
