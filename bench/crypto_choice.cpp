// Measures the primitives an encrypted repository could be built on, on this machine, so that the
// choice is made by a measurement (docs/benchmarks.md, "Choosing the encryption primitives"):
//   - authenticated encryption of a chunk-sized and a tree-sized buffer: XChaCha20-Poly1305
//     (libsodium), AES-256-GCM and ChaCha20-Poly1305 (OpenSSL's EVP);
//   - the keyed blob id: HMAC-SHA256 (OpenSSL) and keyed BLAKE2b-256 (libsodium) against the
//     plain SHA-256 that unencrypted repositories use;
//   - Argon2id (libsodium's crypto_pwhash) at a few memory costs, for opening a repository.
// One thread; each figure is the median of 5 runs. Prints a markdown table on stdout.
//
// Usage: crypto_choice [MiB per run (64)]
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_of(const std::function<void()>& f) {
    const auto start = Clock::now();
    f();
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double median_of_5(const std::function<void()>& f) {
    std::vector<double> t;
    for (int i = 0; i < 5; ++i) t.push_back(seconds_of(f));
    std::sort(t.begin(), t.end());
    return t[2];
}

void die(const char* what) {
    std::fprintf(stderr, "crypto_choice: %s failed\n", what);
    std::exit(1);
}

// One AEAD seal of `in` into `out` (which has room for the tag).
using Seal =
    std::function<void(const std::vector<unsigned char>& in, std::vector<unsigned char>& out)>;

Seal evp_seal(const EVP_CIPHER* cipher) {
    return [cipher](const std::vector<unsigned char>& in, std::vector<unsigned char>& out) {
        static const unsigned char key[32] = {1}, nonce[12] = {2}, ad[32] = {3};
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        int len = 0, total = 0;
        if (!ctx || EVP_EncryptInit_ex(ctx, cipher, nullptr, key, nonce) != 1 ||
            EVP_EncryptUpdate(ctx, nullptr, &len, ad, sizeof ad) != 1 ||
            EVP_EncryptUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) != 1)
            die("EVP_EncryptUpdate");
        total = len;
        if (EVP_EncryptFinal_ex(ctx, out.data() + total, &len) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + in.size()) != 1)
            die("EVP_EncryptFinal_ex");
        EVP_CIPHER_CTX_free(ctx);
    };
}

void xchacha_seal(const std::vector<unsigned char>& in, std::vector<unsigned char>& out) {
    static const unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES] = {1};
    static const unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {2};
    static const unsigned char ad[32] = {3};
    unsigned long long n = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &n, in.data(), in.size(), ad, sizeof ad,
                                               nullptr, nonce, key);
}

// MB/s of `seal` over buffers of `size` bytes, `total` bytes per run.
double aead_rate(const Seal& seal, std::size_t size, std::size_t total) {
    std::vector<unsigned char> in(size, 0x5a), out(size + 32);
    randombytes_buf(in.data(), in.size());
    const std::size_t n = std::max<std::size_t>(1, total / size);
    return static_cast<double>(n * size) / 1e6 / median_of_5([&] {
               for (std::size_t i = 0; i < n; ++i) seal(in, out);
           });
}

using Digest = std::function<void(const std::vector<unsigned char>& in, unsigned char* out)>;

double digest_rate(const Digest& d, std::size_t size, std::size_t total) {
    std::vector<unsigned char> in(size);
    randombytes_buf(in.data(), in.size());
    unsigned char out[64];
    const std::size_t n = std::max<std::size_t>(1, total / size);
    return static_cast<double>(n * size) / 1e6 / median_of_5([&] {
               for (std::size_t i = 0; i < n; ++i) d(in, out);
           });
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) die("sodium_init");
    const std::size_t total = (argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64) << 20;
    const std::size_t chunk = 1 << 20, tree = 16 << 10;

    std::printf("| primitive | MB/s, 1 MiB buffers | MB/s, 16 KiB buffers |\n|---|---|---|\n");
    struct Named {
        const char* name;
        Seal seal;
    };
    const Named aeads[] = {
        {"XChaCha20-Poly1305 (libsodium)", xchacha_seal},
        {"AES-256-GCM (OpenSSL EVP)", evp_seal(EVP_aes_256_gcm())},
        {"ChaCha20-Poly1305 (OpenSSL EVP)", evp_seal(EVP_chacha20_poly1305())},
    };
    for (const auto& a : aeads)
        std::printf("| %s | %.0f | %.0f |\n", a.name, aead_rate(a.seal, chunk, total),
                    aead_rate(a.seal, tree, total));

    static const unsigned char key[32] = {7};
    struct NamedDigest {
        const char* name;
        Digest d;
    };
    const NamedDigest digests[] = {
        {"SHA-256 (OpenSSL; today's blob id)",
         [](const std::vector<unsigned char>& in, unsigned char* out) {
             SHA256(in.data(), in.size(), out);
         }},
        {"HMAC-SHA256 (OpenSSL)",
         [](const std::vector<unsigned char>& in, unsigned char* out) {
             unsigned int n = 0;
             if (!HMAC(EVP_sha256(), key, sizeof key, in.data(), in.size(), out, &n)) die("HMAC");
         }},
        {"keyed BLAKE2b-256 (libsodium)",
         [](const std::vector<unsigned char>& in, unsigned char* out) {
             crypto_generichash(out, 32, in.data(), in.size(), key, sizeof key);
         }},
    };
    for (const auto& d : digests)
        std::printf("| %s | %.0f | %.0f |\n", d.name, digest_rate(d.d, chunk, total),
                    digest_rate(d.d, tree, total));

    std::printf("\n| Argon2id (crypto_pwhash) | ms |\n|---|---|\n");
    unsigned char derived[32], salt[crypto_pwhash_SALTBYTES] = {9};
    const char password[] = "correct horse battery staple";
    for (unsigned long long ops : {2ull, 3ull})
        for (std::size_t mib : {64, 128, 256}) {
            double s = median_of_5([&] {
                if (crypto_pwhash(derived, sizeof derived, password, sizeof password - 1, salt, ops,
                                  static_cast<std::size_t>(mib) << 20,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
                    die("crypto_pwhash (out of memory?)");
            });
            std::printf("| t=%llu, m=%zu MiB | %.0f |\n", ops, mib, s * 1e3);
        }
    return 0;
}
