#include "store/ingest/copy.h"

#include <algorithm>
#include <thread>
#include <unordered_set>

#include "store/ingest/blob_writer.h"
#include "store/ingest/recovery.h"

namespace strata {
namespace {

// Stores `data`, read from the source under `id`, in the destination; it must get the same id
// there, or the trees and records that name it would not match.
void send(BlobWriter& writer, Bytes data, format::BlobType type, const BlobId& id) {
    const BlobId got = writer.put(std::move(data), type);
    if (got != id)
        throw StoreError(StoreError::Kind::Format,
                         "blob " + id.short_hex() + " gets the id " + got.short_hex() +
                             " in the destination: the two repositories identify blobs "
                             "differently, so snapshots cannot be copied between them as they are");
}

CopiedSnapshot copy_one(Repository& source, Repository& destination, const Snapshot& snapshot) {
    CopiedSnapshot c{snapshot};
    BlobWriter writer(destination, std::max(1u, std::thread::hardware_concurrency()));
    BlobIndex& have = destination.index();
    std::unordered_set<BlobId, BlobIdHash> seen;
    // Depth first, without recursion: trees nest up to format::kMaxTreeDepth levels.
    std::vector<BlobId> trees{snapshot.rec.root};
    seen.insert(snapshot.rec.root);
    while (!trees.empty()) {
        const BlobId tree = trees.back();
        trees.pop_back();
        // Every tree is read (from the source) even when the destination has it: a tree there
        // proves nothing about the blobs below it, which an interrupted copy may not have sent.
        Bytes raw = source.load_blob(tree, format::BlobType::Tree);
        std::vector<TreeEntry> entries;
        try {
            entries = decode_tree(raw);
        } catch (const StoreError& e) {
            throw_corruption("tree " + tree.short_hex() + ": " + e.what());
        }
        for (const auto& e : entries) {
            if (e.type == EntryType::Dir && !e.subtree.is_zero()) {
                if (seen.insert(e.subtree).second) trees.push_back(e.subtree);
                continue;
            }
            for (const auto& chunk : e.chunks) {
                if (!seen.insert(chunk.id).second || have.contains(chunk.id)) continue;
                send(writer, source.load_data(chunk.id), format::BlobType::Data, chunk.id);
            }
        }
        if (!have.contains(tree)) send(writer, std::move(raw), format::BlobType::Tree, tree);
    }
    writer.flush();
    c.blobs_sent = writer.blobs_added();
    c.bytes_sent = writer.bytes_added();
    // The record unchanged: the same bytes, so the same id.
    const BlobId id = destination.save_snapshot(snapshot.rec);
    if (id != snapshot.id)
        throw StoreError(StoreError::Kind::Format, "snapshot " + snapshot.id.short_hex() +
                                                       " re-encodes as " + id.short_hex() +
                                                       " in the destination");
    return c;
}

}  // namespace

std::vector<CopiedSnapshot> copy_snapshots(Repository& source, Repository& destination,
                                           const std::vector<Snapshot>& snapshots,
                                           const CopyOptions& options) {
    auto lock = destination.lock_for_writing("copy", options.lock_wait_seconds);
    adopt_unindexed_packs(destination);  // what an interrupted copy or ingest made durable
    std::unordered_set<BlobId, BlobIdHash> there;
    for (const auto& s : destination.snapshots()) there.insert(s.id);
    std::vector<Snapshot> todo = snapshots;
    std::sort(todo.begin(), todo.end(), [](const Snapshot& a, const Snapshot& b) {
        return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) <
               std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
    });
    std::vector<CopiedSnapshot> out;
    for (const auto& s : todo) {
        if (there.count(s.id)) {
            out.push_back({s, true});
        } else {
            out.push_back(copy_one(source, destination, s));
            there.insert(s.id);
        }
        if (options.on_snapshot) options.on_snapshot(s, out.back().already_there);
    }
    return out;
}

}  // namespace strata
