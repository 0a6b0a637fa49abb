// Index objects (docs/repository-format.md, "Index objects"): in a repository in an object store,
// what the trailers of some packs say, in one object, so that a host with an empty cache reads a
// few index objects instead of every pack's trailer. The object's name is the SHA-256 of its
// content; it is never changed. Pack trailers stay the truth: a pack that no index object lists
// is read from its own trailer. An index object also carries snapshot records (the bytes of
// snapshots/<id>), so that a fresh host need not fetch each record; the listing of snapshots/
// still says which snapshots exist.
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

// A snapshot record as snapshots/<id> holds it: `record` is its content (unsealed), `id` its name
// (BlobCodec::seal_object).
struct CarriedRecord {
    BlobId id;
    Bytes record;
};

struct IndexObject {
    std::vector<IndexedPack> packs;
    std::vector<CarriedRecord> records;
};

// The magic, the pack count, then for each pack its id, size, trailer length and trailer (as the
// pack ends with it: encode_pack_trailer); then the record count and each record's id, length
// and bytes.
Bytes encode_index_object(const IndexObject& object);
// Decodes and checks an index object: the magic, the counts against the length, each trailer as
// decode_pack_trailer checks it against the pack's size, and each record against its id (its
// content is decoded by whoever uses it). Reads version 1 too (no records). Throws Corruption
// naming what is wrong (not the object: the caller adds its name).
// A record's id is checked as `codec` names records (BlobCodec::seal_object).
IndexObject decode_index_object(ByteView data, const BlobCodec& codec);

}  // namespace strata
