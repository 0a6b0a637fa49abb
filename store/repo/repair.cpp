#include <algorithm>

#include "store/format/format.h"
#include "store/index/index_replace.h"
#include "store/repo/repository.h"

// Rebuilding the index from the packs and snapshot records (`strata repair-index`).
namespace strata {

// The entries of `listed` whose bytes are still inside the pack `name` and hash to their id, in
// offset order.
std::vector<PackEntry> Repository::blobs_still_sound(const std::string& name, std::uint64_t size,
                                                     std::vector<PackEntry> listed) {
    std::vector<PackEntry> sound;
    if (listed.empty()) return sound;
    std::sort(listed.begin(), listed.end(),
              [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
    for (const auto& e : listed) {
        if (e.offset > size || e.stored_size > size - e.offset || e.raw_size > format::kMaxBlobSize)
            continue;
        try {
            Bytes stored = objects_->read(name, e.offset, e.stored_size);
            codec_->open(e.id, e.type, e.codec, e.raw_size, stored);
            sound.push_back(e);
        } catch (const StoreError&) {
            // damaged too: left out
        }
    }
    return sound;
}

Repository::RepairReport Repository::repair_index(const PreviousEntries& previous) {
    RepairReport r;
    index_.reset();  // replaced; LMDB forbids two environments on one file in a process
    replace_index_dir(
        index_dir_,
        [&](BlobIndex& idx) {
            for (const auto& object : objects_->list(format::kPackDir)) {
                const std::string& name = object.name;
                auto pid = pack_id_from_name(name);
                if (!pid) {
                    r.problems.push_back(name + ": not a pack name, ignored");
                    continue;
                }
                try {
                    auto entries = read_pack_trailer(*objects_, *codec_, name, object.size);
                    idx.add_pack(*pid, object.size, entries);
                    r.packs++;
                    r.blobs += entries.size();
                } catch (const StoreError& e) {
                    std::vector<PackEntry> listed =
                        previous ? previous(*pid) : std::vector<PackEntry>{};
                    std::vector<PackEntry> sound = blobs_still_sound(name, object.size, listed);
                    if (sound.empty()) {
                        r.problems.push_back(std::string(e.what()) + " (pack skipped)");
                        continue;
                    }
                    idx.add_pack(*pid, object.size, sound);
                    r.packs++;
                    r.blobs += sound.size();
                    r.problems.push_back(
                        std::string(e.what()) + "; " + std::to_string(sound.size()) + " of the " +
                        std::to_string(listed.size()) +
                        " blobs the previous index listed in it are intact and indexed again "
                        "(the pack stays damaged: `strata verify` reports it)");
                }
            }
            for (const auto& object : objects_->list(format::kSnapshotDir)) {
                const std::string& name = object.name;
                auto id = snapshot_id_from_name(name);
                try {
                    if (!id) throw_corruption(name + ": not a snapshot record's name");
                    try {
                        idx.put_snapshot({*id, load_snapshot_record(*id)});
                    } catch (const StoreError& e) {
                        throw StoreError(e.kind(), name + ": " + e.what());
                    }
                    r.snapshots++;
                } catch (const StoreError& e) {
                    r.problems.push_back(std::string(e.what()) + " (snapshot skipped)");
                }
            }
        },
        codec_.get());
    index_ = std::make_unique<BlobIndex>(index_dir_, BlobIndex::Access::ReadWrite, codec_.get());
    return r;
}

}  // namespace strata
