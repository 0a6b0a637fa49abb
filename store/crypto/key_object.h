// Key objects (docs/repository-format.md, "Key objects"): an encrypted repository's master key,
// wrapped under a key derived from one password with Argon2id (libsodium; OpenSSL 3.0 has no
// Argon2). A repository holds one key object per password; any of them opens it, and adding,
// removing or changing a password rewrites key objects only, never data.
//
//   10 bytes "strata-key" | u8 version (1) | u8 kdf (1: Argon2id v1.3)
//   u32 time cost (passes) | u32 memory cost (KiB) | 16 bytes salt
//   32 bytes repository id | i64 created (Unix seconds) | str host
//   12 bytes nonce | 48 bytes: the master key sealed with AES-256-GCM under the password's key,
//                    with every byte before the nonce as associated data
//
// Threads: every function may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/crypto/keys.h"

namespace strata::crypto {

// Argon2id's costs. The default takes about 340 ms and 128 MiB on the machine the choice was
// measured on (docs/benchmarks.md, "Choosing the encryption primitives").
struct KdfParams {
    std::uint32_t time_cost = 3;
    std::uint32_t memory_kib = 128 * 1024;
};
// What a decoder accepts: a key object asking for more would let whoever writes the bucket make
// every reader spend minutes or gigabytes.
inline constexpr std::uint32_t kMaxTimeCost = 16;
inline constexpr std::uint32_t kMinMemoryKib = 8 * 1024, kMaxMemoryKib = 4 * 1024 * 1024;

struct KeyObject {
    KdfParams kdf;
    std::array<std::uint8_t, 16> salt{};
    BlobId repository;  // the repository it opens: a key object copied from another is refused
    std::int64_t created = 0;
    std::string host;  // where it was made, for `strata key list`
    Bytes header;      // the bytes before the nonce (the associated data)
    std::array<std::uint8_t, 12> nonce{};
    Bytes wrapped;  // the sealed master key
};

// A new key object for `master`, opened by `password`, with a fresh random salt.
Bytes make_key_object(const Key& master, std::string_view password, const BlobId& repository,
                      const KdfParams& kdf, std::int64_t created, const std::string& host);

// Reads a key object's fields. Throws Corruption naming what is wrong (magic, version, a cost
// out of range, truncation, trailing bytes); checks nothing secret.
KeyObject decode_key_object(ByteView data);

// The master key, or nothing when `password` does not open `key`. A wrong password and a damaged
// key object look the same from here (authentication fails either way), by design.
std::optional<Key> unwrap_master_key(const KeyObject& key, std::string_view password);

// Argon2id of `password` with `salt` and `kdf`. Throws Io when the memory cannot be had.
Key password_key(std::string_view password, ByteView salt, const KdfParams& kdf);

}  // namespace strata::crypto
