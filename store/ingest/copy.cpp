#include "store/ingest/copy.h"

#include <algorithm>
#include <thread>
#include <unordered_map>
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
    CopiedSnapshot c{snapshot, snapshot.id};
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

// Copies `snapshot` into a destination whose blobs get other ids (another key, or a plain source
// and an encrypted destination): every blob is read and stored again under the id the
// destination gives it, and every tree is encoded again with its children's new ids, leaves
// first. The record then names the new root; its parent, a snapshot id of the source, is left
// out. Blobs the destination has already (an earlier or interrupted copy) are read but not sent.
CopiedSnapshot copy_one_reidentified(Repository& source, Repository& destination,
                                     const Snapshot& snapshot,
                                     std::unordered_map<BlobId, BlobId, BlobIdHash>& renamed,
                                     const std::unordered_set<BlobId, BlobIdHash>& there) {
    CopiedSnapshot c{snapshot, snapshot.id};
    BlobWriter writer(destination, std::max(1u, std::thread::hardware_concurrency()));
    auto data_id = [&](const BlobId& old) {
        auto it = renamed.find(old);
        if (it != renamed.end()) return it->second;
        const BlobId now = writer.put(source.load_data(old), format::BlobType::Data);
        renamed.emplace(old, now);
        return now;
    };
    // Depth first, without recursion (trees nest up to format::kMaxTreeDepth levels): a tree is
    // encoded once every subtree below it has its new id.
    struct Frame {
        BlobId id;
        std::vector<TreeEntry> entries;
        std::size_t next = 0;
    };
    auto load = [&](const BlobId& id) {
        Frame f{id, {}, 0};
        try {
            f.entries = decode_tree(source.load_blob(id, format::BlobType::Tree));
        } catch (const StoreError& e) {
            if (e.kind() != StoreError::Kind::Corruption) throw;
            throw_corruption("tree " + id.short_hex() + ": " + e.what());
        }
        return f;
    };
    std::vector<Frame> stack;
    stack.push_back(load(snapshot.rec.root));
    BlobId root;
    while (!stack.empty()) {
        Frame& f = stack.back();
        if (f.next < f.entries.size()) {
            TreeEntry& e = f.entries[f.next];
            if (e.type == EntryType::Dir && !e.subtree.is_zero()) {
                if (auto it = renamed.find(e.subtree); it != renamed.end()) {
                    e.subtree = it->second;
                    ++f.next;
                } else {
                    stack.push_back(load(e.subtree));  // f is not used again before it returns
                }
                continue;
            }
            for (auto& chunk : e.chunks) chunk.id = data_id(chunk.id);
            ++f.next;
            continue;
        }
        const BlobId now = writer.put(encode_tree(f.entries), format::BlobType::Tree);
        renamed.emplace(f.id, now);
        stack.pop_back();
        if (stack.empty()) {
            root = now;
        } else {
            Frame& parent = stack.back();
            parent.entries[parent.next].subtree = now;
            ++parent.next;
        }
    }
    writer.flush();
    c.blobs_sent = writer.blobs_added();
    c.bytes_sent = writer.bytes_added();
    SnapshotRecord rec = snapshot.rec;
    rec.root = root;
    rec.root_meta.subtree = root;
    rec.parent.reset();
    // The same record as a snapshot there already: copied before, and nothing was sent.
    const BlobId id = destination.codec().id_of(encode_snapshot(rec));
    c.already_there = there.count(id) > 0;
    c.snapshot = {c.already_there ? id : destination.save_snapshot(rec), rec};
    return c;
}

// Whether the two repositories give a blob the same id (the same scheme and, if keyed, the
// same key): snapshots then copy as they are, keeping their ids.
bool same_blob_ids(const Repository& a, const Repository& b) {
    const std::string text = "strata copy: do these repositories name blobs alike?";
    const Bytes probe(text.begin(), text.end());
    return a.codec().id_of(probe) == b.codec().id_of(probe);
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
    const bool same_ids = same_blob_ids(source, destination);
    std::unordered_map<BlobId, BlobId, BlobIdHash> renamed;  // source id -> destination id
    for (const auto& s : todo) {
        if (same_ids && there.count(s.id)) {
            out.push_back({s, s.id, true});
        } else if (same_ids) {
            out.push_back(copy_one(source, destination, s));
            there.insert(s.id);
        } else {
            CopiedSnapshot c = copy_one_reidentified(source, destination, s, renamed, there);
            there.insert(c.snapshot.id);
            out.push_back(std::move(c));
        }
        out.back().source_id = s.id;
        if (options.on_snapshot) options.on_snapshot(s, out.back().already_there);
    }
    return out;
}

}  // namespace strata
