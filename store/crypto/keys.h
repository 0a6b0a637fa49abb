// The keys of an encrypted repository (docs/repository-format.md, "Encryption"): one random
// master key, and the subkeys derived from it with HKDF-SHA256 (RFC 5869), one per use, so that no
// key serves two purposes. Key bytes are wiped when a key goes away.
//
// Threads: keys are immutable once made; every function may be called from any thread.
#pragma once

#include <array>
#include <cstdint>

#include "store/base/bytes.h"
#include "store/base/hash.h"

namespace strata::crypto {

// 32 secret bytes, wiped (OPENSSL_cleanse) when destroyed or overwritten.
class Key {
  public:
    static constexpr std::size_t kSize = 32;
    Key() = default;
    explicit Key(ByteView bytes);  // bytes.size() must be kSize
    Key(const Key& other) : bytes_(other.bytes_) {}
    Key& operator=(const Key& other);
    ~Key();

    // A new key from the system's generator (OpenSSL's RAND_bytes).
    static Key random();

    ByteView view() const { return {bytes_.data(), bytes_.size()}; }
    bool operator==(const Key& other) const;

  private:
    std::array<std::uint8_t, kSize> bytes_{};
};

// HKDF-SHA256 (RFC 5869): `size` bytes derived from `secret` with `salt` and `info`.
Bytes hkdf_sha256(ByteView secret, ByteView salt, ByteView info, std::size_t size);

// HMAC-SHA256 of `data` under `key`.
BlobId hmac_sha256(const Key& key, ByteView data);

// The chunker's gear table (store/format/chunker.h's GearTable) from the chunker subkey:
// HKDF-SHA256 of the key with no salt and the info "strata gear table", 2,048 bytes read as 256
// little-endian u64.
std::array<std::uint64_t, 256> gear_table(const Key& chunker);

// The subkeys of one repository, from its master key and its id (the HKDF salt, so that two
// repositories never share a subkey even if they shared a master key).
struct RepositoryKeys {
    Key content;  // the per-object keys of the envelope (envelope.h)
    Key blob_id;  // a blob's id: HMAC-SHA256 of its plaintext under this key
    Key chunker;  // seeds the chunker's gear table

    static RepositoryKeys derive(const Key& master, const BlobId& repository_id);
};

}  // namespace strata::crypto
