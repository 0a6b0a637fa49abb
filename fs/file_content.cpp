#include "fs/file_content.h"

#include <algorithm>

namespace strata::fs {

FileContent::FileContent(std::vector<ChunkRef> chunks, std::uint64_t size)
    : chunks_(std::move(chunks)), size_(size) {}

std::size_t FileContent::chunk_after(std::uint64_t offset) const {
    auto it = std::upper_bound(
        chunks_.begin(), chunks_.end(), offset,
        [](std::uint64_t off, const ChunkRef& c) { return off < c.offset + c.size; });
    return static_cast<std::size_t>(it - chunks_.begin());
}

std::vector<FileContent::Piece> FileContent::plan_read(std::uint64_t offset,
                                                       std::uint64_t length) const {
    std::vector<Piece> out;
    if (offset >= size_) return out;
    const std::uint64_t end = offset + std::min(length, size_ - offset);
    std::uint64_t pos = offset;
    for (std::size_t i = chunk_after(offset); pos < end; ++i) {
        const std::uint64_t next_data = i < chunks_.size() ? std::min(chunks_[i].offset, end) : end;
        if (pos < next_data) {
            out.push_back({kHole, 0, next_data - pos});
            pos = next_data;
        }
        if (pos >= end) break;
        const ChunkRef& c = chunks_[i];
        const std::uint64_t take = std::min<std::uint64_t>(c.offset + c.size, end) - pos;
        out.push_back({i, pos - c.offset, take});
        pos += take;
    }
    return out;
}

std::optional<std::uint64_t> FileContent::seek_data(std::uint64_t offset) const {
    if (offset >= size_) return std::nullopt;
    std::size_t i = chunk_after(offset);
    if (i == chunks_.size()) return std::nullopt;
    return std::max(offset, chunks_[i].offset);
}

std::optional<std::uint64_t> FileContent::seek_hole(std::uint64_t offset) const {
    if (offset >= size_) return std::nullopt;
    std::uint64_t pos = offset;
    for (std::size_t i = chunk_after(offset); i < chunks_.size(); ++i) {
        if (chunks_[i].offset > pos) return pos;  // pos lies in the gap before chunk i
        pos = chunks_[i].offset + chunks_[i].size;
    }
    return std::min(pos, size_);
}

}  // namespace strata::fs
