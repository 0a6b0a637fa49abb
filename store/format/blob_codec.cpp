#include "store/format/blob_codec.h"

#include <bit>
#include <cstring>

#include "store/base/errors.h"
#include "store/format/compress.h"

namespace strata {
namespace {

class PlainBlobCodec final : public BlobCodec {
  public:
    explicit PlainBlobCodec(int zstd_level) : level_(zstd_level) {}

    BlobId id_of(ByteView plain) const override { return sha256(plain); }

    Sealed seal(const BlobId&, format::BlobType, ByteView plain) const override {
        Compressed c = compress_blob(plain, level_);
        return {c.codec, std::move(c.data)};
    }

    Bytes open(const BlobId& id, format::BlobType, format::Codec codec, std::uint32_t raw_size,
               ByteView stored) const override {
        Bytes plain = decompress_blob(codec, stored, raw_size);
        if (sha256(plain) != id) throw_corruption("its content does not match its id");
        return plain;
    }

    Named seal_object(crypto::ObjectKind, Bytes plain) const override {
        const BlobId id = sha256(plain);
        return {id, std::move(plain)};
    }
    Bytes open_object(crypto::ObjectKind, const BlobId& id, Bytes stored) const override {
        if (sha256(stored) != id) throw_corruption("its content does not match its name");
        return stored;
    }
    Bytes seal_copy(const BlobId&, Bytes plain) const override { return plain; }
    Bytes open_copy(const BlobId&, Bytes stored) const override { return stored; }
    Bytes seal_trailer(Bytes plain) const override { return plain; }
    Bytes open_trailer(Bytes stored) const override { return stored; }
    const GearTable& gear_table() const override { return fixed_gear_table(); }
    std::size_t placement_shuffle() const override { return 0; }

  private:
    const int level_;
};

crypto::ObjectKind kind_of(format::BlobType type) {
    return type == format::BlobType::Tree ? crypto::ObjectKind::TreeBlob
                                          : crypto::ObjectKind::DataBlob;
}

// Inside the envelope: u8 inner codec (Raw or Zstd) | u32 payload length | payload | zero bytes
// up to padme_length of everything.
// Objects other than blobs, inside the envelope: u32 content length | content | zero bytes up to
// padme_length of everything.
Bytes padded(ByteView content) {
    Encoder e;
    e.u32(static_cast<std::uint32_t>(content.size()));
    e.raw(content);
    e.bytes().resize(padme_length(e.size()), 0);
    return e.take();
}

Bytes unpadded(ByteView inner) {
    Decoder d(inner, "sealed object");
    const std::uint32_t n = d.u32();
    const ByteView content = d.raw(n);
    if (inner.size() != padme_length(4 + std::uint64_t{n})) d.fail("wrong padding length");
    for (std::size_t i = 4 + n; i < inner.size(); ++i)
        if (inner[i] != 0) d.fail("padding that is not zero");
    return Bytes(content.begin(), content.end());
}

class SealedBlobCodec final : public BlobCodec {
  public:
    SealedBlobCodec(const crypto::RepositoryKeys& keys, int zstd_level)
        : id_key_(keys.blob_id),
          content_key_(keys.content),
          level_(zstd_level),
          gear_(crypto::gear_table(keys.chunker)) {}

    BlobId id_of(ByteView plain) const override { return crypto::hmac_sha256(id_key_, plain); }

    Sealed seal(const BlobId& id, format::BlobType type, ByteView plain) const override {
        Compressed c = compress_blob(plain, level_);
        const ByteView payload = c.data.empty() ? plain : ByteView(c.data);
        Encoder e;
        e.u8(static_cast<std::uint8_t>(c.codec));
        e.u32(static_cast<std::uint32_t>(payload.size()));
        e.raw(payload);
        e.bytes().resize(padme_length(e.size()), 0);
        return {format::Codec::Sealed, crypto::seal(content_key_, kind_of(type), id, e.bytes())};
    }

