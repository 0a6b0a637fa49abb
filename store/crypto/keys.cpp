#include "store/crypto/keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <string_view>
#include <vector>

#include "store/crypto/libcrypto_error.h"

namespace strata::crypto {

Key::Key(ByteView bytes) {
    if (bytes.size() != kSize) throw std::invalid_argument("a key is 32 bytes");
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

Key& Key::operator=(const Key& other) {
    bytes_ = other.bytes_;
    return *this;
}

Key::~Key() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Key Key::random() {
    Key k;
    if (RAND_bytes(k.bytes_.data(), static_cast<int>(k.bytes_.size())) != 1)
        libcrypto_failed("RAND_bytes");
    return k;
}

bool Key::operator==(const Key& other) const {
    return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

Bytes hkdf_sha256(ByteView secret, ByteView salt, ByteView info, std::size_t size) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (!kdf) libcrypto_failed("EVP_KDF_fetch(HKDF)");
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!ctx) libcrypto_failed("EVP_KDF_CTX_new");
    char digest[] = "SHA256";
    auto* s = const_cast<std::uint8_t*>(secret.data());
    auto* n = const_cast<std::uint8_t*>(salt.data());
    auto* i = const_cast<std::uint8_t*>(info.data());
    // An empty salt or info is left out (OpenSSL refuses an empty octet string): HKDF then uses
    // a string of zeros for the salt (RFC 5869, 2.2) and an empty info, as asked.
    std::vector<OSSL_PARAM> params{
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, s, secret.size()),
    };
    if (!info.empty())
        params.push_back(OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, i, info.size()));
    if (!salt.empty())
        params.push_back(OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, n, salt.size()));
    params.push_back(OSSL_PARAM_construct_end());
    Bytes out(size);
    const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params.data());
    EVP_KDF_CTX_free(ctx);
    if (ok != 1) libcrypto_failed("HKDF-SHA256");
    return out;
}

BlobId hmac_sha256(const Key& key, ByteView data) {
    BlobId id;
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), key.view().data(), static_cast<int>(Key::kSize), data.data(),
              data.size(), id.bytes.data(), &n) ||
        n != id.bytes.size())
        libcrypto_failed("HMAC-SHA256");
    return id;
}

std::array<std::uint64_t, 256> gear_table(const Key& chunker) {
    std::array<std::uint64_t, 256> t{};
    Bytes b = hkdf_sha256(chunker.view(), {}, as_bytes("strata gear table"), t.size() * 8);
    for (std::size_t i = 0; i < t.size(); ++i)
        for (int k = 0; k < 8; ++k) t[i] |= std::uint64_t{b[i * 8 + k]} << (8 * k);
    OPENSSL_cleanse(b.data(), b.size());
    return t;
}

RepositoryKeys RepositoryKeys::derive(const Key& master, const BlobId& repository_id) {
    auto subkey = [&](std::string_view purpose) {
        Bytes b = hkdf_sha256(master.view(), repository_id.bytes, as_bytes(purpose), Key::kSize);
        Key k(b);
        OPENSSL_cleanse(b.data(), b.size());
        return k;
    };
    return {subkey("strata content"), subkey("strata blob id"), subkey("strata chunker")};
}

}  // namespace strata::crypto
