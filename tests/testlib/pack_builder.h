// A pack built in memory, for tests that craft packs byte by byte (production code streams packs
// through PackWriter, store/format/pack.h).
#pragma once

#include <vector>

#include "store/format/pack.h"

namespace strata {

// Collects blobs in memory until the pack is full. Not thread-safe.
class PackBuilder {
public:
    void add(const BlobId& id, format::BlobType type, format::Codec codec, ByteView stored,
             std::uint32_t raw_size);
    std::size_t size() const { return data_.size(); }
    bool empty() const { return entries_.empty(); }
    const std::vector<PackEntry>& entries() const { return entries_; }
    // Appends trailer and footer; returns the finished pack and its id. The builder is left empty.
    Bytes finish(BlobId& pack_id);

private:
    Bytes data_;
    std::vector<PackEntry> entries_;
};

}  // namespace strata