    Bytes open(const BlobId& id, format::BlobType type, format::Codec codec, std::uint32_t raw_size,
               ByteView stored) const override {
        if (codec != format::Codec::Sealed)
            throw_corruption("it is stored unsealed (codec " +
                             std::to_string(static_cast<int>(codec)) +
                             ") in an encrypted repository");
        Bytes inner = crypto::open(content_key_, kind_of(type), id, stored);
        Decoder d(inner, "sealed blob");
        const std::uint8_t inner_codec = d.u8();
        if (inner_codec > static_cast<std::uint8_t>(format::Codec::Zstd))
            d.fail("unknown inner codec " + std::to_string(inner_codec));
        const std::uint32_t n = d.u32();
        const ByteView payload = d.raw(n);
        if (inner.size() != padme_length(5 + std::uint64_t{n})) d.fail("wrong padding length");
        for (std::size_t i = 5 + n; i < inner.size(); ++i)
            if (inner[i] != 0) d.fail("padding that is not zero");
        Bytes plain;
        if (inner_codec == static_cast<std::uint8_t>(format::Codec::Raw)) {
            // The payload is the plaintext: moved to the front of the buffer it was decrypted
            // into rather than copied into a new one (a read of the mount saves an allocation
            // and its page faults per blob).
            if (n != raw_size) d.fail("raw blob size mismatch");
            std::memmove(inner.data(), inner.data() + 5, n);
            inner.resize(n);
            plain = std::move(inner);
        } else {
            plain = decompress_blob(format::Codec::Zstd, payload, raw_size);
        }
        if (crypto::hmac_sha256(id_key_, plain) != id)
            throw_corruption("its content does not match its id");
        return plain;
    }

    Named seal_object(crypto::ObjectKind kind, Bytes plain) const override {
        const BlobId id = crypto::hmac_sha256(id_key_, plain);
        return {id, crypto::seal(content_key_, kind, id, padded(plain))};
    }
    Bytes open_object(crypto::ObjectKind kind, const BlobId& id, Bytes stored) const override {
        Bytes plain = unpadded(crypto::open(content_key_, kind, id, stored));
        if (crypto::hmac_sha256(id_key_, plain) != id)
            throw_corruption("its content does not match its name");
        return plain;
    }
    Bytes seal_copy(const BlobId& id, Bytes plain) const override {
        return crypto::seal(content_key_, crypto::ObjectKind::IndexCopy, id, padded(plain));
    }
    Bytes open_copy(const BlobId& id, Bytes stored) const override {
        return unpadded(crypto::open(content_key_, crypto::ObjectKind::IndexCopy, id, stored));
    }
    Bytes seal_trailer(Bytes plain) const override {
        return crypto::seal(content_key_, crypto::ObjectKind::PackTrailer, BlobId{}, padded(plain));
    }
    Bytes open_trailer(Bytes stored) const override {
        return unpadded(
            crypto::open(content_key_, crypto::ObjectKind::PackTrailer, BlobId{}, stored));
    }
    const GearTable& gear_table() const override { return gear_; }
    std::size_t placement_shuffle() const override { return kSealedPlacementShuffle; }

  private:
    const crypto::Key id_key_, content_key_;
    const int level_;
    const GearTable gear_;
};

}  // namespace

std::unique_ptr<BlobCodec> plain_blob_codec(int zstd_level) {
    return std::make_unique<PlainBlobCodec>(zstd_level);
}

std::unique_ptr<BlobCodec> sealed_blob_codec(const crypto::RepositoryKeys& keys, int zstd_level) {
    return std::make_unique<SealedBlobCodec>(keys, zstd_level);
}

std::uint64_t padme_length(std::uint64_t n) {
    if (n < 2) return n;
    const int e = std::bit_width(n) - 1;        // floor(log2 n)
    const int s = std::bit_width(unsigned(e));  // floor(log2 e) + 1
    const std::uint64_t mask = (std::uint64_t{1} << (e - s)) - 1;
    return (n + mask) & ~mask;
}

}  // namespace strata
