#include "store/crypto/key_object.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <cerrno>
#include <mutex>
#include <stdexcept>

#include "store/crypto/envelope.h"
#include "store/crypto/libcrypto_error.h"

namespace strata::crypto {

namespace {

constexpr std::string_view kMagic = "strata-key";
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kKdfArgon2id13 = 1;
constexpr std::size_t kMaxHostBytes = 255;

void sodium_ready() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
    });
}

Bytes header_of(const KeyObject& k) {
    Encoder e;
    e.raw(kMagic);
    e.u8(kVersion);
    e.u8(kKdfArgon2id13);
    e.u32(k.kdf.time_cost);
    e.u32(k.kdf.memory_kib);
    e.raw(ByteView(k.salt));
    e.raw(k.repository.bytes);
    e.i64(k.created);
    e.str(k.host);
    return e.take();
}

void check_costs(const KdfParams& kdf, const Decoder* d) {
    std::string why;
    if (kdf.time_cost < 1 || kdf.time_cost > kMaxTimeCost)
        why = "time cost " + std::to_string(kdf.time_cost) + " is outside 1.." +
              std::to_string(kMaxTimeCost);
    else if (kdf.memory_kib < kMinMemoryKib || kdf.memory_kib > kMaxMemoryKib)
        why = "memory cost " + std::to_string(kdf.memory_kib) + " KiB is outside " +
              std::to_string(kMinMemoryKib) + ".." + std::to_string(kMaxMemoryKib) + " KiB";
    if (why.empty()) return;
    if (d) d->fail(why);
    throw std::invalid_argument("Argon2id " + why);
}

}  // namespace

Key password_key(std::string_view password, ByteView salt, const KdfParams& kdf) {
    sodium_ready();
    if (salt.size() != crypto_pwhash_SALTBYTES) throw std::invalid_argument("the salt is 16 bytes");
    check_costs(kdf, nullptr);
    std::uint8_t out[Key::kSize];
    if (crypto_pwhash(out, sizeof out, password.data(), password.size(), salt.data(), kdf.time_cost,
                      static_cast<std::size_t>(kdf.memory_kib) * 1024,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw_io("Argon2id could not have the " + std::to_string(kdf.memory_kib / 1024) +
                     " MiB of memory its key object asks for",
                 ENOMEM);
    Key k(ByteView(out, sizeof out));
    OPENSSL_cleanse(out, sizeof out);
    return k;
}

Bytes make_key_object(const Key& master, std::string_view password, const BlobId& repository,
                      const KdfParams& kdf, std::int64_t created, const std::string& host) {
    KeyObject k;
    k.kdf = kdf;
    if (RAND_bytes(k.salt.data(), static_cast<int>(k.salt.size())) != 1 ||
        RAND_bytes(k.nonce.data(), static_cast<int>(k.nonce.size())) != 1)
        libcrypto_failed("RAND_bytes");
    k.repository = repository;
    k.created = created;
    k.host = host.substr(0, kMaxHostBytes);
    k.header = header_of(k);
    const Key wrapping = password_key(password, k.salt, kdf);
    Bytes out = k.header;
    out.insert(out.end(), k.nonce.begin(), k.nonce.end());
    const Bytes sealed = gcm_seal(wrapping.view(), k.nonce, k.header, master.view());
    out.insert(out.end(), sealed.begin(), sealed.end());
    return out;
}

KeyObject decode_key_object(ByteView data) {
    Decoder d(data, "key object");
    KeyObject k;
    if (data.size() < kMagic.size() ||
        !std::equal(kMagic.begin(), kMagic.end(), data.begin(),
                    [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }))
        d.fail("it does not start with \"strata-key\"");
    d.raw(kMagic.size());
    if (const std::uint8_t v = d.u8(); v != kVersion)
        d.fail("version " + std::to_string(v) +
               " (this strata reads version 1; a newer strata "
               "made it?)");
    if (const std::uint8_t kdf = d.u8(); kdf != kKdfArgon2id13)
        d.fail("unknown key derivation " + std::to_string(kdf));
    k.kdf.time_cost = d.u32();
    k.kdf.memory_kib = d.u32();
    check_costs(k.kdf, &d);
    ByteView salt = d.raw(k.salt.size());
    std::copy(salt.begin(), salt.end(), k.salt.begin());
    k.repository = BlobId::from_bytes(d.raw(32));
    k.created = d.i64();
    k.host = d.str();
    if (k.host.size() > kMaxHostBytes) d.fail("host name longer than 255 bytes");
    const std::size_t header_size = data.size() - d.remaining();
    k.header.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(header_size));
    ByteView nonce = d.raw(k.nonce.size());
    std::copy(nonce.begin(), nonce.end(), k.nonce.begin());
    ByteView wrapped = d.raw(Key::kSize + kTagSize);
    k.wrapped.assign(wrapped.begin(), wrapped.end());
    d.expect_done();
    return k;
}

std::optional<Key> unwrap_master_key(const KeyObject& key, std::string_view password) {
    const Key wrapping = password_key(password, key.salt, key.kdf);
    Bytes plain;
    if (!gcm_open(wrapping.view(), key.nonce, key.header, key.wrapped, plain)) return std::nullopt;
    Key master(plain);
    OPENSSL_cleanse(plain.data(), plain.size());
    return master;
}

}  // namespace strata::crypto
