#include "store/base/bytes.h"

#include <gtest/gtest.h>

#include <limits>

#include "tests/store/store_test_support.h"

namespace strata {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

// Everything the encoder can write, in one record.
Bytes sample_record() {
    Encoder e;
    e.u8(0xab);
    e.u16(0xbeef);
    e.u32(0xdeadbeef);
    e.u64(0x0123456789abcdefull);
    e.i64(-2);
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{127}, std::uint64_t{128}, std::uint64_t{16383},
                            std::uint64_t{16384}, std::uint64_t{1} << 63, kU64Max})
        e.varint(v);
    for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, std::int64_t{-64},
                           std::int64_t{64}, kI64Min, kI64Max})
        e.svarint(v);
    e.str("");
    e.str(std::string("a\0b\xff", 4));
    e.raw(std::string_view("RAW"));
    return e.take();
}

void decode_sample(ByteView b) {
    Decoder d(b, "sample");
    EXPECT_EQ(d.u8(), 0xab);
    EXPECT_EQ(d.u16(), 0xbeef);
    EXPECT_EQ(d.u32(), 0xdeadbeefu);
    EXPECT_EQ(d.u64(), 0x0123456789abcdefull);
    EXPECT_EQ(d.i64(), -2);
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{127}, std::uint64_t{128}, std::uint64_t{16383},
                            std::uint64_t{16384}, std::uint64_t{1} << 63, kU64Max})
        EXPECT_EQ(d.varint(), v);
    for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, std::int64_t{-64},
                           std::int64_t{64}, kI64Min, kI64Max})
        EXPECT_EQ(d.svarint(), v);
    EXPECT_EQ(d.str(), "");
    EXPECT_EQ(d.str(), std::string("a\0b\xff", 4));
    ByteView raw = d.raw(3);
    EXPECT_EQ(std::string(raw.begin(), raw.end()), "RAW");
    d.expect_done();
}

TEST(Bytes, RoundTrip) { decode_sample(sample_record()); }

TEST(Bytes, FixedWidthIsLittleEndian) {
    Encoder e;
    e.u32(0x01020304);
    EXPECT_EQ(e.bytes(), (Bytes{4, 3, 2, 1}));
}

TEST(Bytes, VarintLengths) {
    auto len = [](std::uint64_t v) {
        Encoder e;
        e.varint(v);
        return e.size();
    };
    EXPECT_EQ(len(0), 1u);
    EXPECT_EQ(len(127), 1u);
    EXPECT_EQ(len(128), 2u);
    EXPECT_EQ(len(kU64Max), 10u);
    auto slen = [](std::int64_t v) {
        Encoder e;
        e.svarint(v);
        return e.size();
    };
    EXPECT_EQ(slen(-1), 1u);  // zig-zag keeps small negatives small
    EXPECT_EQ(slen(-64), 1u);
}

// Every proper prefix of a valid record is truncated: decoding it must throw Corruption, never
// read past the end or return garbage silently.
TEST(Bytes, EveryTruncationIsCorruption) {
    Bytes full = sample_record();
    for (std::size_t n = 0; n < full.size(); ++n) {
        ByteView prefix(full.data(), n);
        expect_store_error([&] { decode_sample(prefix); }, StoreError::Kind::Corruption,
                           "prefix of " + std::to_string(n) + " bytes");
    }
}

TEST(Bytes, TrailingBytesAreCorruption) {
    Bytes full = sample_record();
    full.push_back(0);
    expect_store_error([&] { decode_sample(full); }, StoreError::Kind::Corruption, "trailing byte");
}

TEST(Bytes, OverlongVarintIsCorruption) {
    Bytes b(11, 0x80);
    b.push_back(0);
    Decoder d(b, "overlong");
    std::string msg = expect_store_error([&] { d.varint(); }, StoreError::Kind::Corruption);
    EXPECT_NE(msg.find("overlong"), std::string::npos) << "the message names the record: " << msg;
}

TEST(Bytes, StringLongerThanInputIsCorruption) {
    Encoder e;
    e.varint(kU64Max);  // a length no input can hold
    e.raw(std::string_view("abc"));
    Bytes b = e.take();
    Decoder d(b, "string");
    expect_store_error([&] { d.str(); }, StoreError::Kind::Corruption);
}

TEST(Bytes, CountIsBoundedByTheRemainingInput) {
    Encoder e;
    e.varint(1000);
    e.raw(Bytes(100, 0));
    Bytes b = e.take();
    {
        Decoder d(b, "count");
        EXPECT_EQ(d.count(0), 1000u);  // no minimum size: no bound
    }
    {
        Decoder d(b, "count");
        expect_store_error([&] { d.count(1); }, StoreError::Kind::Corruption, "1000 items of >= 1 byte in 100");
    }
    Encoder ok;
    ok.varint(10);
    ok.raw(Bytes(100, 0));
    Bytes okb = ok.take();
    Decoder d(okb, "count");
    EXPECT_EQ(d.count(10), 10u);
}

}  // namespace
}  // namespace strata
