// Content-defined chunking: a FastCDC-style gear rolling hash with normalized chunking
// (a stricter mask below the average size, a looser one above it), so that inserting or removing
// bytes in the middle of a file only changes the chunks around the edit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "store/base/bytes.h"

namespace strata {

struct ChunkerParams {
    std::uint32_t min_size;
    std::uint32_t avg_size;  // a power of two
    std::uint32_t max_size;
};

class Chunker {
  public:
    explicit Chunker(ChunkerParams p);

    // Length of the next chunk at the start of `data`. `at_end` says no more data follows `data`;
    // if it is false and no boundary is found within `data`, returns 0 (feed more data).
    // Thread-safe: the chunker holds no state between calls.
    std::size_t next_boundary(ByteView data, bool at_end) const;

    const ChunkerParams& params() const { return p_; }

  private:
    ChunkerParams p_;
    std::uint64_t mask_small_;  // used before avg_size: harder to match
    std::uint64_t mask_large_;  // used after avg_size: easier to match
};

}  // namespace strata
