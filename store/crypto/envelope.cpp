#include "store/crypto/envelope.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>
#include <string_view>

#include "store/crypto/libcrypto_error.h"

namespace strata::crypto {

namespace {

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

Ctx gcm_context(ByteView key, ByteView nonce, bool encrypt) {
    if (key.size() != Key::kSize || nonce.size() != kNonceSize)
        throw std::invalid_argument("AES-256-GCM takes a 32-byte key and a 12-byte nonce");
    Ctx ctx(EVP_CIPHER_CTX_new());
    if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data(),
                                  encrypt ? 1 : 0) != 1)
        libcrypto_failed("EVP_CipherInit_ex(AES-256-GCM)");
    return ctx;
}

// Feeds `in` through `ctx` into `out` in pieces an int can count.
void update(EVP_CIPHER_CTX* ctx, ByteView in, std::uint8_t* out) {
    constexpr std::size_t kStep = 1u << 30;
    for (std::size_t at = 0; at < in.size(); at += kStep) {
        const int n = static_cast<int>(std::min(kStep, in.size() - at));
        int len = 0;
        if (EVP_CipherUpdate(ctx, out ? out + at : nullptr, &len, in.data() + at, n) != 1)
            libcrypto_failed("EVP_CipherUpdate(AES-256-GCM)");
    }
}

// The key of one object: HMAC-SHA256 of its kind and id under the content key.
Key object_key(const Key& content, ObjectKind kind, const BlobId& id) {
    Encoder e;
    e.raw(std::string_view("strata object key"));
    e.u8(static_cast<std::uint8_t>(kind));
    e.raw(id.bytes);
    return Key(hmac_sha256(content, e.bytes()).bytes);
}

Bytes associated_data(ObjectKind kind, const BlobId& id) {
    Encoder e;
    e.raw(std::string_view("strata"));
    e.u8(kEnvelopeVersion);
    e.u8(static_cast<std::uint8_t>(kind));
    e.raw(id.bytes);
    return e.take();
}

}  // namespace

Bytes gcm_seal(ByteView key, ByteView nonce, ByteView ad, ByteView plain) {
    Ctx ctx = gcm_context(key, nonce, true);
    update(ctx.get(), ad, nullptr);
    Bytes out(plain.size() + kTagSize);
    update(ctx.get(), plain, out.data());
    int len = 0;
    if (EVP_CipherFinal_ex(ctx.get(), out.data() + plain.size(), &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                            out.data() + plain.size()) != 1)
        libcrypto_failed("EVP_CipherFinal_ex(AES-256-GCM)");
    return out;
}

bool gcm_open(ByteView key, ByteView nonce, ByteView ad, ByteView sealed, Bytes& plain) {
    if (sealed.size() < kTagSize) return false;
    const std::size_t n = sealed.size() - kTagSize;
    Ctx ctx = gcm_context(key, nonce, false);
    update(ctx.get(), ad, nullptr);
    plain.resize(n);
    update(ctx.get(), sealed.first(n), plain.data());
    // OpenSSL reads the expected tag from a non-const buffer.
    std::uint8_t tag[kTagSize];
    std::copy(sealed.begin() + static_cast<std::ptrdiff_t>(n), sealed.end(), tag);
    int len = 0;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1)
        libcrypto_failed("EVP_CIPHER_CTX_ctrl(GCM_SET_TAG)");
    if (EVP_CipherFinal_ex(ctx.get(), plain.data() + n, &len) != 1) {
        OPENSSL_cleanse(plain.data(), plain.size());
        plain.clear();
        return false;
    }
    return true;
}

Bytes seal(const Key& content, ObjectKind kind, const BlobId& id, ByteView plain) {
    std::uint8_t nonce[kNonceSize];
    if (RAND_bytes(nonce, sizeof nonce) != 1) libcrypto_failed("RAND_bytes");
    const Key key = object_key(content, kind, id);
    Bytes body = gcm_seal(key.view(), nonce, associated_data(kind, id), plain);
    Bytes out;
    out.reserve(1 + kNonceSize + body.size());
    out.push_back(kEnvelopeVersion);
    out.insert(out.end(), nonce, nonce + kNonceSize);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

Bytes open(const Key& content, ObjectKind kind, const BlobId& id, ByteView sealed) {
    if (sealed.size() < kEnvelopeOverhead) throw_corruption("it is too short to be sealed");
    if (sealed[0] != kEnvelopeVersion)
        throw_corruption("its envelope is of version " + std::to_string(sealed[0]) + ", not " +
                         std::to_string(kEnvelopeVersion));
    const Key key = object_key(content, kind, id);
    Bytes plain;
    if (!gcm_open(key.view(), sealed.subspan(1, kNonceSize), associated_data(kind, id),
                  sealed.subspan(1 + kNonceSize), plain))
        throw_corruption("it fails authentication (damaged, or not this object)");
    return plain;
}

}  // namespace strata::crypto
