// Pack files (docs/repository-format.md, "Packs"): blobs back to back, a trailer that lists every
// blob, and a footer holding the trailer's length and the SHA-256 of everything before the footer.
// That hash is the pack's id and its file name, so a pack is self-describing and self-checking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/backend/object_store.h"
#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/format/blob_codec.h"
#include "store/format/format.h"
#include "store/format/object_names.h"

namespace strata {

struct PackEntry {
    BlobId id;
    format::BlobType type;
    format::Codec codec;
    std::uint64_t offset;       // from the start of the pack
    std::uint32_t stored_size;  // bytes in the pack
    std::uint32_t raw_size;     // bytes after decompression
};

// The trailer (magic, count, one entry per blob) and footer (trailer length, magic, SHA-256 of
// everything before the footer) that end every pack (docs/repository-format.md, "Packs").
Bytes encode_pack_trailer(const std::vector<PackEntry>& entries);
Bytes encode_pack_footer(std::uint32_t trailer_size, const BlobId& checksum);

// Streams a pack into an ObjectWriter as blobs arrive, so a pack is never held whole in memory.
// The trailer is sealed by `codec` (the repository's). Not thread-safe.
class PackWriter {
  public:
    PackWriter(std::unique_ptr<ObjectWriter> out, const BlobCodec& codec)
        : out_(std::move(out)), codec_(codec) {}
    void add(const BlobId& id, format::BlobType type, format::Codec codec, ByteView stored,
             std::uint32_t raw_size);
    std::uint64_t size() const { return out_->size(); }
    bool empty() const { return entries_.empty(); }
    const std::vector<PackEntry>& entries() const { return entries_; }
    // Appends trailer and footer, commits the object under its pack name; returns the pack id.
    BlobId commit();

  private:
    std::unique_ptr<ObjectWriter> out_;
    const BlobCodec& codec_;
    Sha256Stream hash_;
    std::vector<PackEntry> entries_;
};

struct PackFooter {
    std::uint32_t trailer_size;
    BlobId checksum;
};
PackFooter decode_pack_footer(ByteView footer);  // exactly kPackFooterSize bytes
// Decodes a trailer and checks every entry lies inside the first `data_end` bytes of the pack.
std::vector<PackEntry> decode_pack_trailer(ByteView trailer, std::uint64_t data_end);

// The trailer of a pack `size` bytes long, `stored` as the pack holds it (sealed by `codec`),
// opened and decoded; throws Corruption saying what is wrong (not naming the pack).
std::vector<PackEntry> open_pack_trailer(const BlobCodec& codec, Bytes stored, std::uint64_t size);

// Reads and checks the trailer of the pack stored under `name` (does not hash the whole pack).
std::vector<PackEntry> read_pack_trailer(ObjectStore& store, const BlobCodec& codec,
                                         const std::string& name);
// The same for a pack whose size the caller knows already (from ObjectStore::list).
std::vector<PackEntry> read_pack_trailer(ObjectStore& store, const BlobCodec& codec,
                                         const std::string& name, std::uint64_t size);

// Reads the whole pack, checks its footer's SHA-256 against the content and the file name, and
// opens its trailer. Throws Corruption with a precise reason on any mismatch.
std::vector<PackEntry> verify_pack_file(ObjectStore& store, const BlobCodec& codec,
                                        const std::string& name, Bytes* content);

}  // namespace strata
