// store/crypto/: the key derivation and MAC against their published test vectors, the envelope
// (every flipped byte, truncation and mix-up refused), and key objects.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "store/base/errors.h"
#include "store/crypto/envelope.h"
#include "store/crypto/key_object.h"
#include "store/crypto/keys.h"

namespace strata::crypto {
namespace {

Bytes from_hex(const std::string& hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

BlobId id_of(std::uint8_t fill) {
    BlobId id;
    id.bytes.fill(fill);
    return id;
}

// Cheap Argon2id costs: these tests check the format, not the cost.
const KdfParams kFast{1, kMinMemoryKib};

TEST(CryptoKeys, HkdfSha256GivesRfc5869TestCase1) {
    Bytes ikm(22, 0x0b);
    const Bytes out = hkdf_sha256(ikm, from_hex("000102030405060708090a0b0c"),
                                  from_hex("f0f1f2f3f4f5f6f7f8f9"), 42);
    EXPECT_EQ(
        to_hex(out),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(CryptoKeys, HkdfSha256GivesRfc5869TestCase3WithNoSaltAndNoInfo) {
    const Bytes out = hkdf_sha256(Bytes(22, 0x0b), {}, {}, 42);
    EXPECT_EQ(
        to_hex(out),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(CryptoKeys, SubkeysDifferFromEachOtherAndBetweenRepositories) {
    const Key master = Key::random();
    const RepositoryKeys a = RepositoryKeys::derive(master, id_of(1));
    const RepositoryKeys again = RepositoryKeys::derive(master, id_of(1));
    const RepositoryKeys other = RepositoryKeys::derive(master, id_of(2));
    EXPECT_TRUE(a.content == again.content && a.blob_id == again.blob_id &&
                a.chunker == again.chunker);
    EXPECT_FALSE(a.content == a.blob_id);
    EXPECT_FALSE(a.content == a.chunker);
    EXPECT_FALSE(a.blob_id == a.chunker);
    EXPECT_FALSE(a.content == other.content);
    EXPECT_FALSE(a.blob_id == other.blob_id);
    EXPECT_FALSE(a.content == master);
    EXPECT_FALSE(Key::random() == Key::random());
}

TEST(CryptoKeys, BlobIdsAreKeyedSoAKnownFileCannotBeRecognised) {
    const Bytes plain(1000, 'x');
    const Key k1 = Key::random(), k2 = Key::random();
    EXPECT_EQ(hmac_sha256(k1, plain), hmac_sha256(k1, plain));
    EXPECT_NE(hmac_sha256(k1, plain), hmac_sha256(k2, plain));
    EXPECT_NE(hmac_sha256(k1, plain), sha256(plain));
    // RFC 4231's vectors have no 32-byte key; this one is what Python's hmac module gives for the
    // key bytes 0x01..0x20 and "abc".
    Bytes kb;
    for (int i = 1; i <= 32; ++i) kb.push_back(static_cast<std::uint8_t>(i));
    EXPECT_EQ(hmac_sha256(Key(kb), as_bytes("abc")).hex(),
              "a21b1f5d4cf4f73a4dd939750f7a066a7f98cc131cb16a6692759021cfab8181");
}

TEST(CryptoEnvelope, GcmGivesTheGcmSpecsTestCase16) {
    const Bytes key = from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const Bytes iv = from_hex("cafebabefacedbaddecaf888");
    const Bytes plain = from_hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24"
        "49a6b525b16aedf5aa0de657ba637b39");
    const Bytes ad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const Bytes sealed = gcm_seal(key, iv, ad, plain);
    EXPECT_EQ(to_hex(sealed),
              "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b0"
              "8b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b");
    Bytes back;
    ASSERT_TRUE(gcm_open(key, iv, ad, sealed, back));
    EXPECT_EQ(back, plain);
    Bytes other_ad = ad;
    other_ad[0] ^= 1;
    EXPECT_FALSE(gcm_open(key, iv, other_ad, sealed, back));
    EXPECT_TRUE(back.empty()) << "no unauthenticated plaintext is handed out";
}

TEST(CryptoEnvelope, SealsAndOpensAndTwoSealsOfOneObjectDiffer) {
    const Key content = Key::random();
    const Bytes plain = from_hex("00112233445566778899");
    const Bytes a = seal(content, ObjectKind::DataBlob, id_of(7), plain);
    const Bytes b = seal(content, ObjectKind::DataBlob, id_of(7), plain);
    EXPECT_EQ(a.size(), plain.size() + kEnvelopeOverhead);
    EXPECT_EQ(a[0], kEnvelopeVersion);
    EXPECT_NE(a, b) << "a random nonce each time";
    EXPECT_EQ(open(content, ObjectKind::DataBlob, id_of(7), a), plain);
    EXPECT_EQ(open(content, ObjectKind::DataBlob, id_of(7), b), plain);
    EXPECT_EQ(open(content, ObjectKind::TreeBlob, id_of(1),
                   seal(content, ObjectKind::TreeBlob, id_of(1), {})),
              Bytes{});
}

// The envelope's layout, key and associated data as docs/repository-format.md gives them, made
// by another implementation (Python's `cryptography` and `hmac`, from the document): content key
// bytes 0..31, a tree blob whose id is 32 bytes 0xab, nonce 12 bytes 0x02, plaintext "tree bytes".
TEST(CryptoEnvelope, OpensAnEnvelopeMadeFromTheDocumentByAnotherImplementation) {
    Bytes kb;
    for (int i = 0; i < 32; ++i) kb.push_back(static_cast<std::uint8_t>(i));
    const Bytes sealed =
        from_hex("01020202020202020202020202ac93b34a188baef4c754f9404cc0d2ce12d96b0eb067c4996cfd");
    const Bytes plain = open(Key(kb), ObjectKind::TreeBlob, id_of(0xab), sealed);
    EXPECT_EQ(std::string(plain.begin(), plain.end()), "tree bytes");
}

void expect_refused(const Key& content, ObjectKind kind, const BlobId& id, const Bytes& sealed,
                    const std::string& why) {
    try {
        open(content, kind, id, sealed);
        ADD_FAILURE() << why << ": opened";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << why;
    }
}

TEST(CryptoEnvelope, EveryFlippedBitTruncationAndMixUpIsRefused) {
    const Key content = Key::random();
    Bytes plain(300);
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<std::uint8_t>(i * 7);
    const BlobId id = id_of(3);
    const Bytes sealed = seal(content, ObjectKind::DataBlob, id, plain);
    for (std::size_t i = 0; i < sealed.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            Bytes bad = sealed;
            bad[i] ^= static_cast<std::uint8_t>(1 << bit);
            expect_refused(content, ObjectKind::DataBlob, id, bad,
                           "byte " + std::to_string(i) + " bit " + std::to_string(bit));
        }
    for (std::size_t n = 0; n < sealed.size(); ++n)
        expect_refused(content, ObjectKind::DataBlob, id, Bytes(sealed.begin(), sealed.begin() + n),
                       "truncated to " + std::to_string(n));
    Bytes longer = sealed;
    longer.push_back(0);
    expect_refused(content, ObjectKind::DataBlob, id, longer, "a byte appended");
    expect_refused(content, ObjectKind::TreeBlob, id, sealed, "a data blob taken for a tree");
    expect_refused(content, ObjectKind::DataBlob, id_of(4), sealed, "another blob's id");
    expect_refused(Key::random(), ObjectKind::DataBlob, id, sealed, "another repository's key");
}

TEST(CryptoKeyObject, APasswordOpensItsKeyObjectAndNoOtherDoes) {
    const Key master = Key::random();
    const Bytes data = make_key_object(master, "hunter2", id_of(9), kFast, 1767225600, "host-a");
    const KeyObject k = decode_key_object(data);
    EXPECT_EQ(k.repository, id_of(9));
    EXPECT_EQ(k.created, 1767225600);
    EXPECT_EQ(k.host, "host-a");
    EXPECT_EQ(k.kdf.time_cost, kFast.time_cost);
    EXPECT_EQ(k.kdf.memory_kib, kFast.memory_kib);
    auto opened = unwrap_master_key(k, "hunter2");
    ASSERT_TRUE(opened.has_value());
    EXPECT_TRUE(*opened == master);
    EXPECT_FALSE(unwrap_master_key(k, "hunter3").has_value());
    EXPECT_FALSE(unwrap_master_key(k, "").has_value());
    // Two key objects of one password and key share no salt, nonce or ciphertext.
    const Bytes again = make_key_object(master, "hunter2", id_of(9), kFast, 1767225600, "host-a");
    EXPECT_NE(again, data);
    EXPECT_EQ(data.size(), again.size());
}

TEST(CryptoKeyObject, AnyChangedByteIsRefusedOrFailsToOpenNeverGivesAnotherKey) {
    const Key master = Key::random();
    const Bytes data = make_key_object(master, "pw", id_of(5), kFast, 1, "h");
    for (std::size_t i = 0; i < data.size(); ++i) {
        Bytes bad = data;
        bad[i] ^= 0x10;
        try {
            const KeyObject k = decode_key_object(bad);
            EXPECT_FALSE(unwrap_master_key(k, "pw").has_value()) << "byte " << i;
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << "byte " << i;
        }
    }
    for (std::size_t n = 0; n < data.size(); ++n)
        EXPECT_THROW(decode_key_object(ByteView(data).first(n)), StoreError) << n;
    Bytes longer = data;
    longer.push_back(0);
    EXPECT_THROW(decode_key_object(longer), StoreError);
}

TEST(CryptoKeyObject, CostsOutsideTheBoundsAreRefusedBeforeAnyWork) {
    const Bytes data = make_key_object(Key::random(), "pw", id_of(5), kFast, 1, "h");
    auto with_u32 = [&](std::size_t at, std::uint32_t v) {
        Bytes b = data;
        for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
        return b;
    };
    constexpr std::size_t kTimeAt = 12, kMemoryAt = 16;  // after "strata-key", version, kdf
    for (std::uint32_t t : {0u, kMaxTimeCost + 1})
        EXPECT_THROW(decode_key_object(with_u32(kTimeAt, t)), StoreError) << t;
    for (std::uint32_t m : {kMinMemoryKib - 1, kMaxMemoryKib + 1, 0xffffffffu})
        EXPECT_THROW(decode_key_object(with_u32(kMemoryAt, m)), StoreError) << m;
    try {
        decode_key_object(with_u32(kMemoryAt, 0xffffffffu));
    } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("memory cost"), std::string::npos) << e.what();
    }
    Bytes magic = data;
    magic[0] = 'S';
    EXPECT_THROW(decode_key_object(magic), StoreError);
}

}  // namespace
}  // namespace strata::crypto
