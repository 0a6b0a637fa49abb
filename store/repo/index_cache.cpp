#include "store/repo/index_cache.h"

#include <chrono>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "store/format/format.h"
#include "store/format/object_names.h"
#include "store/format/pack.h"
#include "store/index/index_probe.h"
#include "store/index/index_replace.h"
#include "store/repo/pending_deletion.h"
#include "store/repo/repository.h"

namespace strata {

CacheRefresh sync_index_with_objects(BlobIndex& index, ObjectStore& objects) {
    CacheRefresh r;
    std::unordered_map<BlobId, std::uint32_t, BlobIdHash> indexed;  // pack id → seq
    for (const auto& p : index.packs()) indexed.emplace(p.id, p.seq);
    std::unordered_set<BlobId, BlobIdHash> retired;
    for (const auto& p : load_pending_deletions(objects)) retired.insert(p.pack);

    std::unordered_set<BlobId, BlobIdHash> listed;
    for (const auto& object : objects.list(format::kPackDir)) {
        auto id = pack_id_from_name(object.name);
        if (!id || retired.count(*id)) continue;
        listed.insert(*id);
        if (indexed.count(*id)) continue;
        try {
            index.add_pack(*id, object.size, read_pack_trailer(objects, object.name, object.size));
            r.packs_added++;
        } catch (const StoreError& e) {
            // Damaged, or removed since the listing: verify tells which.
            if (e.kind() != StoreError::Kind::Corruption && e.kind() != StoreError::Kind::NotFound)
                throw;
            r.problems.push_back(std::string(e.what()) + " (pack skipped)");
        }
    }
    std::vector<std::uint32_t> gone;
    for (const auto& [id, seq] : indexed)
        if (!listed.count(id)) gone.push_back(seq);
    if (!gone.empty()) index.remove_packs(gone);
    r.packs_removed = gone.size();

    std::unordered_set<BlobId, BlobIdHash> known, on_store;
    for (const auto& s : index.snapshots()) known.insert(s.id);
    for (const auto& object : objects.list(format::kSnapshotDir)) {
        auto id = snapshot_id_from_name(object.name);
        if (!id) continue;
        on_store.insert(*id);
        if (known.count(*id)) continue;
        try {
            index.put_snapshot({*id, load_snapshot_record(objects, *id)});
            r.snapshots_added++;
        } catch (const StoreError& e) {
            if (e.kind() != StoreError::Kind::Corruption && e.kind() != StoreError::Kind::NotFound)
                throw;
            r.problems.push_back(object.name + ": " + e.what() + " (snapshot skipped)");
        }
    }
    for (const auto& id : known)
        if (!on_store.count(id)) {
            index.remove_snapshot(id);
            r.snapshots_removed++;
        }
    return r;
}

CacheRefresh refresh_index_cache(RepositoryStorage& storage, double wait_seconds) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    std::unique_ptr<WriterLock> lock;
    while (!(lock = storage.locks->try_lock("refresh the index cache"))) {
        if (probe_index(storage.index_dir, storage.location).empty()) return {};
        if (std::chrono::steady_clock::now() >= deadline)
            throw StoreError(StoreError::Kind::Locked,
                             "the index cache " + storage.index_dir + " of " + storage.location +
                                 " is being built by another process; try again when it is done");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CacheRefresh r;
    if (probe_index(storage.index_dir, storage.location).empty()) {
        BlobIndex index(storage.index_dir, BlobIndex::Access::ReadWrite);
        r = sync_index_with_objects(index, *storage.objects);
    } else {
        replace_index_dir(storage.index_dir, [&](BlobIndex& index) {
            r = sync_index_with_objects(index, *storage.objects);
        });
        r.rebuilt = true;
    }
    return r;
}

}  // namespace strata
