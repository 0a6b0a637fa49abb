#include "store/base/hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>
#include <random>
#include <string>

namespace strata {

std::string to_hex(ByteView b) {
    static const char digits[] = "0123456789abcdef";
    std::string s(b.size() * 2, '0');
    for (std::size_t i = 0; i < b.size(); ++i) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 0xf];
    }
    return s;
}

std::string random_hex(std::size_t bytes) {
    std::random_device rd;
    Bytes b(bytes);
    for (auto& x : b) x = static_cast<std::uint8_t>(rd());
    return to_hex(b);
}

std::string BlobId::hex() const { return to_hex(bytes); }

std::optional<BlobId> BlobId::from_hex(std::string_view hex) {
    if (hex.size() != 64) return std::nullopt;
    BlobId id;
    for (std::size_t i = 0; i < 32; ++i) {
        int v = 0;
        for (int k = 0; k < 2; ++k) {
            char c = hex[2 * i + k];
            int d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            else
                return std::nullopt;
            v = v * 16 + d;
        }
        id.bytes[i] = static_cast<std::uint8_t>(v);
    }
    return id;
}

BlobId BlobId::from_bytes(ByteView b) {
    BlobId id;
    if (b.size() != id.bytes.size())
        throw_corruption("blob id of " + std::to_string(b.size()) + " bytes");
    std::memcpy(id.bytes.data(), b.data(), id.bytes.size());
    return id;
}

bool BlobId::is_zero() const {
    for (auto b : bytes)
        if (b) return false;
    return true;
}

BlobId sha256(ByteView data) {
    BlobId id;
    SHA256(data.data(), data.size(), id.bytes.data());
    return id;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256Stream::update(ByteView data) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
BlobId Sha256Stream::finish() {
    BlobId id;
    unsigned int len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), id.bytes.data(), &len);
    return id;
}

}  // namespace strata
