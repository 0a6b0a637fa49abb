#include "store/maintenance/prune.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <future>
#include <memory>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "store/base/crash_point.h"
#include "store/format/compress.h"
#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/repacker.h"
#include "store/repo/pending_deletion.h"

namespace strata {
namespace {

// Bytes of a pack that belong to no blob: the footer, and the trailer's magic and entry count.
constexpr std::uint64_t kPackFixedOverhead = format::kPackFooterSize + 8 + 4;
constexpr auto kProgressInterval = std::chrono::milliseconds(250);

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class Throttle {
  public:
    bool due() {
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < kProgressInterval) return false;
        last_ = now;
        return true;
    }

  private:
    std::chrono::steady_clock::time_point last_{};
};

// Collects every blob id the snapshots reach. A tree already in the set is not read again, so
// snapshots sharing most of their trees cost little more than one.
class Marker {
  public:
    Marker(Repository& repo, const PruneOptions& opts) : repo_(repo), opts_(opts) {}

    void mark(const Snapshot& s) {
        std::vector<BlobId> stack{s.rec.root};
        while (!stack.empty()) {
            BlobId tree = stack.back();
            stack.pop_back();
            if (!used.insert(tree).second) continue;
            std::vector<TreeEntry> entries;
            try {
                entries = repo_.load_tree(tree);
            } catch (const StoreError& e) {
                throw StoreError(e.kind(), "snapshot " + s.id.short_hex() + ": " + e.what());
            }
            trees++;
            for (const auto& e : entries) {
                if (e.type == EntryType::Dir) stack.push_back(e.subtree);
                for (const auto& c : e.chunks) used.insert(c.id);
            }
            if (opts_.on_progress && throttle_.due()) report();
        }
        done++;
        if (opts_.on_progress) report();
    }

    void report() {
        PruneProgress p{"mark", done, total, trees};
        opts_.on_progress(p);
    }

    std::unordered_set<BlobId, BlobIdHash> used;
    std::uint64_t done = 0, total = 0, trees = 0;

  private:
    Repository& repo_;
    const PruneOptions& opts_;
    Throttle throttle_;
};

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
using pruning::Repacker;

PruneResult prune(Repository& repo, const PruneOptions& opts) {
    if (!(opts.max_unused >= 0 && opts.max_unused <= 1))
        throw_usage("max-unused must be between 0% and 100%");
    if (opts.grace_seconds < 0) throw_usage("the grace period cannot be negative");
    // Another host may be ingesting into a remote repository, its packs not yet named by any
    // snapshot; this host's writer lock does not reach it. Until deletion follows a rule that is
    // safe across hosts, prune leaves remote repositories alone (forget still works).
    if (repo.index_is_cache())
        throw_usage("prune does not work on repositories in object stores yet (" + repo.location() +
                    "): another host may be ingesting into it, and deleting what no snapshot "
                    "names yet could destroy its backup. `strata forget` works (it removes "
                    "snapshots; their space is freed once prune does)");
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
    index.for_each_blob([&](const BlobId& id, const BlobLocation& loc) {
        if (!marker.used.count(id)) return;
        found++;
        auto& u = use[loc.pack];
        u.used_bytes += loc.stored_size + format::kPackTrailerEntrySize;
        u.used_blobs++;
    });
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
    // between writing a pack and indexing it (under the lock no writer is running).
    std::vector<PendingDeletion> pending;
    std::unordered_set<BlobId, BlobIdHash> pending_ids;
    const std::vector<ObjectInfo> pack_files = repo.objects().list(format::kPackDir);
    std::unordered_map<std::string, std::uint64_t> pack_file_size;
    for (const auto& f : pack_files) pack_file_size.emplace(f.name, f.size);
    for (const auto& p : load_pending_deletions(repo.objects())) {
        auto file = pack_file_size.find(pack_object_name(p.pack));
        if (indexed_ids.count(p.pack) || file == pack_file_size.end())
            continue;  // rescued, or gone
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
    std::vector<BlobId> unindexed;
    for (const auto& f : pack_files) {
        auto id = pack_id_from_name(f.name);
        if (!id || indexed_ids.count(*id) || pending_ids.count(*id)) continue;
        unindexed.push_back(*id);
        plan.unindexed_packs++;
        plan.unindexed_bytes += f.size;
    }
    crash_point("prune-planned");
    if (opts.on_plan) opts.on_plan(plan);
    if (opts.dry_run) return result;
    pause_point("prune-planned");

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

    // Phase 5: the packs leave the index. They are listed as pending first, so that a crash
    // in between leaves indexed packs on the list, which the next prune takes off it again.
    for (const auto& p : doomed_info)
        if (pending_ids.insert(p.id).second) pending.push_back({p.id, now});
    for (const auto& id : unindexed)
        if (pending_ids.insert(id).second) pending.push_back({id, now});
    save_pending_deletions(repo.objects(), pending);
    crash_point("prune-pending-recorded");
    index.remove_packs(doomed);
    crash_point("prune-index-updated");

    // Phase 6: delete the files whose grace period is over. A pack the index names again (a
    // repack that wrote the same bytes, or repair-index) is never deleted: it leaves the list.
    std::unordered_set<BlobId, BlobIdHash> still_indexed;
    for (const auto& p : index.packs()) still_indexed.insert(p.id);
    std::vector<PendingDeletion> keep;
    PruneProgress progress{"delete", 0, pending.size(), 0};
    Throttle throttle;
    std::unordered_map<std::string, std::uint64_t> size_now;
    for (const auto& f : repo.objects().list(format::kPackDir)) size_now.emplace(f.name, f.size);
    for (const auto& p : pending) {
        progress.done++;
        if (still_indexed.count(p.pack)) continue;
        const std::string name = pack_object_name(p.pack);
        auto file = size_now.find(name);
        if (file == size_now.end()) continue;
        const std::uint64_t size = file->second;
        if (now - p.since < opts.grace_seconds) {
            keep.push_back(p);
            result.packs_waiting++;
            result.bytes_waiting += size;
            const std::int64_t due = p.since + opts.grace_seconds;
            if (result.next_deletion == 0 || due < result.next_deletion) result.next_deletion = due;
            continue;
        }
        repo.objects().remove(name);
        crash_point("prune-pack-deleted");
        result.packs_deleted++;
        result.bytes_deleted += size;
        if (opts.on_progress && throttle.due()) opts.on_progress(progress);
    }
    if (!keep.empty() || repo.objects().exists(format::kPendingDeletionFile))
        save_pending_deletions(repo.objects(), keep);
    if (opts.on_progress) opts.on_progress(progress);
    return result;
}

}  // namespace strata
