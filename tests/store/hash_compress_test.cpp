#include <gtest/gtest.h>

#include <random>

#include "store/format/compress.h"
#include "store/base/hash.h"
#include "tests/store/store_test_support.h"

namespace strata {
namespace {

TEST(Hash, Sha256KnownVectors) {
    // FIPS 180-2 test vectors.
    EXPECT_EQ(sha256(as_bytes("abc")).hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256(as_bytes("")).hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Hash, StreamEqualsOneShot) {
    std::string data(1 << 20, '\0');
    std::mt19937_64 rng(7);
    for (auto& c : data) c = static_cast<char>(rng());
    Sha256Stream s;
    s.update(as_bytes(std::string_view(data).substr(0, 1000)));
    s.update(as_bytes(std::string_view(data).substr(1000)));
    EXPECT_EQ(s.finish(), sha256(as_bytes(data)));
}

TEST(Hash, HexRoundTripAndRejects) {
    BlobId id = sha256(as_bytes("x"));
    auto back = BlobId::from_hex(id.hex());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, id);
    EXPECT_EQ(id.short_hex(), id.hex().substr(0, 8));
    EXPECT_FALSE(BlobId::from_hex(id.hex().substr(0, 63)).has_value());
    EXPECT_FALSE(BlobId::from_hex(id.hex() + "0").has_value());
    EXPECT_FALSE(BlobId::from_hex(std::string(63, '0') + "g").has_value());
    EXPECT_TRUE(BlobId{}.is_zero());
    EXPECT_FALSE(id.is_zero());
}

TEST(Compress, CompressibleRoundTrip) {
    std::string text;
    for (int i = 0; i < 10000; ++i) text += "line " + std::to_string(i % 17) + " of a repetitive text\n";
    Compressed c = compress_blob(as_bytes(text), 3);
    EXPECT_EQ(c.codec, format::Codec::Zstd);
    EXPECT_LT(c.data.size(), text.size() / 4);
    Bytes back = decompress_blob(c.codec, c.data, static_cast<std::uint32_t>(text.size()));
    EXPECT_EQ(std::string(back.begin(), back.end()), text);
}

TEST(Compress, IncompressibleIsStoredRaw) {
    Bytes data(100000);
    std::mt19937_64 rng(8);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    Compressed c = compress_blob(data, 3);
    EXPECT_EQ(c.codec, format::Codec::Raw);
    EXPECT_EQ(decompress_blob(format::Codec::Raw, data, static_cast<std::uint32_t>(data.size())), data);
}

TEST(Compress, DamageIsCorruption) {
    std::string text(100000, 'a');
    Compressed c = compress_blob(as_bytes(text), 3);
    ASSERT_EQ(c.codec, format::Codec::Zstd);
    const auto n = static_cast<std::uint32_t>(text.size());
    expect_store_error([&] { decompress_blob(c.codec, c.data, n - 1); }, StoreError::Kind::Corruption,
                       "wrong raw size");
    expect_store_error([&] { decompress_blob(c.codec, c.data, n + 1); }, StoreError::Kind::Corruption,
                       "wrong raw size");
    Bytes cut(c.data.begin(), c.data.end() - 3);
    expect_store_error([&] { decompress_blob(c.codec, cut, n); }, StoreError::Kind::Corruption, "truncated frame");
    Bytes garbage = bytes_of("this is not a zstd frame at all");
    expect_store_error([&] { decompress_blob(format::Codec::Zstd, garbage, 10); }, StoreError::Kind::Corruption,
                       "not a frame");
    expect_store_error([&] { decompress_blob(format::Codec::Raw, garbage, 10); }, StoreError::Kind::Corruption,
                       "raw of the wrong size");
}

}  // namespace
}  // namespace strata
