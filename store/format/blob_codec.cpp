#include "store/format/blob_codec.h"

#include "store/base/errors.h"
#include "store/format/compress.h"

namespace strata {
namespace {

class PlainBlobCodec final : public BlobCodec {
  public:
    explicit PlainBlobCodec(int zstd_level) : level_(zstd_level) {}

    BlobId id_of(ByteView plain) const override { return sha256(plain); }

    Sealed seal(ByteView plain) const override {
        Compressed c = compress_blob(plain, level_);
        return {c.codec, std::move(c.data)};
    }

    Bytes open(const BlobId& id, format::Codec codec, std::uint32_t raw_size,
               ByteView stored) const override {
        Bytes plain = decompress_blob(codec, stored, raw_size);
        if (sha256(plain) != id) throw_corruption("its content does not match its id");
        return plain;
    }

  private:
    const int level_;
};

}  // namespace

std::unique_ptr<BlobCodec> plain_blob_codec(int zstd_level) {
    return std::make_unique<PlainBlobCodec>(zstd_level);
}

}  // namespace strata
