#include "store/format/pack.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "store/backend/object_store.h"
#include "store/format/compress.h"
#include "tests/store/store_test_support.h"
#include "tests/testlib/pack_builder.h"
#include "tests/testlib/temp_dir.h"

namespace strata {

// Packs here are written and read as a plain repository does.
const std::unique_ptr<BlobCodec> kPlain = plain_blob_codec(3);
namespace {

using testing::TempDir;

// Objects in memory: the storage seam lets pack checks run without a disk (and without an fsync
// per object, which matters when every byte of a pack is flipped in turn).
class MemoryStore final : public ObjectStore {
  public:
    class Writer final : public ObjectWriter {
      public:
        explicit Writer(MemoryStore& s) : store_(s) {}
        void append(ByteView d) override { data_.insert(data_.end(), d.begin(), d.end()); }
        std::uint64_t size() const override { return data_.size(); }
        void commit(const std::string& name) override { store_.objects_[name] = std::move(data_); }

      private:
        MemoryStore& store_;
        Bytes data_;
    };
    std::unique_ptr<ObjectWriter> create() override { return std::make_unique<Writer>(*this); }
    void put(const std::string& name, ByteView d) override {
        objects_[name] = Bytes(d.begin(), d.end());
    }
    Bytes read(const std::string& name, std::uint64_t off, std::size_t len) override {
        const Bytes& o = get(name);
        if (off > o.size() || len > o.size() - off) throw_corruption(name + ": short read");
        return Bytes(o.begin() + static_cast<std::ptrdiff_t>(off),
                     o.begin() + static_cast<std::ptrdiff_t>(off + len));
    }
    Bytes read_all(const std::string& name) override { return get(name); }
    std::uint64_t size(const std::string& name) override { return get(name).size(); }
    bool exists(const std::string& name) override { return objects_.count(name) > 0; }
    std::vector<ObjectInfo> list(const std::string& prefix) override {
        std::vector<ObjectInfo> out;
        for (const auto& [n, o] : objects_)
            if (n.rfind(prefix + "/", 0) == 0) out.push_back({n, o.size(), 0});
        return out;
    }
    void remove(const std::string& name) override { objects_.erase(name); }
    void discard_partial_writes() override {}

  private:
    const Bytes& get(const std::string& name) {
        auto it = objects_.find(name);
        if (it == objects_.end()) throw_not_found(name);
        return it->second;
    }
    std::map<std::string, Bytes> objects_;
};

struct Blob {
    BlobId id;
    format::BlobType type;
    format::Codec codec;
    Bytes stored;
    std::uint32_t raw_size;
};

std::vector<Blob> sample_blobs() {
    std::vector<Blob> out;
    std::mt19937_64 rng(3);
    for (int i = 0; i < 5; ++i) {
        Bytes plain(1000 + 777 * i);
        if (i % 2) {
            for (auto& b : plain) b = static_cast<std::uint8_t>(rng());
        } else {
            for (std::size_t k = 0; k < plain.size(); ++k)
                plain[k] = static_cast<std::uint8_t>(k % 7);
        }
        Compressed c = compress_blob(plain, 3);
        Bytes stored = c.codec == format::Codec::Raw ? plain : c.data;
        out.push_back({sha256(plain), i == 4 ? format::BlobType::Tree : format::BlobType::Data,
                       c.codec, stored, static_cast<std::uint32_t>(plain.size())});
    }
    return out;
}

class PackTest : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = std::make_unique<MemoryStore>();
        blobs_ = sample_blobs();
        PackBuilder b;
        for (const auto& x : blobs_) b.add(x.id, x.type, x.codec, x.stored, x.raw_size);
        pack_ = b.finish(pack_id_);
        name_ = pack_object_name(pack_id_);
        store_->put(name_, pack_);
    }

