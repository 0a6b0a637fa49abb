// Content ids: SHA-256 through OpenSSL's libcrypto (which uses the CPU's SHA extensions).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/base/bytes.h"

namespace strata {

struct BlobId {
    std::array<std::uint8_t, 32> bytes{};

    std::string hex() const;
    // The first `n` hex digits, as shown to users.
    std::string short_hex(std::size_t n = 8) const { return hex().substr(0, n); }
    static std::optional<BlobId> from_hex(std::string_view hex);
    static BlobId from_bytes(ByteView b);  // b.size() must be 32
    bool is_zero() const;

    auto operator<=>(const BlobId&) const = default;
};

struct BlobIdHash {
    std::size_t operator()(const BlobId& id) const noexcept {
        std::size_t h;
        std::memcpy(&h, id.bytes.data(), sizeof h);
        return h;
    }
};

BlobId sha256(ByteView data);

// Incremental SHA-256, for data that arrives in pieces (a pack as it is written).
class Sha256Stream {
  public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream&) = delete;
    Sha256Stream& operator=(const Sha256Stream&) = delete;
    void update(ByteView data);
    BlobId finish();

  private:
    void* ctx_;
};

std::string to_hex(ByteView b);
// `bytes` random bytes from the system's generator, as hex (names and ids nobody else picks).
std::string random_hex(std::size_t bytes);

}  // namespace strata
