#include "store/maintenance/prune.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "store/base/crash_point.h"
#include "store/base/host_name.h"
#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/marker.h"
#include "store/maintenance/repacker.h"
#include "store/maintenance/shared_prune.h"
#include "store/repo/pending_deletion.h"

namespace strata {
namespace {

// Bytes of a pack that belong to no blob: the footer, and the trailer's magic and entry count.
constexpr std::uint64_t kPackFixedOverhead = format::kPackFooterSize + 8 + 4;

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Snapshot records on disk that the index does not list. Under the writer lock (after the lock's
// reconciliation) only damaged records remain here; prune refuses to run then, since it cannot
// know which data they reference.
std::vector<Snapshot> unindexed_records(Repository& repo, const std::vector<Snapshot>& indexed) {
    std::unordered_set<BlobId, BlobIdHash> known;
    for (const auto& s : indexed) known.insert(s.id);
    std::vector<Snapshot> out;
    for (const auto& object : repo.objects().list(format::kSnapshotDir)) {
        const std::string& name = object.name;
        auto id = snapshot_id_from_name(name);
        if (id && known.count(*id)) continue;
        try {
            if (!id) throw_corruption("the name is not a snapshot id");
            out.push_back({*id, repo.load_snapshot_record(*id)});
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) continue;  // forgotten meanwhile
            throw_corruption("prune stopped before changing anything: snapshot record " + name +
                             " cannot be read (" + e.what() +
                             "), so the data it references is unknown. Restore it from a copy, or "
                             "move it out of " +
                             format::kSnapshotDir + "/ if it is lost");
        }
    }
    return out;
}

struct PackUse {
    std::uint64_t used_bytes = 0;
    std::uint32_t used_blobs = 0;
};

struct RepackSource {
    PackInfo pack;
    std::uint64_t used = 0, unused = 0;
};

}  // namespace

using pruning::BlobToCopy;
using pruning::index_kept_packs;
using pruning::Marker;
using pruning::merge_index_objects;
using pruning::new_snapshot_appeared;
using pruning::records_held_by_writers;
using pruning::Repacker;
using pruning::rescue_pending_packs;
using pruning::spare_packs_of_new_snapshots;
using pruning::Throttle;

PruneResult prune(Repository& repo, const PruneOptions& opts) {
    if (!(opts.max_unused >= 0 && opts.max_unused <= 1))
        throw_usage("max-unused must be between 0% and 100%");
    if (opts.grace_seconds < 0) throw_usage("the grace period cannot be negative");
    PruneResult result;
    PrunePlan& plan = result.plan;

    // Phase 1, without the lock: mark what the snapshots use. Backups may run meanwhile; what
    // they add is marked below, under the lock. If a tree cannot be read now (a concurrent prune
    // moved it at the wrong moment), everything is marked again under the lock.
    Marker marker(repo, opts);
    std::unordered_set<BlobId, BlobIdHash> marked;
    {
        auto snaps = repo.snapshots();
        marker.total = snaps.size();
        try {
            for (const auto& s : snaps) {
                marker.mark(s);
                marked.insert(s.id);
            }
        } catch (const StoreError&) {
            if (opts.dry_run) throw;
            marker.used.clear();
            marked.clear();
            marker.done = 0;
        }
    }

    std::unique_ptr<WriterLock> lock;
    if (!opts.dry_run) lock = repo.lock_for_writing("prune", opts.lock_wait_seconds);
    plan.locked = lock != nullptr;
    pause_point("prune-locked");
    const std::int64_t now = unix_now();

    // Phase 2: snapshots that appeared meanwhile (and, in a dry run, records not yet indexed).
    std::vector<Snapshot> snaps = repo.snapshots();
    for (auto& s : unindexed_records(repo, snaps)) snaps.push_back(std::move(s));
    marker.total = marker.done;
    for (const auto& s : snaps) marker.total += marked.count(s.id) ? 0 : 1;
    for (const auto& s : snaps) {
        if (marked.count(s.id)) continue;
        try {
            marker.mark(s);
        } catch (const StoreError& e) {
            throw StoreError(StoreError::Kind::Corruption,
                             std::string("prune stopped before changing anything: ") + e.what() +
                                 ". Run `strata verify` to see the damage, and `strata "
                                 "repair-index` if the index lost entries the packs still hold");
        }
    }
    plan.snapshots = snaps.size();
    plan.used_blobs = marker.used.size();

    // Phase 3: classify packs by the bytes of used blobs located in them.
    BlobIndex& index = repo.index();
    std::unordered_map<std::uint32_t, PackUse> use;
    std::uint64_t found = 0;
    auto tally = [&] {
        use.clear();
        found = 0;
        index.for_each_blob([&](const BlobId& id, const BlobLocation& loc) {
            if (!marker.used.count(id)) return;
            found++;
            auto& u = use[loc.pack];
            u.used_bytes += loc.stored_size + format::kPackTrailerEntrySize;
            u.used_blobs++;
        });
    };
    if (!opts.dry_run) index_kept_packs(repo);
    tally();
    // A snapshot may use a pack that a prune retired: one written on another host while that
    // prune planned, by a writer that died before it could take the pack back.
    if (found < marker.used.size() && rescue_pending_packs(repo, marker.used) > 0) tally();
    if (found < marker.used.size()) {
        std::string example;
        std::uint64_t missing = 0;
        for (const auto& id : marker.used) {
            if (index.contains(id)) continue;
            if (missing++ == 0) example = id.hex();
        }
        if (missing > 0)
            throw_corruption("prune stopped before changing anything: " + std::to_string(missing) +
                             " blob(s) the snapshots use are not in the index (for example " +
                             example + "). Run `strata verify`, then `strata repair-index`");
    }

    std::vector<PackInfo> packs = index.packs();
    std::vector<RepackSource> candidates;
    std::vector<std::uint32_t> doomed;  // packs leaving the index: deleted and repacked
    std::vector<PackInfo> doomed_info;
    std::unordered_set<BlobId, BlobIdHash> indexed_ids;
    std::uint64_t used_total = 0;
    for (const auto& p : packs) {
        indexed_ids.insert(p.id);
        plan.packs++;
        plan.pack_bytes += p.size;
        auto it = use.find(p.seq);
        PackUse u = it == use.end() ? PackUse{} : it->second;
        if (u.used_blobs == 0) {
            plan.delete_packs++;
            plan.delete_bytes += p.size;
            plan.unused_bytes += p.size;
            doomed.push_back(p.seq);
            doomed_info.push_back(p);
            continue;
        }
        const std::uint64_t accounted = kPackFixedOverhead + u.used_bytes;
        const std::uint64_t unused = p.size > accounted ? p.size - accounted : 0;
        plan.used_bytes += p.size - unused;
        plan.unused_bytes += unused;
        used_total += p.size - unused;
        if (unused == 0) {
            plan.keep_packs++;
            plan.keep_bytes += p.size;
        } else {
            candidates.push_back({p, p.size - unused, unused});
        }
    }
    // Repack the most wasteful packs first until what stays unused is within max_unused of the
    // repository: unused <= f * (used + unused)  <=>  unused <= f / (1 - f) * used.
    std::sort(candidates.begin(), candidates.end(),
              [](const RepackSource& a, const RepackSource& b) {
                  long double fa =
                      static_cast<long double>(a.unused) / static_cast<long double>(a.pack.size);
                  long double fb =
                      static_cast<long double>(b.unused) / static_cast<long double>(b.pack.size);
                  return fa != fb ? fa > fb : a.pack.seq < b.pack.seq;
              });
    const long double limit = opts.max_unused >= 1 ? static_cast<long double>(UINT64_MAX)
                                                   : static_cast<long double>(opts.max_unused) /
                                                         (1 - opts.max_unused) *
                                                         static_cast<long double>(used_total);
    std::uint64_t remaining = 0;
    for (const auto& c : candidates) remaining += c.unused;
    std::unordered_set<std::uint32_t> repack_set;
    for (const auto& c : candidates) {
        if (static_cast<long double>(remaining) <= limit) {
            plan.keep_packs++;
            plan.keep_bytes += c.pack.size;
            continue;
        }
        remaining -= c.unused;
        repack_set.insert(c.pack.seq);
        doomed.push_back(c.pack.seq);
        doomed_info.push_back(c.pack);
        plan.repack_packs++;
        plan.repack_bytes += c.pack.size;
        plan.repack_copy_bytes += c.used;
    }
    plan.unused_after = remaining;

    // Pack files outside the index: waiting from an earlier prune, or left by a writer that died
    // between writing a pack and indexing it (under the lock no writer of this host is running).
    // A pending pack the index names again (prune died after recording it, repair-index, or a
    // repack that wrote the very same bytes) is taken back: it must not go.
    std::vector<PendingDeletion> pending;
    std::unordered_set<BlobId, BlobIdHash> pending_ids;
    const std::vector<ObjectInfo> pack_files = repo.objects().list(format::kPackDir);
    std::unordered_map<std::string, std::uint64_t> pack_file_size;
    for (const auto& f : pack_files) pack_file_size.emplace(f.name, f.size);
    const std::vector<DeletionRecord> records = load_deletion_records(repo.objects());
    std::vector<std::pair<std::string, std::vector<BlobId>>> take_back;
    for (const auto& record : records) {
        std::vector<BlobId> indexed_again;
        for (const auto& p : record.packs) {
            auto file = pack_file_size.find(pack_object_name(p.pack));
            if (indexed_ids.count(p.pack)) indexed_again.push_back(p.pack);
            if (indexed_ids.count(p.pack) || file == pack_file_size.end()) continue;
            if (!pending_ids.insert(p.pack).second) continue;
            pending.push_back(p);
            const std::uint64_t size = file->second;
            plan.pending_packs++;
            plan.pending_bytes += size;
            if (now - p.since >= opts.grace_seconds) {
                plan.expired_packs++;
                plan.expired_bytes += size;
            }
        }
        if (!indexed_again.empty()) take_back.emplace_back(record.name, indexed_again);
    }
    // In an object store, a pack this host's cache does not know was written since its refresh,
    // by an ingest on another host that is still running: it is left alone (a later prune's
    // cache knows it and judges it by use). A local repository's writers are all stopped here.
    std::vector<BlobId> unindexed;
    if (!repo.index_is_cache()) {
        for (const auto& f : pack_files) {
            auto id = pack_id_from_name(f.name);
            if (!id || indexed_ids.count(*id) || pending_ids.count(*id)) continue;
            unindexed.push_back(*id);
            plan.unindexed_packs++;
            plan.unindexed_bytes += f.size;
        }
    }
    crash_point("prune-planned");
    if (opts.on_plan) opts.on_plan(plan);
    if (opts.dry_run) return result;
    pause_point("prune-planned");
    for (const auto& [record, packs] : take_back) record_kept(repo.objects(), record, packs);

    // Phase 4: rewrite the used blobs of the packs chosen for repacking.
    if (!repack_set.empty()) {
        std::vector<BlobToCopy> copies;
        index.for_each_blob([&](const BlobId& id, const BlobLocation& loc) {
            if (repack_set.count(loc.pack) && marker.used.count(id)) copies.push_back({id, loc});
        });
        std::sort(copies.begin(), copies.end(), [](const BlobToCopy& a, const BlobToCopy& b) {
            return std::tie(a.loc.pack, a.loc.offset) < std::tie(b.loc.pack, b.loc.offset);
        });
        std::unordered_map<std::uint32_t, PackInfo> by_seq;
        for (const auto& p : doomed_info) by_seq[p.seq] = p;
        Repacker repacker(repo);
        Throttle throttle;
        PruneProgress progress{"repack", 0, repack_set.size(), 0};
        repacker.copy_all(copies, by_seq, [&] {
            progress.done++;
            if (opts.on_progress && throttle.due()) opts.on_progress(progress);
        });
        repacker.finish();
        progress.done = progress.total;
        if (opts.on_progress) opts.on_progress(progress);
        result.packs_written = repacker.packs_written;
        result.bytes_written = repacker.bytes_written;
    }

    // In an object store, other hosts kept saving snapshots while this prune planned and
    // repacked: mark those too, and keep every pack they use.
    bool postpone = repo.index_is_cache() &&
                    !spare_packs_of_new_snapshots(repo, marker, snaps, doomed, doomed_info);

    // Phase 5: the packs leave the index. They are recorded as pending first, so that a crash
    // in between leaves indexed packs in a deletion record, which the next prune takes back.
    std::vector<PendingDeletion> retired;
    for (const auto& p : doomed_info)
        if (pending_ids.insert(p.id).second) retired.push_back({p.id, now, ""});
    for (const auto& id : unindexed)
        if (pending_ids.insert(id).second) retired.push_back({id, now, ""});
    std::vector<BlobId> snapshot_ids;
    for (const auto& s : snaps) snapshot_ids.push_back(s.id);
    std::string record;
    if (!retired.empty() && postpone) {
        result.retire_postponed = true;
        doomed.clear();
        retired.clear();
    }
    if (!retired.empty())
        record = record_deletion(repo.objects(), host_name(), snapshot_ids, retired);
    crash_point("prune-pending-recorded");
    // A snapshot saved on another host between the last look and the record may use what it
    // retires, and its writer did not see the record in time: retire nothing this time.
    if (!record.empty() && repo.index_is_cache() &&
        (postpone || new_snapshot_appeared(repo, snaps))) {
        std::vector<BlobId> all;
        for (const auto& p : retired) all.push_back(p.pack);
        record_kept(repo.objects(), record, all);
        result.retire_postponed = true;
        doomed.clear();
        retired.clear();
    }
    index.remove_packs(doomed);
    crash_point("prune-index-updated");
    if (repo.index_is_cache())
        result.index_objects_merged =
            merge_index_objects(repo, !doomed.empty() || result.packs_written > 0);
    for (auto& p : retired) {
        p.record = record;
        pending.push_back(p);
    }

    // Phase 6: delete the files whose grace period is over. A pack the index names again (a
    // repack that wrote the same bytes, or repair-index) is never deleted. In an object store, a
    // deletion record's packs also wait for every live writer that started before it was seen:
    // such a writer may still save a snapshot that uses them (and then takes them back).
    const std::unordered_set<std::string> held = records_held_by_writers(repo);
    std::unordered_set<BlobId, BlobIdHash> still_indexed;
    for (const auto& p : index.packs()) still_indexed.insert(p.id);
    PruneProgress progress{"delete", 0, pending.size(), 0};
    Throttle throttle;
    std::unordered_map<std::string, std::uint64_t> size_now;
    for (const auto& f : repo.objects().list(format::kPackDir)) size_now.emplace(f.name, f.size);
    std::unordered_set<std::string> unfinished;  // records with a pack still waiting
    for (const auto& p : pending) {
        progress.done++;
        if (still_indexed.count(p.pack)) continue;
        const std::string name = pack_object_name(p.pack);
        auto file = size_now.find(name);
        if (file == size_now.end()) continue;
        const std::uint64_t size = file->second;
        const bool held_up = held.count(p.record) > 0;
        if (now - p.since < opts.grace_seconds || held_up) {
            unfinished.insert(p.record);
            result.packs_waiting++;
            result.bytes_waiting += size;
            if (held_up) result.packs_held_by_writers++;
            const std::int64_t due = p.since + opts.grace_seconds;
            if (result.next_deletion == 0 || due < result.next_deletion) result.next_deletion = due;
            continue;
        }
        repo.objects().remove(name);
        size_now.erase(name);
        crash_point("prune-pack-deleted");
        result.packs_deleted++;
        result.bytes_deleted += size;
        if (opts.on_progress && throttle.due()) opts.on_progress(progress);
    }
    // A pack under several records waits for all of them.
    for (const auto& p : pending)
        if (size_now.count(pack_object_name(p.pack)) && !still_indexed.count(p.pack))
            unfinished.insert(p.record);
    // Records with nothing left to delete go (their keep records after them); only those this
    // prune looked at: another host's prune may have written one since.
    std::unordered_set<std::string> examined{record};
    for (const auto& r : records) examined.insert(r.name);
    for (const auto& r : load_deletion_records(repo.objects()))
        if (examined.count(r.name) && !unfinished.count(r.name) && !held.count(r.name))
            remove_deletion_record(repo.objects(), r);
    if (opts.on_progress) opts.on_progress(progress);
    return result;
}

}  // namespace strata
