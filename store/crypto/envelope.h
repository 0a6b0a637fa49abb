// The envelope every object of an encrypted repository is stored in (docs/repository-format.md,
// "Encryption"): AES-256-GCM (OpenSSL) under a key of its own for each object, derived from the
// repository's content key and the object's kind and id, with a random 96-bit nonce. The
// associated data binds the ciphertext to its kind and id: a blob cannot be passed off as
// another, nor a tree as file data, nor a snapshot record as an index object.
//
//   u8 version (1) | 12 bytes nonce | ciphertext (as long as the plaintext) | 16 bytes tag
//
// Threads: both functions may be called from any thread.
#pragma once

#include <cstdint>

#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/crypto/keys.h"

namespace strata::crypto {

// What a sealed object is; part of its key and of the associated data. Values are stored: never
// renumber.
enum class ObjectKind : std::uint8_t {
    DataBlob = 0,
    TreeBlob = 1,
    PackTrailer = 2,
    IndexObject = 3,
    SnapshotRecord = 4,
    Config = 5,
    ForgetRecord = 6,
    IndexCopy = 7,  // a snapshot record in the index's table (BlobCodec::seal_copy)
};

inline constexpr std::uint8_t kEnvelopeVersion = 1;
inline constexpr std::size_t kNonceSize = 12, kTagSize = 16;
inline constexpr std::size_t kEnvelopeOverhead = 1 + kNonceSize + kTagSize;

// `plain` sealed as the object `id` of `kind`, under `content` (RepositoryKeys::content).
Bytes seal(const Key& content, ObjectKind kind, const BlobId& id, ByteView plain);

// The plaintext of `sealed`, which must be the object `id` of `kind` sealed under `content`.
// Throws Corruption ("it fails authentication", "it is too short to be sealed", ...) when it is
// not, whatever the cause: a flipped byte, a truncation, another object, another repository's
// key. The message names neither the object nor where it came from: the caller adds both.
Bytes open(const Key& content, ObjectKind kind, const BlobId& id, ByteView sealed);

// AES-256-GCM itself, for the envelope and the key objects (key_object.h): `plain` under `key`
// with `nonce` (kNonceSize bytes) and associated data `ad`; the result is the ciphertext followed
// by the tag. gcm_open returns false when the tag does not match.
Bytes gcm_seal(ByteView key, ByteView nonce, ByteView ad, ByteView plain);
bool gcm_open(ByteView key, ByteView nonce, ByteView ad, ByteView sealed, Bytes& plain);

}  // namespace strata::crypto
