#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "store/format/format.h"
#include "store/repo/repository.h"

// Rebuilding the index from the packs and snapshot records (`strata repair-index`).
namespace strata {
namespace {

void remove_tree(const std::string& p) {
    DIR* d = ::opendir(p.c_str());
    if (!d) {
        ::unlink(p.c_str());
        return;
    }
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        std::string c = p + "/" + n;
        struct stat st;
        if (::lstat(c.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(c);
        else
            ::unlink(c.c_str());
    }
    ::closedir(d);
    ::rmdir(p.c_str());
}

}  // namespace

// The entries of `listed` whose bytes are still inside the pack `name` and hash to their id, in
// offset order.
std::vector<PackEntry> Repository::blobs_still_sound(const std::string& name,
                                                     std::vector<PackEntry> listed) {
    std::vector<PackEntry> sound;
    if (listed.empty()) return sound;
    std::uint64_t size = 0;
    try {
        size = objects_->size(name);
    } catch (const StoreError&) {
        return sound;
    }
    std::sort(listed.begin(), listed.end(),
              [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
    for (const auto& e : listed) {
        if (e.offset > size || e.stored_size > size - e.offset || e.raw_size > format::kMaxBlobSize)
            continue;
        try {
            Bytes stored = objects_->read(name, e.offset, e.stored_size);
            codec_->open(e.id, e.codec, e.raw_size, stored);
            sound.push_back(e);
        } catch (const StoreError&) {
            // damaged too: left out
        }
    }
    return sound;
}

Repository::RepairReport Repository::repair_index(const PreviousEntries& previous) {
    RepairReport r;
    const std::string dir = path_ + "/" + format::kIndexDir;
    const std::string fresh = dir + ".new";
    remove_tree(fresh);
    {
        BlobIndex idx(fresh, BlobIndex::Access::Create);
        for (const auto& name : objects_->list(format::kPackDir)) {
            auto pid = pack_id_from_name(name);
            if (!pid) {
                r.problems.push_back(name + ": not a pack name, ignored");
                continue;
            }
            try {
                auto entries = read_pack_trailer(*objects_, name);
                idx.add_pack(*pid, objects_->size(name), entries);
                r.packs++;
                r.blobs += entries.size();
            } catch (const StoreError& e) {
                std::vector<PackEntry> listed =
                    previous ? previous(*pid) : std::vector<PackEntry>{};
                std::vector<PackEntry> sound = blobs_still_sound(name, listed);
                if (sound.empty()) {
                    r.problems.push_back(std::string(e.what()) + " (pack skipped)");
                    continue;
                }
                idx.add_pack(*pid, objects_->size(name), sound);
                r.packs++;
                r.blobs += sound.size();
                r.problems.push_back(
                    std::string(e.what()) + "; " + std::to_string(sound.size()) + " of the " +
                    std::to_string(listed.size()) +
                    " blobs the previous index listed in it are intact and indexed again "
                    "(the pack stays damaged: `strata verify` reports it)");
            }
        }
        for (const auto& name : objects_->list(format::kSnapshotDir)) {
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
    }
    index_.reset();
    const std::string old = dir + ".old";
    remove_tree(old);
    if (::rename(dir.c_str(), old.c_str()) != 0 && errno != ENOENT)
        throw_io("move old index", errno);
    if (::rename(fresh.c_str(), dir.c_str()) != 0) throw_io("install new index", errno);
    remove_tree(old);
    index_ = std::make_unique<BlobIndex>(dir, BlobIndex::Access::ReadWrite);
    return r;
}

}  // namespace strata
