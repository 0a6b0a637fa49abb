#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "store/base/deep_stack.h"
#include "store/format/compress.h"
#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/verifier.h"
#include "store/maintenance/verify_read.h"
#include "store/repo/pending_deletion.h"

namespace strata::verification {

void Verifier::check_records() {
    auto objects = repo_.objects().list(format::kSnapshotDir);
    std::uint64_t done = 0;
    for (const auto& object : objects) {
        const std::string& name = object.name;
        progress("snapshots", done++, objects.size());
        auto id = snapshot_id_from_name(name);
        if (!id) {
            report_.notes.push_back(name + " is not named like a snapshot record; ignored");
            continue;
        }
        try {
            records_.push_back({*id, repo_.load_snapshot_record(*id)});
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound) continue;  // forgotten meanwhile
            problem("snapshot-record", name, e.what());
            AffectedSnapshot a;
            a.id = *id;
            a.record_damaged = true;
            a.paths = {"/"};
            a.paths_total = 1;
            damaged_records_.push_back(std::move(a));
        }
    }
    std::sort(records_.begin(), records_.end(), [](const Snapshot& a, const Snapshot& b) {
        return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) <
               std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
    });
    report_.snapshots = records_.size() + damaged_records_.size();
}

void Verifier::compare_snapshot_table() {
    std::unordered_set<BlobId, BlobIdHash> on_disk;
    for (const auto& s : records_) on_disk.insert(s.id);
    for (const auto& a : damaged_records_) on_disk.insert(a.id);
    std::unordered_set<BlobId, BlobIdHash> indexed;
    for (const auto& s : repo_.index().snapshots()) {
        indexed.insert(s.id);
        if (!on_disk.count(s.id) && !repo_.objects().exists(snapshot_object_name(s.id)))
            report_.notes.push_back("the index lists snapshot " + s.id.short_hex() +
                                    " whose record is gone; the next writer drops it");
    }
    for (const auto& s : records_)
        if (!indexed.count(s.id))
            report_.notes.push_back("snapshot " + s.id.short_hex() +
                                    " is not in the index yet; the next writer adds it");
}

bool Verifier::snapshot_gone(const Snapshot& s) {
    return !repo_.objects().exists(snapshot_object_name(s.id));
}

void Verifier::check_trees() {
    BlobIndex& index = repo_.index();
    std::unordered_set<BlobId, BlobIdHash> seen_trees;
    std::unordered_set<ChunkRef, ChunkRefHash> seen_data;  // by id and claimed size: a tree
                                                           // may lie about a good blob's size
    std::uint64_t done = 0;
    for (const auto& s : records_) {
        progress("trees", done++, records_.size());
        std::vector<BlobId> stack{s.rec.root};
        bool abandoned = false;  // the snapshot was forgotten while we walked it
        while (!stack.empty() && !abandoned) {
            BlobId tree = stack.back();
            stack.pop_back();
            if (!seen_trees.insert(tree).second) continue;
            std::vector<TreeEntry> entries;
            try {
                entries = repo_.load_tree(tree);
            } catch (const StoreError& e) {
                if ((abandoned = snapshot_gone(s))) break;
                if (!bad_.count(tree)) {
                    bool missing = e.kind() == StoreError::Kind::NotFound && !index.contains(tree);
                    problem(missing ? "blob-missing" : "tree-damaged", "tree " + tree.hex(),
                            std::string(e.what()) + " (in snapshot " + s.id.short_hex() + ")");
                }
                mark_bad(tree, e.what());
                continue;
            }
            report_.trees++;
            for (const auto& e : entries) {
                if (e.type == EntryType::Dir) stack.push_back(e.subtree);
                for (const auto& c : e.chunks) {
                    if (!seen_data.insert({c.id, c.size}).second) continue;
                    auto loc = index.find(c.id);
                    if (!loc) {
                        if ((abandoned = snapshot_gone(s))) break;
                        if (!bad_.count(c.id))
                            problem("blob-missing", "blob " + c.id.hex(),
                                    "referenced by snapshot " + s.id.short_hex() +
                                        " but not in the index");
                        mark_bad(c.id, "not in the index");
                    } else if (loc->type != format::BlobType::Data || loc->raw_size != c.size) {
                        problem("blob-mismatch", "blob " + c.id.hex(),
                                "a file's chunk of " + std::to_string(c.size) +
                                    " bytes, but the index holds a " +
                                    (loc->type == format::BlobType::Data ? "data" : "tree") +
                                    " blob of " + std::to_string(loc->raw_size) + " bytes");
                        // The blob may be fine: the damage is the reference, so only the
                        // files that claim this size are affected.
                        mismatched_.insert({c.id, c.size});
                    }
                }
            }
        }
    }
}

}  // namespace strata::verification
