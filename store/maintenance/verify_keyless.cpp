#include "store/maintenance/verify_keyless.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "store/base/errors.h"
#include "store/base/hash.h"
#include "store/crypto/envelope.h"
#include "store/format/blob_codec.h"
#include "store/format/format.h"
#include "store/format/object_names.h"
#include "store/format/pack.h"
#include "store/repo/repo_keys.h"
#include "store/repo/repository.h"

namespace strata {
namespace {

// The tail of a pack read at once: its footer and, in nearly every pack, its whole trailer.
constexpr std::size_t kTailBytes = 64 << 10;
// Pieces a pack's content is hashed in (read-data).
constexpr std::size_t kPieceBytes = 8 << 20;

// Whether an object `size` bytes long can be an envelope around a padded plaintext of at least
// `min_plain` bytes: sealing makes it kEnvelopeOverhead plus a Padmé length.
bool sealed_length(std::uint64_t size, std::uint64_t min_plain) {
    if (size < crypto::kEnvelopeOverhead + min_plain) return false;
    const std::uint64_t inner = size - crypto::kEnvelopeOverhead;
    return padme_length(inner) == inner;
}

class KeylessVerifier {
  public:
    KeylessVerifier(ObjectStore& objects, const std::string& location, const VerifyOptions& opts)
        : objects_(objects), location_(location), opts_(opts) {}

    VerifyReport run() {
        r_.affected_known = false;
        const RepoConfigHeader header = load_repo_config_header(objects_, location_);
        if (!header.encrypted)
            throw_usage("the repository " + location_ +
                        " is not encrypted: `strata verify` checks it whole, with no password");
        check_keys(*BlobId::from_hex(header.id));
        check_packs();
        check_sealed(format::kSnapshotDir, snapshot_id_from_name, "snapshot record", r_.snapshots);
        std::uint64_t index_objects = 0, forget_records = 0;
        check_sealed(format::kIndexObjectDir, index_object_id_from_name, "index object",
                     index_objects);
        check_sealed(format::kForgottenDir, forget_record_id_from_name, "forget record",
                     forget_records);
        r_.notes.push_back(std::to_string(index_objects) + " index objects and " +
                           std::to_string(forget_records) +
                           " forget records: names and lengths checked");
        if (opts_.read_data == VerifyOptions::ReadData::Percent)
            r_.notes.push_back(
                "without the index, --read-data-subset N% reads a random share of the packs, "
                "not those verified longest ago");
        r_.notes.push_back(
            "checked without the password: blobs, trees and the content of snapshot records and "
            "index objects are sealed, so damage inside them, and which snapshots damage "
            "reaches, are found only by `strata verify` with the password");
        return std::move(r_);
    }

  private:
    void problem(const std::string& kind, const std::string& object, const std::string& detail) {
        r_.problems.push_back({kind, object, detail});
    }

    void progress(const char* phase, std::uint64_t done, std::uint64_t total,
                  std::uint64_t bytes = 0) {
        if (opts_.on_progress) opts_.on_progress({phase, done, total, bytes});
    }

    void check_keys(const BlobId& repository) {
        std::size_t usable = 0;
        for (const KeyInfo& k : list_repository_keys(objects_, repository)) {
            if (k.problem.empty())
                ++usable;
            else
                problem("key-object", key_object_name(k.id), k.problem);
        }
        if (usable == 0)
            problem("key-object", std::string(format::kKeyDir) + "/",
                    "no key object of this repository is sound: no password can open it; "
                    "restore " +
                        std::string(format::kKeyDir) + "/ from a copy of the repository");
    }

    // The packs whose content read_data reads.
    std::vector<std::size_t> select(const std::vector<ObjectInfo>& packs) {
        std::vector<std::size_t> chosen;
        if (opts_.read_data == VerifyOptions::ReadData::None) return chosen;
        for (std::size_t i = 0; i < packs.size(); ++i) {
            if (opts_.read_data == VerifyOptions::ReadData::Slice) {
                const BlobId id = *pack_id_from_name(packs[i].name);
                const std::uint32_t k = (std::uint32_t(id.bytes[0]) << 24) |
                                        (std::uint32_t(id.bytes[1]) << 16) |
                                        (std::uint32_t(id.bytes[2]) << 8) | id.bytes[3];
                if (k % opts_.slices != opts_.slice - 1) continue;
            }
            chosen.push_back(i);
        }
        if (opts_.read_data == VerifyOptions::ReadData::Percent) {
            std::shuffle(chosen.begin(), chosen.end(), std::mt19937_64(std::random_device{}()));
            const auto n = static_cast<std::size_t>(
                std::ceil(static_cast<double>(packs.size()) * opts_.percent / 100.0));
            if (n < chosen.size()) chosen.resize(n);
            std::sort(chosen.begin(), chosen.end());
        }
        return chosen;
    }

