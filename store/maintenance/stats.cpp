#include "store/maintenance/stats.h"

#include <chrono>
#include <unordered_map>
#include <unordered_set>

namespace strata {
namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(250);
// Owner of a blob referenced by more than one snapshot.
constexpr std::int32_t kShared = -1;

// Finds, for every blob, the one snapshot referencing it, or kShared. Each tree is read at most
// twice: once when first reached, once more when a second snapshot reaches it (to mark what is
// below as shared); trees already shared are not entered again.
class OwnerWalk {
  public:
    OwnerWalk(Repository& repo, const StatsOptions& opts) : repo_(repo), opts_(opts) {}

    void walk(const Snapshot& s, std::int32_t snap) {
        std::vector<std::pair<BlobId, std::int32_t>> stack{{s.rec.root, snap}};
        while (!stack.empty()) {
            auto [tree, as] = stack.back();
            stack.pop_back();
            std::int32_t mode = claim(tree, as);
            if (mode == kNone) continue;
            std::vector<TreeEntry> entries;
            try {
                entries = repo_.load_tree(tree);
            } catch (const StoreError& e) {
                throw StoreError(e.kind(), "snapshot " + s.id.short_hex() + ": " + e.what() +
                                               " (run `strata verify`)");
            }
            progress.trees++;
            for (const auto& e : entries) {
                if (e.type == EntryType::Dir) stack.push_back({e.subtree, mode});
                for (const auto& c : e.chunks) claim(c.id, mode);
            }
            report(false);
        }
        progress.snapshots_done++;
        report(true);
    }

    std::unordered_map<BlobId, std::int32_t, BlobIdHash> owner;
    StatsProgress progress;

  private:
    static constexpr std::int32_t kNone = -2;  // claim(): nothing new below this blob

    // Records that `as` (a snapshot, or kShared) references `id`; returns how to walk what is
    // below it, or kNone when that was done already.
    std::int32_t claim(const BlobId& id, std::int32_t as) {
        auto [it, inserted] = owner.try_emplace(id, as);
        if (inserted) return as;
        if (it->second == as || it->second == kShared) return kNone;
        it->second = kShared;
        return kShared;
    }

    void report(bool force) {
        if (!opts_.on_progress) return;
        auto now = std::chrono::steady_clock::now();
        if (!force && now - last_ < kProgressInterval) return;
        last_ = now;
        opts_.on_progress(progress);
    }

    Repository& repo_;
    const StatsOptions& opts_;
    std::chrono::steady_clock::time_point last_{};
};

// Every distinct blob one snapshot references.
std::unordered_set<BlobId, BlobIdHash> referenced_by(Repository& repo, const Snapshot& s) {
    std::unordered_set<BlobId, BlobIdHash> seen;
    std::vector<BlobId> stack{s.rec.root};
    while (!stack.empty()) {
        BlobId tree = stack.back();
        stack.pop_back();
        if (!seen.insert(tree).second) continue;
        for (const auto& e : repo.load_tree(tree)) {
            if (e.type == EntryType::Dir) stack.push_back(e.subtree);
            for (const auto& c : e.chunks) seen.insert(c.id);
        }
    }
    return seen;
}

}  // namespace

RepositoryStats compute_stats(Repository& repo, const StatsOptions& opts) {
    RepositoryStats st;
    std::vector<Snapshot> snaps = repo.snapshots();
    OwnerWalk walk(repo, opts);
    walk.progress.snapshots_total = snaps.size();
    std::vector<SnapshotStats> per(snaps.size());
    for (std::size_t i = 0; i < snaps.size(); ++i) {
        per[i].snapshot = snaps[i];
        per[i].logical_bytes = snaps[i].rec.bytes;
        per[i].files = snaps[i].rec.files;
        st.logical_bytes += snaps[i].rec.bytes;
        st.files += snaps[i].rec.files;
        walk.walk(snaps[i], static_cast<std::int32_t>(i));
    }
    st.snapshots = snaps.size();

    std::unordered_set<BlobId, BlobIdHash> only_refs;
    std::int32_t only_index = -1;
    if (opts.only) {
        for (std::size_t i = 0; i < snaps.size(); ++i)
            if (snaps[i].id == *opts.only) only_index = static_cast<std::int32_t>(i);
        if (only_index < 0) throw_not_found("no snapshot " + opts.only->short_hex());
        only_refs = referenced_by(repo, snaps[static_cast<std::size_t>(only_index)]);
    }

    std::uint64_t found = 0;
    repo.index().for_each_blob([&](const BlobId& id, const BlobLocation& loc) {
        auto it = walk.owner.find(id);
        if (it == walk.owner.end()) {
            st.unreferenced_blobs++;
            st.unreferenced_stored_bytes += loc.stored_size;
            return;
        }
        found++;
        st.blobs++;
        st.raw_bytes += loc.raw_size;
        st.stored_bytes += loc.stored_size;
        if (loc.type == format::BlobType::Data) st.data_raw_bytes += loc.raw_size;
        if (it->second >= 0) {
            auto& p = per[static_cast<std::size_t>(it->second)];
            p.exclusive_blobs++;
            p.exclusive_raw_bytes += loc.raw_size;
            p.exclusive_stored_bytes += loc.stored_size;
        }
        if (only_index >= 0 && only_refs.count(id)) {
            auto& p = per[static_cast<std::size_t>(only_index)];
            p.blobs++;
            p.raw_bytes += loc.raw_size;
            p.stored_bytes += loc.stored_size;
        }
    });
    st.missing_blobs = walk.owner.size() - found;
    for (const auto& p : repo.index().packs()) {
        st.packs++;
        st.pack_bytes += p.size;
    }
    if (only_index >= 0)
        st.per_snapshot.push_back(std::move(per[static_cast<std::size_t>(only_index)]));
    else
        st.per_snapshot = std::move(per);
    return st;
}

}  // namespace strata