    // Stores `content` under a name and expects verify_pack_file to reject it as Corruption.
    std::string expect_rejected(const Bytes& content, const std::string& what,
                                std::string name = "") {
        if (name.empty()) name = name_;
        store_->put(name, content);
        std::string msg =
            expect_store_error([&] { verify_pack_file(*store_, *kPlain, name, nullptr); },
                               StoreError::Kind::Corruption, what);
        store_->put(name_, pack_);  // restore the good copy
        return msg;
    }

    std::unique_ptr<ObjectStore> store_;
    std::vector<Blob> blobs_;
    Bytes pack_;
    BlobId pack_id_;
    std::string name_;
};

TEST_F(PackTest, RoundTrip) {
    Bytes content;
    auto entries = verify_pack_file(*store_, *kPlain, name_, &content);
    EXPECT_EQ(content, pack_);
    ASSERT_EQ(entries.size(), blobs_.size());
    for (std::size_t i = 0; i < blobs_.size(); ++i) {
        const auto& e = entries[i];
        EXPECT_EQ(e.id, blobs_[i].id);
        EXPECT_EQ(e.type, blobs_[i].type);
        EXPECT_EQ(e.codec, blobs_[i].codec);
        EXPECT_EQ(e.raw_size, blobs_[i].raw_size);
        ASSERT_EQ(e.stored_size, blobs_[i].stored.size());
        Bytes stored = store_->read(name_, e.offset, e.stored_size);
        EXPECT_EQ(stored, blobs_[i].stored);
        Bytes plain = decompress_blob(e.codec, stored, e.raw_size);
        EXPECT_EQ(sha256(plain), e.id);
    }
    // The cheap trailer read agrees with the full verification.
    auto trailer = read_pack_trailer(*store_, *kPlain, name_);
    ASSERT_EQ(trailer.size(), entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        EXPECT_EQ(trailer[i].id, entries[i].id);
        EXPECT_EQ(trailer[i].offset, entries[i].offset);
    }
    // The pack id is the SHA-256 of everything before the footer, and the footer carries it.
    EXPECT_EQ(sha256(ByteView(pack_).subspan(0, pack_.size() - format::kPackFooterSize)), pack_id_);
    PackFooter f =
        decode_pack_footer(ByteView(pack_).subspan(pack_.size() - format::kPackFooterSize));
    EXPECT_EQ(f.checksum, pack_id_);
    EXPECT_EQ(f.trailer_size, 8 + 4 + blobs_.size() * format::kPackTrailerEntrySize);
}

TEST_F(PackTest, StreamingWriterMakesTheSamePack) {
    PackWriter w(store_->create(), *kPlain);
    for (const auto& x : blobs_) w.add(x.id, x.type, x.codec, x.stored, x.raw_size);
    BlobId id = w.commit();
    EXPECT_EQ(id, pack_id_);
    EXPECT_EQ(store_->read_all(pack_object_name(id)), pack_);
}

TEST_F(PackTest, EveryFlippedByteIsDetected) {
    for (std::size_t i = 0; i < pack_.size(); ++i) {
        Bytes bad = pack_;
        bad[i] ^= 0x01;
        expect_rejected(bad, "bit flipped at byte " + std::to_string(i) + " of " +
                                 std::to_string(pack_.size()));
    }
}

TEST_F(PackTest, TruncatedPacksAreDetected) {
    for (std::size_t keep :
         {std::size_t{0}, std::size_t{10}, format::kPackFooterSize, pack_.size() / 2,
          pack_.size() - format::kPackFooterSize, pack_.size() - 1}) {
        Bytes cut(pack_.begin(), pack_.begin() + static_cast<std::ptrdiff_t>(keep));
        expect_rejected(cut, "truncated to " + std::to_string(keep) + " bytes");
        store_->put(name_, cut);
        expect_store_error([&] { read_pack_trailer(*store_, *kPlain, name_); },
                           StoreError::Kind::Corruption,
                           "trailer of a pack truncated to " + std::to_string(keep));
        store_->put(name_, pack_);
    }
    Bytes longer = pack_;
    longer.push_back(0);
    expect_rejected(longer, "one byte appended");
}

