// The content of one stored file as its chunk list says it is: which chunk slices and which
// holes make up a byte range, and where data and holes begin (for SEEK_DATA / SEEK_HOLE). Pure
// arithmetic on the list; fetching the chunks is the caller's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "store/format/tree.h"

namespace strata::fs {

class FileContent {
  public:
    // `chunks` ascending and non-overlapping within `size`, as decode_tree guarantees.
    FileContent(std::vector<ChunkRef> chunks, std::uint64_t size);

    std::uint64_t size() const { return size_; }
    const std::vector<ChunkRef>& chunks() const { return chunks_; }

    // A piece of a read: `length` bytes that are either zeros (a hole, `chunk` == kHole) or the
    // bytes of chunks()[chunk] from `offset_in_chunk`.
    static constexpr std::size_t kHole = static_cast<std::size_t>(-1);
    struct Piece {
        std::size_t chunk;
        std::uint64_t offset_in_chunk;
        std::uint64_t length;
    };
    // The pieces of [offset, offset + length) clipped to the file size, in order and contiguous.
    std::vector<Piece> plan_read(std::uint64_t offset, std::uint64_t length) const;

    // The index of the first chunk that ends after `offset` (chunks().size() if none).
    std::size_t chunk_after(std::uint64_t offset) const;

    // lseek(SEEK_DATA): the first offset at or after `offset` inside a chunk; nothing (ENXIO) if
    // none. lseek(SEEK_HOLE): the first offset at or after `offset` in a hole, the end of the
    // file counting as one; nothing (ENXIO) if `offset` is at or past the end.
    std::optional<std::uint64_t> seek_data(std::uint64_t offset) const;
    std::optional<std::uint64_t> seek_hole(std::uint64_t offset) const;

  private:
    std::vector<ChunkRef> chunks_;
    std::uint64_t size_;
};

}  // namespace strata::fs