    void check_packs() {
        std::vector<ObjectInfo> packs;
        std::size_t strays = 0;
        for (auto& o : objects_.list(format::kPackDir)) {
            if (pack_id_from_name(o.name))
                packs.push_back(std::move(o));
            else
                ++strays;
        }
        if (strays)
            r_.notes.push_back(std::to_string(strays) + " objects in " + format::kPackDir +
                               "/ are not named as packs (not read)");
        r_.packs = packs.size();
        std::vector<bool> read(packs.size(), false);
        for (std::size_t i : select(packs)) read[i] = true;
        for (std::size_t i = 0; i < packs.size(); ++i) {
            progress(opts_.read_data == VerifyOptions::ReadData::None ? "packs" : "read-data", i,
                     packs.size(), r_.bytes_read);
            try {
                check_pack(packs[i], read[i]);
            } catch (const StoreError& e) {
                if (e.kind() == StoreError::Kind::NotFound) {
                    ++r_.packs_vanished;  // pruned meanwhile
                    continue;
                }
                if (e.kind() != StoreError::Kind::Corruption) throw;
                // Shorter than listed while it was read.
                problem("pack-size", packs[i].name, e.what());
            }
        }
    }

    void check_pack(const ObjectInfo& pack, bool read_data) {
        const BlobId id = *pack_id_from_name(pack.name);
        // Sealed trailer: a 12-byte header at least, in its length prefix and padding.
        const std::uint64_t min_trailer = crypto::kEnvelopeOverhead + 16;
        if (pack.size < format::kPackFooterSize + min_trailer) {
            problem("pack-size", pack.name,
                    std::to_string(pack.size) + " bytes, too short to be a pack");
            return;
        }
        const std::size_t tail_len =
            static_cast<std::size_t>(std::min<std::uint64_t>(pack.size, kTailBytes));
        const Bytes tail = objects_.read(pack.name, pack.size - tail_len, tail_len);
        r_.bytes_read += tail.size();
        PackFooter footer;
        try {
            footer =
                decode_pack_footer(ByteView(tail).subspan(tail.size() - format::kPackFooterSize));
        } catch (const StoreError& e) {
            problem("pack-trailer", pack.name, std::string("its footer: ") + e.what());
            return;
        }
        if (footer.checksum != id) {
            problem("pack-checksum", pack.name,
                    "its footer's checksum is not its name (damaged, or another pack's footer)");
            return;
        }
        const std::uint64_t body = pack.size - format::kPackFooterSize;
        if (footer.trailer_size > body || !sealed_length(footer.trailer_size, 16)) {
            problem("pack-trailer", pack.name,
                    "the footer's trailer length " + std::to_string(footer.trailer_size) +
                        " is not one a sealed trailer can have");
            return;
        }
        const std::uint64_t trailer_at = body - footer.trailer_size;
        std::uint8_t version = 0;
        if (trailer_at >= pack.size - tail_len) {
            version = tail[trailer_at - (pack.size - tail_len)];
        } else {
            version = objects_.read(pack.name, trailer_at, 1).at(0);
            ++r_.bytes_read;
        }
        if (version != crypto::kEnvelopeVersion) {
            problem("pack-trailer", pack.name,
                    "its trailer is not in an envelope of version " +
                        std::to_string(crypto::kEnvelopeVersion));
            return;
        }
        if (!read_data) return;
        Sha256Stream hash;
        for (std::uint64_t at = 0; at < body; at += kPieceBytes) {
            const std::size_t len =
                static_cast<std::size_t>(std::min<std::uint64_t>(kPieceBytes, body - at));
            const Bytes piece = objects_.read(pack.name, at, len);
            hash.update(piece);
            r_.bytes_read += piece.size();
        }
        ++r_.packs_read;
        if (hash.finish() != id)
            problem("pack-checksum", pack.name,
                    "the content does not match the pack's checksum (damaged)");
    }

    void check_sealed(const char* dir, std::optional<BlobId> (*id_from_name)(const std::string&),
                      const char* what, std::uint64_t& count) {
        for (const auto& o : objects_.list(dir)) {
            if (!id_from_name(o.name)) {
                r_.notes.push_back(o.name + " is not named as a " + std::string(what) +
                                   " (not read)");
                continue;
            }
            ++count;
            // u32 content length, then the content: 4 bytes at least inside the envelope.
            if (!sealed_length(o.size, 4))
                problem("sealed-object", o.name,
                        "its length, " + std::to_string(o.size) + " bytes, is not one a sealed " +
                            what + " can have (cut short or grown)");
        }
    }

    ObjectStore& objects_;
    const std::string& location_;
    const VerifyOptions& opts_;
    VerifyReport r_;
};

}  // namespace

VerifyReport verify_without_keys(ObjectStore& objects, const std::string& location,
                                 const VerifyOptions& opts) {
    return KeylessVerifier(objects, location, opts).run();
}

}  // namespace strata