TEST_F(PackTest, WrongNameIsDetected) {
    BlobId other = sha256(as_bytes("another pack"));
    std::string msg =
        expect_rejected(pack_, "valid pack under another pack's name", pack_object_name(other));
    EXPECT_NE(msg.find("name"), std::string::npos) << msg;
}

// The same pack through the local directory store: written atomically, read back, verified.
TEST_F(PackTest, LocalStoreRoundTrip) {
    TempDir dir;
    auto local = open_local_store(dir.path());
    PackWriter w(local->create(), *kPlain);
    for (const auto& x : blobs_) w.add(x.id, x.type, x.codec, x.stored, x.raw_size);
    BlobId id = w.commit();
    ASSERT_EQ(id, pack_id_);
    auto listed = local->list(format::kPackDir);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].name, name_);
    EXPECT_EQ(listed[0].size, pack_.size());
    EXPECT_EQ(verify_pack_file(*local, *kPlain, name_, nullptr).size(), blobs_.size());
    EXPECT_EQ(local->read_all(name_), pack_);
    EXPECT_TRUE(local->list(format::kTmpDir).empty()) << "the temporary file was left behind";
    Bytes flipped = pack_;
    flipped[pack_.size() / 3] ^= 0x40;
    local->put(name_, flipped);
    expect_store_error([&] { verify_pack_file(*local, *kPlain, name_, nullptr); },
                       StoreError::Kind::Corruption);
}

TEST(PackNames, RoundTripAndRejects) {
    BlobId id = sha256(as_bytes("p"));
    std::string name = pack_object_name(id);
    EXPECT_EQ(name, "packs/" + id.hex().substr(0, 2) + "/" + id.hex() + ".pack");
    ASSERT_TRUE(pack_id_from_name(name).has_value());
    EXPECT_EQ(*pack_id_from_name(name), id);
    std::string wrong_dir = name;
    wrong_dir[6] = wrong_dir[6] == '0' ? '1' : '0';
    EXPECT_FALSE(pack_id_from_name(wrong_dir).has_value()) << "the folder must match the id";
    EXPECT_FALSE(pack_id_from_name(name + ".tmp").has_value());
    EXPECT_FALSE(pack_id_from_name("packs/" + id.hex() + ".pack").has_value());
    EXPECT_FALSE(pack_id_from_name("snapshots/" + id.hex()).has_value());
}

TEST(PackTrailer, RejectsEntriesOutsideTheData) {
    Encoder t;
    t.raw(std::string_view(format::kPackTrailerMagic, 8));
    t.u32(1);
    t.raw(sha256(as_bytes("x")).bytes);
    t.u8(0);
    t.u8(0);
    t.u64(90);  // offset
    t.u32(20);  // stored size: 90 + 20 > 100
    t.u32(20);
    Bytes b = t.take();
    expect_store_error([&] { decode_pack_trailer(b, 100); }, StoreError::Kind::Corruption,
                       "past the data");
    EXPECT_EQ(decode_pack_trailer(b, 110).size(), 1u);
    // An entry count the trailer cannot hold is refused before anything is allocated for it.
    Encoder big;
    big.raw(std::string_view(format::kPackTrailerMagic, 8));
    big.u32(0xffffffffu);
    Bytes bb = big.take();
    expect_store_error([&] { decode_pack_trailer(bb, 100); }, StoreError::Kind::Corruption,
                       "absurd count");
    // Unknown type and codec bytes.
    Bytes bad_type = b;
    bad_type[8 + 4 + 32] = 7;
    expect_store_error([&] { decode_pack_trailer(bad_type, 110); }, StoreError::Kind::Corruption,
                       "blob type");
    Bytes bad_codec = b;
    bad_codec[8 + 4 + 33] = 9;
    expect_store_error([&] { decode_pack_trailer(bad_codec, 110); }, StoreError::Kind::Corruption,
                       "codec");
}

}  // namespace
}  // namespace strata
