#include "store/format/chunker.h"

#include <array>
#include <bit>
#include <stdexcept>

namespace strata {
namespace {

// The gear table: 256 pseudo-random 64-bit values from splitmix64 with a fixed seed. It is part
// of the chunking definition (docs/repository-format.md): changing it changes every boundary.
constexpr std::array<std::uint64_t, 256> make_gear() {
    std::array<std::uint64_t, 256> t{};
    std::uint64_t x = 0x5354524154412d31ull;  // "STRATA-1"
    for (auto& v : t) {
        x += 0x9e3779b97f4a7c15ull;
        std::uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        v = z ^ (z >> 31);
    }
    return t;
}
constexpr auto kGear = make_gear();

// A mask with `bits` one-bits spread over the high part of the word (FastCDC's padded masks).
constexpr std::uint64_t spread_mask(int bits) {
    std::uint64_t m = 0;
    for (int i = 0; i < bits; ++i) m |= 1ull << (63 - 2 * i);
    return m;
}

}  // namespace

const GearTable& fixed_gear_table() { return kGear; }

Chunker::Chunker(ChunkerParams p, const GearTable& gear) : p_(p), gear_(gear) {
    if (p.min_size == 0 || p.min_size > p.avg_size || p.avg_size > p.max_size ||
        !std::has_single_bit(p.avg_size))
        throw std::invalid_argument("chunker: need 0 < min <= avg <= max, avg a power of two");
    int bits = std::countr_zero(p.avg_size);
    // Normalization level 2: two bits harder before the average, two easier after.
    mask_small_ = spread_mask(bits + 2);
    mask_large_ = spread_mask(bits - 2);
}

std::size_t Chunker::next_boundary(ByteView data, bool at_end) const {
    const std::size_t n = data.size();
    if (n <= p_.min_size) return at_end ? n : 0;
    const std::size_t limit = n < p_.max_size ? n : p_.max_size;
    const std::size_t normal = limit < p_.avg_size ? limit : p_.avg_size;
    std::uint64_t h = 0;
    std::size_t i = p_.min_size;
    const std::uint8_t* d = data.data();
    for (; i < normal; ++i) {
        h = (h << 1) + gear_[d[i]];
        if (!(h & mask_small_)) return i + 1;
    }
    for (; i < limit; ++i) {
        h = (h << 1) + gear_[d[i]];
        if (!(h & mask_large_)) return i + 1;
    }
    if (limit == p_.max_size) return limit;
    return at_end ? n : 0;
}

}  // namespace strata
