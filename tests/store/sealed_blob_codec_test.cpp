// The encrypted repositories' blob codec (store/format/blob_codec.h, sealed_blob_codec): keyed
// ids, padded sizes, and nothing opened that is not exactly what it was sealed as.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "store/base/errors.h"
#include "store/crypto/envelope.h"
#include "store/format/blob_codec.h"

namespace strata {
namespace {

Bytes text_of(std::size_t n) {  // compresses well
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>("strata "[i % 7]);
    return b;
}

Bytes noise_of(std::size_t n, std::uint32_t seed) {  // does not compress
    Bytes b(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& v : b) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v = static_cast<std::uint8_t>(x);
    }
    return b;
}

struct SealedBlobCodec : ::testing::Test {
    BlobId repo_id = sha256(as_bytes("repository"));
    crypto::RepositoryKeys keys = crypto::RepositoryKeys::derive(crypto::Key::random(), repo_id);
    std::unique_ptr<BlobCodec> codec = sealed_blob_codec(keys, 3);

    void expect_corruption(const BlobId& id, format::BlobType type, format::Codec c,
                           std::uint32_t raw_size, ByteView stored, const std::string& why) {
        try {
            codec->open(id, type, c, raw_size, stored);
            ADD_FAILURE() << why << ": opened";
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << why;
        }
    }
};

TEST_F(SealedBlobCodec, OpensWhatItSealedCompressibleOrNotDataOrTree) {
    for (const Bytes& plain : {text_of(100000), noise_of(70000, 1), Bytes{}, text_of(1)})
        for (auto type : {format::BlobType::Data, format::BlobType::Tree}) {
            const BlobId id = codec->id_of(plain);
            const BlobCodec::Sealed s = codec->seal(id, type, plain);
            EXPECT_EQ(s.codec, format::Codec::Sealed);
            ASSERT_FALSE(s.data.empty());
            EXPECT_EQ(codec->open(id, type, s.codec, static_cast<std::uint32_t>(plain.size()),
                                  s.stored(plain)),
                      plain);
        }
    // Compression still happens inside the envelope.
    const Bytes text = text_of(100000);
    EXPECT_LT(codec->seal(codec->id_of(text), format::BlobType::Data, text).data.size(), 5000u);
}

TEST_F(SealedBlobCodec, IdsAreKeyedNotPlainSha256) {
    const Bytes plain = text_of(5000);
    EXPECT_NE(codec->id_of(plain), sha256(plain));
    EXPECT_EQ(codec->id_of(plain), crypto::hmac_sha256(keys.blob_id, plain));
    auto other =
        sealed_blob_codec(crypto::RepositoryKeys::derive(crypto::Key::random(), repo_id), 3);
    EXPECT_NE(codec->id_of(plain), other->id_of(plain))
        << "two repositories holding the same file give it different ids";
}

TEST_F(SealedBlobCodec, StoredSizesArePaddedSoNearbyLengthsLookAlike) {
    std::set<std::size_t> stored_sizes;
    for (std::uint32_t n = 60000; n < 61000; ++n) {
        const Bytes plain = noise_of(n, n);
        const auto s = codec->seal(codec->id_of(plain), format::BlobType::Data, plain);
        // Stored raw inside (noise): inner codec byte, length, payload, padding; then the envelope.
        EXPECT_EQ(s.data.size(), padme_length(5 + n) + crypto::kEnvelopeOverhead) << n;
        stored_sizes.insert(s.data.size());
    }
    EXPECT_LE(stored_sizes.size(), 2u) << "1,000 lengths fall into one or two stored sizes";
    for (std::uint64_t n = 1; n < (1u << 22); n = n * 5 / 4 + 1) {
        const std::uint64_t p = padme_length(n);
        EXPECT_GE(p, n);
        EXPECT_EQ(padme_length(p), p) << n;
        if (n >= 64) {
            EXPECT_LE((p - n) * 100, n * 12) << n;
        }
    }
    EXPECT_EQ(padme_length(1000), 1024u);
    EXPECT_EQ(padme_length(9), 10u);
}

TEST_F(SealedBlobCodec, RefusesAnyChangeAnotherIdOrTypeAndAnUnsealedBlob) {
    const Bytes plain = text_of(3000);
    const BlobId id = codec->id_of(plain);
    const auto s = codec->seal(id, format::BlobType::Data, plain);
    const auto n = static_cast<std::uint32_t>(plain.size());
    for (std::size_t i = 0; i < s.data.size(); ++i) {
        Bytes bad = s.data;
        bad[i] ^= 0x01;
        expect_corruption(id, format::BlobType::Data, s.codec, n, bad,
                          "byte " + std::to_string(i) + " flipped");
    }
    expect_corruption(id, format::BlobType::Tree, s.codec, n, s.data, "file data taken as a tree");
    const Bytes other = text_of(3001);
    expect_corruption(codec->id_of(other), format::BlobType::Data, s.codec, n, s.data,
                      "served for another blob");
    expect_corruption(id, format::BlobType::Data, s.codec, n + 1, s.data, "another size");
    expect_corruption(id, format::BlobType::Data, format::Codec::Raw, n, plain,
                      "plaintext in an encrypted repository");
    auto other_repo =
        sealed_blob_codec(crypto::RepositoryKeys::derive(crypto::Key::random(), repo_id), 3);
    try {
        other_repo->open(id, format::BlobType::Data, s.codec, n, s.data);
        ADD_FAILURE() << "opened with another repository's keys";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption);
    }
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// Index objects and snapshot records: named by the keyed MAC of their content, sealed to their
// kind and name, padded; every flipped byte, a truncation, another kind or another name is
// refused. Pack trailers: sealed to their kind. The plain codec names by SHA-256 and stores the
// bytes as they are.
TEST(SealedObjects, AreNamedByKeyedMacSealedToKindAndNameAndRefuseEveryChange) {
    const BlobId repo_id = sha256(as_bytes("repository"));
    const auto keys = crypto::RepositoryKeys::derive(crypto::Key::random(), repo_id);
    const auto codec = sealed_blob_codec(keys, 3);
    const std::string text = "a snapshot record's bytes";
    const Bytes plain(text.begin(), text.end());
    const auto sealed = codec->seal_object(crypto::ObjectKind::SnapshotRecord, plain);
    EXPECT_EQ(sealed.id, codec->id_of(plain));
    EXPECT_NE(sealed.id, sha256(plain));
    EXPECT_EQ(std::string(sealed.stored.begin(), sealed.stored.end()).find(text),
              std::string::npos);
    EXPECT_EQ(codec->open_object(crypto::ObjectKind::SnapshotRecord, sealed.id, sealed.stored),
              plain);
    auto refused = [&](crypto::ObjectKind kind, const BlobId& id, Bytes stored) {
        try {
            codec->open_object(kind, id, std::move(stored));
        } catch (const StoreError& e) {
            return e.kind() == StoreError::Kind::Corruption;
        }
        return false;
    };
    for (std::size_t i = 0; i < sealed.stored.size(); ++i) {
        Bytes flipped = sealed.stored;
        flipped[i] ^= 1;
        EXPECT_TRUE(refused(crypto::ObjectKind::SnapshotRecord, sealed.id, flipped)) << i;
    }
    Bytes cut = sealed.stored;
    cut.pop_back();
    EXPECT_TRUE(refused(crypto::ObjectKind::SnapshotRecord, sealed.id, cut));
    EXPECT_TRUE(refused(crypto::ObjectKind::IndexObject, sealed.id, sealed.stored));
    EXPECT_TRUE(refused(crypto::ObjectKind::SnapshotRecord, sha256(plain), sealed.stored));
    // Another repository's keys open nothing.
    const auto other =
        sealed_blob_codec(crypto::RepositoryKeys::derive(crypto::Key::random(), repo_id), 3);
    EXPECT_THROW(other->open_object(crypto::ObjectKind::SnapshotRecord, sealed.id, sealed.stored),
                 StoreError);

    const Bytes trailer = codec->seal_trailer(plain);
    EXPECT_EQ(codec->open_trailer(trailer), plain);
    EXPECT_EQ(trailer.size(), crypto::kEnvelopeOverhead + padme_length(4 + plain.size()));
    for (std::size_t i = 0; i < trailer.size(); ++i) {
        Bytes flipped = trailer;
        flipped[i] ^= 0x80;
        EXPECT_THROW(codec->open_trailer(flipped), StoreError) << i;
    }

    const auto plain_codec = plain_blob_codec(3);
    const auto named = plain_codec->seal_object(crypto::ObjectKind::SnapshotRecord, plain);
    EXPECT_EQ(named.id, sha256(plain));
    EXPECT_EQ(named.stored, plain);
    EXPECT_EQ(plain_codec->seal_trailer(plain), plain);
    EXPECT_THROW(plain_codec->open_object(crypto::ObjectKind::SnapshotRecord, sealed.id, plain),
                 StoreError);
    // The gear tables: the fixed one for a plain repository, a keyed one otherwise.
    EXPECT_EQ(plain_codec->gear_table(), fixed_gear_table());
    EXPECT_NE(codec->gear_table(), fixed_gear_table());
    EXPECT_NE(codec->gear_table(), other->gear_table());
}

}  // namespace
}  // namespace strata
