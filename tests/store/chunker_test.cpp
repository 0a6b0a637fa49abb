#include "store/format/chunker.h"

#include <gtest/gtest.h>

#include <random>

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

}  // namespace
}  // namespace strata
