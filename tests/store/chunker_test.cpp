#include "store/format/chunker.h"

#include <gtest/gtest.h>

#include <random>

#include "store/crypto/keys.h"

namespace strata {
namespace {

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
}

std::vector<std::size_t> boundaries(const Chunker& c, ByteView data) {
    std::vector<std::size_t> out;
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t n = c.next_boundary(data.subspan(pos), true);
        pos += n;
        out.push_back(pos);
    }
    return out;
}

TEST(Chunker, RespectsBoundsAndCoversInput) {
    Chunker c({64 << 10, 256 << 10, 1 << 20});
    Bytes data = random_bytes(8 << 20, 1);
    auto b = boundaries(c, data);
    std::size_t prev = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        std::size_t len = b[i] - prev;
        if (i + 1 < b.size()) {
            EXPECT_GE(len, 64u << 10);
        }
        EXPECT_LE(len, 1u << 20);
        prev = b[i];
    }
    EXPECT_EQ(b.back(), data.size());
}

TEST(Chunker, InsertionOnlyChangesNearbyChunks) {
    Chunker c({64 << 10, 256 << 10, 1 << 20});
    Bytes data = random_bytes(8 << 20, 2);
    Bytes edited = data;
    Bytes insert = random_bytes(1000, 3);
    edited.insert(edited.begin() + (4 << 20), insert.begin(), insert.end());
    auto a = boundaries(c, data), b = boundaries(c, edited);
    // Boundaries after the edit are shifted by the insertion; most must reappear.
    std::size_t shared = 0;
    for (auto x : a)
        for (auto y : b)
            if (x == y || (x > (4u << 20) && y == x + insert.size())) shared++;
    EXPECT_GE(shared, a.size() - 3);
}

TEST(Chunker, NeedsMoreDataWithoutBoundary) {
    Chunker c({64 << 10, 256 << 10, 1 << 20});
    Bytes small = random_bytes(1000, 4);
    EXPECT_EQ(c.next_boundary(small, false), 0u);
    EXPECT_EQ(c.next_boundary(small, true), 1000u);
}

TEST(Chunker, RejectsInconsistentParams) {
    EXPECT_THROW(Chunker({0, 1024, 2048}), std::invalid_argument);
    EXPECT_THROW(Chunker({1024, 1000, 2048}), std::invalid_argument);
    EXPECT_THROW(Chunker({4096, 2048, 8192}), std::invalid_argument);
}

// A table derived from a key moves every boundary, so chunk lengths say nothing without the key;
// the same key cuts the same way (dedup within one repository), and the bounds still hold.
TEST(Chunker, AKeyedGearTableCutsElsewhereAndTheSameKeyCutsAlike) {
    const ChunkerParams p{16 << 10, 64 << 10, 256 << 10};
    const Bytes data = random_bytes(8 << 20, 5);
    const crypto::Key k1 = crypto::Key::random(), k2 = crypto::Key::random();
    const auto fixed = boundaries(Chunker(p), data);
    const auto a = boundaries(Chunker(p, crypto::gear_table(k1)), data);
    const auto again = boundaries(Chunker(p, crypto::gear_table(k1)), data);
    const auto b = boundaries(Chunker(p, crypto::gear_table(k2)), data);
    EXPECT_EQ(a, again);
    auto shared = [](const std::vector<std::size_t>& x, const std::vector<std::size_t>& y) {
        std::size_t n = 0;
        for (std::size_t v : x) n += std::binary_search(y.begin(), y.end(), v);
        return n;
    };
    // Of about 128 cuts, a few may coincide by chance; far from all.
    EXPECT_LT(shared(a, fixed) * 4, a.size()) << a.size() << " cuts";
    EXPECT_LT(shared(a, b) * 4, a.size()) << a.size() << " cuts";
    std::size_t prev = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (i + 1 < a.size()) {
            EXPECT_GE(a[i] - prev, p.min_size);
        }
        EXPECT_LE(a[i] - prev, p.max_size);
        prev = a[i];
    }
    EXPECT_GT(a.size(), data.size() / p.max_size);
    EXPECT_LT(a.size(), data.size() / p.min_size);
    EXPECT_NE(crypto::gear_table(k1), fixed_gear_table());
}

}  // namespace
}  // namespace strata
