#include "store/maintenance/annotate.h"

#include <algorithm>

#include "store/maintenance/retention.h"

namespace strata {

void tag_snapshots(Repository& repo, const std::vector<std::string>& names,
                   const std::vector<std::string>& add, const std::vector<std::string>& remove,
                   double lock_wait, const std::function<void(const Annotated&)>& on_changed) {
    auto lock = repo.lock_for_writing("tag", lock_wait);
    auto all = repo.snapshots();
    std::vector<Snapshot> targets;
    for (const auto& name : names) targets.push_back(resolve_snapshot(all, name));
    for (const auto& old : targets) {
        SnapshotRecord rec = old.rec;
        for (const auto& t : add) rec.tags.push_back(t);
        for (const auto& t : remove)
            rec.tags.erase(std::remove(rec.tags.begin(), rec.tags.end(), t), rec.tags.end());
        std::sort(rec.tags.begin(), rec.tags.end());
        rec.tags.erase(std::unique(rec.tags.begin(), rec.tags.end()), rec.tags.end());
        BlobId id = replace_snapshot_record(repo, old, rec);
        on_changed({old, id, rec});
    }
}

Annotated set_snapshot_note(Repository& repo, const std::string& name, const std::string& note,
                            double lock_wait) {
    auto lock = repo.lock_for_writing("note", lock_wait);
    auto all = repo.snapshots();
    const Snapshot old = resolve_snapshot(all, name);
    SnapshotRecord rec = old.rec;
    rec.note = note;
    BlobId id = replace_snapshot_record(repo, old, rec);
    return {old, id, rec};
}

}  // namespace strata
