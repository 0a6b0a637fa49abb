// Index objects (docs/repository-format.md, "Index objects"): in a repository in an object store,
// what the trailers of some packs say, in one object, so that a host with an empty cache reads a
// few index objects instead of every pack's trailer. The object's name is the SHA-256 of its
// content; it is never changed. Pack trailers stay the truth: a pack that no index object lists
// is read from its own trailer.
#pragma once

#include <cstdint>
#include <vector>

#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/format/pack.h"

namespace strata {

struct IndexedPack {
    BlobId id;
    std::uint64_t size = 0;  // of the pack object
    std::vector<PackEntry> entries;
};

// The magic, the pack count, then for each pack its id, size, trailer length and trailer (as the
// pack ends with it: encode_pack_trailer).
Bytes encode_index_object(const std::vector<IndexedPack>& packs);
// Decodes and checks an index object: the magic, the counts against the length, and each trailer
// as decode_pack_trailer checks it against the pack's size. Throws Corruption naming what is
// wrong (not the object: the caller adds its name).
std::vector<IndexedPack> decode_index_object(ByteView data);

}  // namespace strata
