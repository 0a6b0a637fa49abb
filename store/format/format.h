// Every on-disk constant of a strata repository, in one place. The byte-level layout they belong to
// is specified in docs/repository-format.md; change one only together with that document and the
// format version.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::format {

// Repository format versions: 1 stores everything in the clear; 2 is encrypted (its config holds a
// clear header and sealed settings, its key objects are in keys/). A repository whose config
// names a higher version than kRepositoryVersion is refused ("created by a newer strata").
inline constexpr std::uint32_t kPlainRepositoryVersion = 1;
inline constexpr std::uint32_t kEncryptedRepositoryVersion = 2;
inline constexpr std::uint32_t kRepositoryVersion = kEncryptedRepositoryVersion;
// The one encryption scheme of format 2 (store/crypto/): AES-256-GCM envelopes, HMAC-SHA256 ids,
// HKDF-SHA256 subkeys, Argon2id key objects. The config's "encryption" line names it.
inline constexpr const char* kEncryptionScheme = "aes-256-gcm";

// Top-level layout of a repository directory.
inline constexpr const char* kConfigFile = "config";
inline constexpr const char* kPackDir = "packs";          // packs/<first 2 hex>/<pack id>.pack
inline constexpr const char* kSnapshotDir = "snapshots";  // snapshots/<snapshot id>
inline constexpr const char* kIndexDir = "index";         // LMDB environment (rebuildable)
inline constexpr const char* kLockDir = "locks";          // locks/writer
inline constexpr const char* kTmpDir = "tmp";             // partial writes; emptied by every writer
// What prune retired: deletions/<record id> (one per prune, never changed) and
// deletions/<record id>.keep-<random> (packs a writer took back); pack files go once older than
// the grace period (docs/maintenance.md, "Pending deletions").
inline constexpr const char* kDeletionDir = "deletions";
// The mutable list that repositories written before deletion records kept instead; still read.
inline constexpr const char* kPendingDeletionFile = "pending-deletion";
// Writers at work on a repository in an object store: writers/<random>, rewritten while the
// writer runs (docs/repository-format.md, "Deletion").
inline constexpr const char* kWriterDir = "writers";
// Repositories in object stores: indexes/<SHA-256 of the object>, each listing the trailers of
// packs one writer uploaded (docs/repository-format.md, "Index objects"). Never changed; prune
// merges them into one and removes the ones it merged.
inline constexpr const char* kIndexObjectDir = "indexes";
// Encrypted repositories: keys/<SHA-256 of the object>, one key object per password
// (store/crypto/key_object.h).
inline constexpr const char* kKeyDir = "keys";
// forgotten/<id>: which snapshots a forget removed, written before it removes them, so that a
// host that saw them knows they went by a forget and not by a rollback of the repository
// (docs/repository-format.md, "Rollback"). Named and sealed as snapshot records are.
inline constexpr const char* kForgottenDir = "forgotten";
inline constexpr char kForgetRecordMagic[8] = {'S', 'T', 'R', 'F', 'G', 'T', 'N', '1'};

// Pack files: blobs back to back, then a trailer listing them, then a fixed footer.
inline constexpr char kPackTrailerMagic[8] = {'S', 'T', 'R', 'P', 'T', 'R', 'L', '1'};
inline constexpr char kPackFooterMagic[8] = {'S', 'T', 'R', 'P', 'A', 'C', 'K', '1'};
inline constexpr std::size_t kPackTrailerEntrySize =
    32 + 1 + 1 + 8 + 4 + 4;                                 // id type codec off stored raw
inline constexpr std::size_t kPackFooterSize = 4 + 8 + 32;  // trailer length, magic, SHA-256
// Index objects: the magic, a pack count, then per pack its id, size and trailer.
// Version 2 also carries snapshot records; version 1 (packs only) is still read.
inline constexpr char kIndexObjectMagic[8] = {'S', 'T', 'R', 'I', 'N', 'D', 'X', '2'};
inline constexpr char kIndexObjectMagicV1[8] = {'S', 'T', 'R', 'I', 'N', 'D', 'X', '1'};
inline constexpr std::size_t kIndexObjectPackHeaderSize = 32 + 8 + 4;  // id, size, trailer length
inline constexpr std::size_t kIndexObjectRecordHeaderSize = 32 + 4;    // id, record length
// A pack is closed once it holds this much: large enough that a repository of a few TB has
// about a hundred thousand files, small enough that prune, which rewrites every pack holding
// unused data, copies little with it (restic's default pack size too). 32 MiB copied 2.7 times
// restic's bytes in a full repack and took 0.42x its time; 16 MiB: 0.25x, with the same first
// ingest within noise (docs/benchmarks.md, "Forget, prune and verify").
inline constexpr std::size_t kPackTargetSize = 16u << 20;
// Hard limits used to reject crafted input before allocating.
inline constexpr std::uint32_t kMaxBlobSize = 64u << 20;
// Trees get more: one tree holds a whole directory, and a directory of a million entries
// encodes to about 90 MB. 256 MiB holds about 2.5 million short-named entries.
inline constexpr std::uint32_t kMaxTreeBlobSize = 256u << 20;
inline constexpr std::uint64_t kMaxPackSize = 4ull << 30;
// Directories nest at most this deep below a snapshot's root (the root's children are at depth
// 1). Deeper than twice what an absolute path (PATH_MAX) can name, far deeper than real trees;
// bounding it bounds the recursion, descriptors and path memory of every walk of a tree. Ingest
// does not save directories below it (a warning, exit 3); readers refuse them as corruption.
inline constexpr std::size_t kMaxTreeDepth = 4096;

enum class BlobType : std::uint8_t { Data = 0, Tree = 1 };
// Sealed: an encrypted repository's envelope (store/crypto/envelope.h) around the inner codec,
// the payload and its padding (docs/repository-format.md, "Encryption: the building blocks").
enum class Codec : std::uint8_t { Raw = 0, Zstd = 1, Sealed = 2 };
inline constexpr std::uint8_t kMaxCodec = 2;

// Trees and snapshot records begin with a magic and a version byte.
inline constexpr char kTreeMagic[4] = {'S', 'T', 'R', 'T'};
inline constexpr std::uint8_t kTreeVersion = 1;
inline constexpr char kSnapshotMagic[4] = {'S', 'T', 'R', 'S'};
inline constexpr std::uint8_t kSnapshotVersion = 1;

// Content-defined chunking (FastCDC-style gear hash with normalized chunking). The defaults were
// chosen with bench/chunk_sizes (see docs/benchmarks.md); they are stored in the repository config
// so changing them later does not silently change an existing repository's chunking.
inline constexpr std::uint32_t kDefaultChunkMin = 256u << 10;
inline constexpr std::uint32_t kDefaultChunkAvg = 1u << 20;
inline constexpr std::uint32_t kDefaultChunkMax = 4u << 20;
inline constexpr int kDefaultZstdLevel = 3;

}  // namespace strata::format
