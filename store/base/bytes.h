// Little-endian fixed-width integers and LEB128 varints: the building blocks of every on-disk
// record (docs/repository-format.md, "Encoding"). The Decoder checks every read against the end of
// its buffer and throws Corruption instead of reading past it.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/base/errors.h"

namespace strata {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class Encoder {
  public:
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { fixed(v, 2); }
    void u32(std::uint32_t v) { fixed(v, 4); }
    void u64(std::uint64_t v) { fixed(v, 8); }
    void i64(std::int64_t v) { fixed(static_cast<std::uint64_t>(v), 8); }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<std::uint8_t>(v));
    }
    // Zig-zag encoded signed varint.
    void svarint(std::int64_t v) {
        varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
    }
    void raw(ByteView b) {
        if (b.empty()) return;
        const std::size_t old = out_.size();
        out_.resize(old + b.size());
        std::memcpy(out_.data() + old, b.data(), b.size());
    }
    void raw(std::string_view s) { raw(as_bytes(s)); }
    // Length-prefixed (varint) byte string.
    void str(std::string_view s) {
        varint(s.size());
        raw(s);
    }
    Bytes& bytes() { return out_; }
    Bytes take() { return std::move(out_); }
    std::size_t size() const { return out_.size(); }

  private:
    void fixed(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    Bytes out_;
};

class Decoder {
  public:
    // `what` names the record being decoded, for error messages.
    Decoder(ByteView in, const char* what) : in_(in), what_(what) {}

    std::uint8_t u8() { return static_cast<std::uint8_t>(fixed(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(fixed(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4)); }
    std::uint64_t u64() { return fixed(8); }
    std::int64_t i64() { return static_cast<std::int64_t>(fixed(8)); }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            std::uint8_t b = u8();
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        fail("varint longer than 10 bytes");
    }
    std::int64_t svarint() {
        std::uint64_t v = varint();
        return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
    }
    ByteView raw(std::size_t n) {
        need(n);
        ByteView v = in_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    std::string str() {
        std::uint64_t n = varint();
        ByteView v = raw(static_cast<std::size_t>(n > remaining() ? remaining() + 1 : n));
        return std::string(reinterpret_cast<const char*>(v.data()), v.size());
    }
    // A count of following items, each at least `min_item_bytes` long: rejects counts the remaining
    // input cannot possibly hold, so crafted input cannot make us reserve absurd amounts of memory.
    std::size_t count(std::size_t min_item_bytes) {
        std::uint64_t n = varint();
        if (min_item_bytes > 0 && n > remaining() / min_item_bytes)
            fail("count larger than the data");
        return static_cast<std::size_t>(n);
    }
    std::size_t remaining() const { return in_.size() - pos_; }
    bool done() const { return pos_ == in_.size(); }
    void expect_done() {
        if (!done()) fail("trailing bytes");
    }
    [[noreturn]] void fail(const std::string& why) const {
        throw_corruption(std::string(what_) + ": " + why + " at byte " + std::to_string(pos_));
    }

  private:
    void need(std::size_t n) const {
        if (n > remaining()) fail("truncated");
    }
    std::uint64_t fixed(int n) {
        need(static_cast<std::size_t>(n));
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(in_[pos_ + i]) << (8 * i);
        pos_ += static_cast<std::size_t>(n);
        return v;
    }
    ByteView in_;
    std::size_t pos_ = 0;
    const char* what_;
};

}  // namespace strata
