// Changing what a snapshot's record says about it: its tags (`strata tag`) and its note
// (`strata note`). A record is content-addressed, so a change makes a new snapshot that replaces
// the old one (replace_snapshot_record, store/maintenance/retention.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "store/repo/repository.h"

namespace strata {

// One snapshot changed: `old` as it was, `id` and `rec` as it is now (id == old.id when nothing
// changed).
struct Annotated {
    Snapshot old;
    BlobId id;
    SnapshotRecord rec;
};

// Takes the writer lock as "tag" (waiting up to `lock_wait` seconds), resolves `names`
// (resolve_snapshot) and gives each snapshot the tags `add`, then takes `remove` away; tags stay
// sorted and unique. Each change is told to `on_changed` as soon as it is durable.
void tag_snapshots(Repository& repo, const std::vector<std::string>& names,
                   const std::vector<std::string>& add, const std::vector<std::string>& remove,
                   double lock_wait, const std::function<void(const Annotated&)>& on_changed);

// Takes the writer lock as "note" (waiting up to `lock_wait` seconds), resolves `name` and sets
// the snapshot's note to `note` ("" clears it).
Annotated set_snapshot_note(Repository& repo, const std::string& name, const std::string& note,
                            double lock_wait);

}  // namespace strata
