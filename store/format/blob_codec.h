// The blob codec: for a repository, what a blob's id is, how its plaintext is sealed into the
// bytes a pack stores, and how stored bytes are opened again, checking that they are what the id
// says. Every writer and reader of blobs (ingest, the repository's loads, repair, prune, verify,
// and through the repository the mount) goes through the repository's codec, so a repository
// with another codec (encryption) changes this one class, not its callers.
// Layout: docs/repository-format.md, "Blobs".
//
// Threads: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>

#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/format/format.h"

namespace strata {

class BlobCodec {
  public:
    virtual ~BlobCodec() = default;

    // The id of the blob whose plaintext is `plain`.
    virtual BlobId id_of(ByteView plain) const = 0;

    struct Sealed {
        format::Codec codec;
        Bytes data;  // empty when the plaintext is stored as it is (the caller keeps it)
        // The bytes to store for a blob sealed from `plain`.
        ByteView stored(ByteView plain) const { return data.empty() ? plain : ByteView(data); }
    };
    virtual Sealed seal(ByteView plain) const = 0;

    // The plaintext of the blob `id`, stored as `stored` with `codec` and `raw_size` bytes of
    // plaintext. Throws Corruption ("its content does not match its id", or why it cannot be
    // opened), naming neither the blob nor where its bytes came from: the caller adds both.
    virtual Bytes open(const BlobId& id, format::Codec codec, std::uint32_t raw_size,
                       ByteView stored) const = 0;
};

// Format 1's codec: the id is the SHA-256 of the plaintext; the plaintext is zstd-compressed at
// `zstd_level`, or stored raw when that does not make it smaller.
std::unique_ptr<BlobCodec> plain_blob_codec(int zstd_level);

}  // namespace strata
