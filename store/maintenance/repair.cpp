#include "store/maintenance/repair.h"

#include <optional>

#include "store/index/index.h"

namespace strata {
namespace {

// rebuild_index, for a caller holding the writer lock.
Repository::RepairReport rebuild_locked(Repository& repo) {
    // The index being replaced may still know where the blobs of a pack whose trailer is lost
    // lie. It is read only if a child process could read it without crashing (a damaged LMDB
    // file can make LMDB fault), and only when such a pack is met.
    std::optional<bool> previous_readable;
    std::unique_ptr<BlobIndex> previous_index;
    auto previous = [&](const BlobId& pack_id) {
        std::vector<PackEntry> out;
        if (!previous_readable) {
            previous_readable = repo.index_problem().empty();
            if (*previous_readable)
                previous_index =
                    std::make_unique<BlobIndex>(repo.index_dir(), BlobIndex::Access::ReadOnly);
        }
        if (!previous_index) return out;
        std::optional<std::uint32_t> seq;
        for (const auto& p : previous_index->packs())
            if (p.id == pack_id) seq = p.seq;
        if (!seq) return out;
        previous_index->for_each_blob([&](const BlobId& id, const BlobLocation& loc) {
            if (loc.pack == *seq)
                out.push_back({id, loc.type, loc.codec, loc.offset, loc.stored_size, loc.raw_size});
        });
        return out;
    };
    return repo.repair_index(previous);
}

}  // namespace

Repository::RepairReport rebuild_index(Repository& repo, const std::string& purpose,
                                       double lock_wait) {
    auto lock = repo.lock_for_writing(purpose, lock_wait);
    return rebuild_locked(repo);
}

std::unique_ptr<Repository> open_rebuilding_index(
    const std::string& path, const std::string& purpose, double lock_wait,
    const std::function<void(const std::string&)>& say, Repository::CacheSync sync) {
    try {
        return Repository::open(path, sync);
    } catch (const IndexUnusable& e) {
        say("strata " + purpose + ": " + e.problem() +
            "; rebuilding it from the packs and snapshot records (as `strata repair-index " + path +
            "` does)");
    }
    {
        auto bare = Repository::open_for_repair(path);
        auto lock = bare->lock_for_writing(purpose + " (rebuilding the index)", lock_wait);
        bool usable = false;
        try {  // another writer may have rebuilt it while we waited for the lock
            BlobIndex(bare->index_dir(), BlobIndex::Access::ReadOnly);
            usable = true;
        } catch (const IndexUnusable&) {
        }
        if (usable) {
            say("strata " + purpose + ": another process rebuilt the index meanwhile");
        } else {
            auto r = rebuild_locked(*bare);
            for (const auto& p : r.problems) say("problem: " + p);
            say("strata " + purpose + ": index rebuilt: " + std::to_string(r.packs) + " packs, " +
                std::to_string(r.blobs) + " blobs, " + std::to_string(r.snapshots) + " snapshots" +
                (r.problems.empty() ? "" : " (`strata verify` tells what the problems affect)"));
        }
    }
    return Repository::open(path, sync);
}

}  // namespace strata
