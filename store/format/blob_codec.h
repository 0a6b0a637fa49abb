// The repository's codec: for a repository, what a blob's id is, how its plaintext is sealed into
// the bytes a pack stores, and how stored bytes are opened again, checking that they are what the
// id says; the same for the other objects it stores (pack trailers, index objects, snapshot
// records), and the chunker's gear table. Every writer and reader of objects (ingest, the
// repository's loads, the index cache, repair, prune, verify, and through the repository the
// mount) goes through the repository's codec, chosen once when the repository is opened: plain
// or encrypted, no caller asks which.
// Layout: docs/repository-format.md, "Blobs" and "Encryption".
//
// Threads: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>

#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/crypto/envelope.h"
#include "store/crypto/keys.h"
#include "store/format/chunker.h"
#include "store/format/format.h"

namespace strata {

class BlobCodec {
  public:
    virtual ~BlobCodec() = default;

    // The id of the blob whose plaintext is `plain`.
    virtual BlobId id_of(ByteView plain) const = 0;
    // seal and open are told the blob's id and type, so that a codec may bind its stored bytes
    // to both (an encrypting one does: a blob cannot then be passed off as another, nor a tree
    // as file data).

    struct Sealed {
        format::Codec codec;
        Bytes data;  // empty when the plaintext is stored as it is (the caller keeps it)
        // The bytes to store for a blob sealed from `plain`.
        ByteView stored(ByteView plain) const { return data.empty() ? plain : ByteView(data); }
    };
    virtual Sealed seal(const BlobId& id, format::BlobType type, ByteView plain) const = 0;

    // The plaintext of the blob `id` of `type`, stored as `stored` with `codec` and `raw_size`
    // bytes of plaintext. Throws Corruption ("its content does not match its id", or why it cannot
    // be opened), naming neither the blob nor where its bytes came from: the caller adds both.
    virtual Bytes open(const BlobId& id, format::BlobType type, format::Codec codec,
                       std::uint32_t raw_size, ByteView stored) const = 0;

    // Index objects and snapshot records (`kind`), named by their content: the id an object
    // whose content is `plain` gets (id_of(plain), as for a blob), and the bytes stored under
    // that name.
    struct Named {
        BlobId id;
        Bytes stored;
    };
    virtual Named seal_object(crypto::ObjectKind kind, Bytes plain) const = 0;
    // The content of the object `id` of `kind`, stored as `stored`. Throws Corruption ("its
    // content does not match its name", or why it cannot be opened), naming neither the object
    // nor where it came from.
    virtual Bytes open_object(crypto::ObjectKind kind, const BlobId& id, Bytes stored) const = 0;

    // This host's own copy of the object `id` (a snapshot record in the index's snapshot table),
    // as the index stores it, and back: sealed as kind IndexCopy under `id` in an encrypted
    // repository, so that an index kept beside the objects tells no more than they do; as it
    // is in a plain one. open_copy throws Corruption as open_object does, but does not check
    // that `id` names the content (the caller's record may be re-encoded).
    virtual Bytes seal_copy(const BlobId& id, Bytes plain) const = 0;
    virtual Bytes open_copy(const BlobId& id, Bytes stored) const = 0;

    // A pack's trailer (encode_pack_trailer) as the pack stores it, and back; open_trailer throws
    // Corruption as open_object does.
    virtual Bytes seal_trailer(Bytes plain) const = 0;
    virtual Bytes open_trailer(Bytes stored) const = 0;

    // The gear table the repository's chunker cuts with.
    virtual const GearTable& gear_table() const = 0;

    // How many blobs a writer holds back so as to put them into packs in random order rather than
    // in the order files give them (0: in that order).
    virtual std::size_t placement_shuffle() const = 0;
};

// Format 1's codec: the id is the SHA-256 of the plaintext; the plaintext is zstd-compressed at
// `zstd_level`, or stored raw when that does not make it smaller. Other objects are stored as
// they are, named by the SHA-256 of their content; the gear table is the fixed one; blobs are
// placed in the order they come.
std::unique_ptr<BlobCodec> plain_blob_codec(int zstd_level);

// An encrypted repository's codec: the id is HMAC-SHA256 of the plaintext under `keys.blob_id`;
// the plaintext is compressed as by the plain codec, padded to padme_length, and sealed in an
// envelope (store/crypto/envelope.h) bound to the blob's id and type, stored as codec Sealed.
// Opening checks the envelope, the padding, the size and the id. Other objects are padded and
// sealed the same way, bound to their kind and id (a trailer to the kind only: the all-zero id);
// the gear table is derived from `keys.chunker`; blobs are placed in random order within runs of
// kSealedPlacementShuffle.
std::unique_ptr<BlobCodec> sealed_blob_codec(const crypto::RepositoryKeys& keys, int zstd_level);
// Eight blobs (about 8 MiB at the average chunk size, held in memory by the writer): the order in a
// pack then says nothing of which blobs follow each other in a file, and a file's chunks stay
// within a few windows of one another for the reads of a restore or the mount.
inline constexpr std::size_t kSealedPlacementShuffle = 8;

// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
// PURBs", 2019): the length `n` is padded to, keeping only the top O(log log n) bits of its
// length free, at most about 12% more.
std::uint64_t padme_length(std::uint64_t n);

}  // namespace strata
