#include "store/format/compress.h"

#include <zstd.h>

#include <memory>
#include <string>

namespace strata {
namespace {
struct CctxFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
}  // namespace

Compressed compress_blob(ByteView plain, int level) {
    thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
    Bytes out(ZSTD_compressBound(plain.size()));
    std::size_t n =
        ZSTD_compressCCtx(cctx.get(), out.data(), out.size(), plain.data(), plain.size(), level);
    if (ZSTD_isError(n) || n >= plain.size()) return {format::Codec::Raw, {}};
    out.resize(n);
    out.shrink_to_fit();
    return {format::Codec::Zstd, std::move(out)};
}

Bytes decompress_blob(format::Codec codec, ByteView stored, std::uint32_t raw_size) {
    if (codec == format::Codec::Raw) {
        if (stored.size() != raw_size) throw_corruption("raw blob size mismatch");
        return Bytes(stored.begin(), stored.end());
    }
    if (codec != format::Codec::Zstd)
        throw_corruption("unknown codec " + std::to_string(int(codec)));
    // The largest blob of any type; pack trailers check each blob against its type's limit.
    if (raw_size > format::kMaxTreeBlobSize) throw_corruption("blob raw size exceeds the limit");
    thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
    Bytes out(raw_size);
    std::size_t n =
        ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), stored.data(), stored.size());
    if (ZSTD_isError(n)) throw_corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
    if (n != raw_size) throw_corruption("decompressed blob has the wrong size");
    return out;
}

}  // namespace strata
