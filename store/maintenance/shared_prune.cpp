#include "store/maintenance/shared_prune.h"

#include <algorithm>
#include <ctime>
#include <unordered_map>

#include "store/base/crash_point.h"
#include "store/format/format.h"
#include "store/format/index_object.h"
#include "store/format/pack.h"
#include "store/format/snapshot.h"
#include "store/repo/index_cache.h"
#include "store/repo/pending_deletion.h"
#include "store/repo/writer_marker.h"

namespace strata::pruning {
namespace {

// Snapshot records in snapshots/ that are not among `snaps`.
std::vector<BlobId> snapshots_not_among(Repository& repo, const std::vector<Snapshot>& snaps) {
    std::unordered_set<BlobId, BlobIdHash> known;
    for (const auto& s : snaps) known.insert(s.id);
    std::vector<BlobId> out;
    for (const auto& object : repo.objects().list(format::kSnapshotDir))
        if (auto id = snapshot_id_from_name(object.name); id && !known.count(*id))
            out.push_back(*id);
    return out;
}

}  // namespace

std::size_t rescue_pending_packs(Repository& repo,
                                 const std::unordered_set<BlobId, BlobIdHash>& used) {
    BlobIndex& index = repo.index();
    std::unordered_map<std::string, std::uint64_t> size_of;
    for (const auto& f : repo.objects().list(format::kPackDir)) size_of.emplace(f.name, f.size);
    std::unordered_set<BlobId, BlobIdHash> indexed;
    for (const auto& p : index.packs()) indexed.insert(p.id);
    std::size_t rescued = 0;
    for (const auto& record : load_deletion_records(repo.objects())) {
        std::vector<BlobId> kept;
        for (const auto& p : record.packs) {
            auto file = size_of.find(pack_object_name(p.pack));
            if (file == size_of.end() || indexed.count(p.pack)) continue;
            std::vector<PackEntry> entries;
            try {
                entries =
                    read_pack_trailer(repo.objects(), repo.codec(), file->first, file->second);
            } catch (const StoreError&) {
                continue;  // damaged: verify reports it
            }
            bool needed = false;
            for (const auto& e : entries)
                needed = needed || (used.count(e.id) && !index.contains(e.id));
            if (!needed) continue;
            index.add_pack(p.pack, file->second, entries);
            indexed.insert(p.pack);
            kept.push_back(p.pack);
            rescued++;
        }
        record_kept(repo.objects(), record.name, kept);
    }
    return rescued;
}

void index_kept_packs(Repository& repo) {
    BlobIndex& index = repo.index();
    std::unordered_set<BlobId, BlobIdHash> indexed;
    for (const auto& p : index.packs()) indexed.insert(p.id);
    for (const auto& record : load_deletion_records(repo.objects()))
        for (const auto& id : record.kept) {
            if (!indexed.insert(id).second) continue;
            const std::string name = pack_object_name(id);
            try {
                const std::uint64_t size = repo.objects().size(name);
                index.add_pack(id, size,
                               read_pack_trailer(repo.objects(), repo.codec(), name, size));
            } catch (const StoreError& e) {
                if (e.kind() != StoreError::Kind::NotFound &&
                    e.kind() != StoreError::Kind::Corruption)
                    throw;  // gone or damaged: verify reports it
            }
        }
}

bool new_snapshot_appeared(Repository& repo, const std::vector<Snapshot>& snaps) {
    return !snapshots_not_among(repo, snaps).empty();
}

bool spare_packs_of_new_snapshots(Repository& repo, Marker& marker, std::vector<Snapshot>& snaps,
                                  std::vector<std::uint32_t>& doomed,
                                  std::vector<PackInfo>& doomed_info) {
    std::vector<BlobId> fresh = snapshots_not_among(repo, snaps);
    if (fresh.empty()) return true;
    sync_index_with_objects(repo.index(), repo.objects(), repo.codec());
    try {
        for (const auto& id : fresh) {
            Snapshot s{id, repo.load_snapshot_record(id)};
            marker.mark(s);
            snaps.push_back(std::move(s));
        }
    } catch (const StoreError&) {
        return false;
    }
    std::unordered_set<std::uint32_t> spared;
    for (const auto& id : marker.used)
        if (auto loc = repo.index().find(id)) spared.insert(loc->pack);
    doomed.erase(std::remove_if(doomed.begin(), doomed.end(),
                                [&](std::uint32_t seq) { return spared.count(seq) > 0; }),
                 doomed.end());
    doomed_info.erase(std::remove_if(doomed_info.begin(), doomed_info.end(),
                                     [&](const PackInfo& p) { return spared.count(p.seq) > 0; }),
                      doomed_info.end());
    return true;
}

std::unordered_set<std::string> records_held_by_writers(Repository& repo) {
    std::unordered_set<std::string> held;
    if (!repo.index_is_cache()) return held;
    std::vector<std::string> names;
    for (const auto& r : load_deletion_records(repo.objects())) names.push_back(r.name);
    const std::string own = repo.writer_marker_name();
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (const auto& w : list_writers(repo.objects())) {
        if (w.name == own) continue;
        if (now - w.written > writer_expiry_seconds()) {
            repo.objects().remove(w.name);  // its writer died: it holds nothing up
            continue;
        }
        for (const auto& n : names)
            if (std::find(w.knows.begin(), w.knows.end(), n) == w.knows.end()) held.insert(n);
    }
    return held;
}

std::size_t merge_index_objects(Repository& repo, bool changed) {
    BlobIndex& index = repo.index();
    const std::vector<BlobId> merged = index.index_objects_read();
    if (merged.size() == 1 && !changed) return 0;
    IndexObject object;
    std::vector<IndexedPack>& packs = object.packs;
    std::unordered_map<std::uint32_t, std::size_t> slot;  // pack seq -> position in packs
    for (const auto& p : index.packs()) {
        slot.emplace(p.seq, packs.size());
        packs.push_back({p.id, p.size, {}});
    }
    auto describe = [&](const BlobId& id, const BlobLocation& loc) {
        auto at = slot.find(loc.pack);
        if (at == slot.end()) return;
        packs[at->second].entries.push_back(
            {id, loc.type, loc.codec, loc.offset, loc.stored_size, loc.raw_size});
    };
    // Copies too: a host that builds its cache from this object must know them, in case another
    // host's prune deletes the pack it locates a blob in.
    index.for_each_blob(describe);
    index.for_each_duplicate(describe);
    for (auto& p : packs)
        std::sort(p.entries.begin(), p.entries.end(),
                  [](const PackEntry& a, const PackEntry& b) { return a.offset < b.offset; });
    // The records of the snapshots kept, so that a fresh host fetches none of them. A record
    // that does not encode to its id (written by an older format) is left to snapshots/.
    for (const auto& s : index.snapshots()) {
        Bytes record = encode_snapshot(s.rec);
        if (repo.codec().id_of(record) == s.id) object.records.push_back({s.id, std::move(record)});
    }
    const auto sealed =
        repo.codec().seal_object(crypto::ObjectKind::IndexObject, encode_index_object(object));
    const BlobId id = sealed.id;
    repo.objects().put(index_object_name(id), sealed.stored);
    index.note_index_objects({id}, {});
    crash_point("prune-index-merged");
    std::vector<BlobId> removed;
    for (const auto& old : merged) {
        if (old == id) continue;  // nothing changed since it was written
        repo.objects().remove(index_object_name(old));
        removed.push_back(old);
    }
    index.note_index_objects({}, removed);
    return removed.size();
}

}  // namespace strata::pruning
