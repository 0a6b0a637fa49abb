#include "store/repo/index_cache.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "store/format/format.h"
#include "store/format/index_object.h"
#include "store/format/object_names.h"
#include "store/format/pack.h"
#include "store/format/snapshot.h"
#include "store/index/index_probe.h"
#include "store/index/index_replace.h"
#include "store/repo/pending_deletion.h"
#include "store/repo/repository.h"

namespace strata {
namespace {

// Requests in flight while a cache reads what is new (trailers, records): each is a small GET
// whose time is the store's latency, so several at once fill a fresh cache that much sooner.
constexpr unsigned kCacheReadThreads = 8;

// Runs read(i) for i < n on up to kCacheReadThreads threads; rethrows the first failure.
template <class F>
void read_in_parallel(std::size_t n, F&& read) {
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::exception_ptr failure;
    auto work = [&] {
        for (std::size_t i; (i = next++) < n;) {
            try {
                read(i);
            } catch (...) {
                std::lock_guard lock(mu);
                if (!failure) failure = std::current_exception();
                next = n;
            }
        }
    };
    std::vector<std::thread> threads;
    const unsigned count = static_cast<unsigned>(std::min<std::size_t>(kCacheReadThreads, n));
    for (unsigned t = 1; t < count; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (failure) std::rethrow_exception(failure);
}

// Reads the index objects in indexes/ that the cache has not read yet and returns the packs they
// describe; forgets those read before that are gone (merged by a prune). A damaged index object is
// reported and counted as read: its packs are read from their trailers, and the next prune's
// merge removes it. One that vanished since the listing was merged meanwhile: its packs' trailers
// are read instead. The snapshot records they carry go into `records`.
std::vector<IndexedPack> read_index_objects(
    BlobIndex& index, ObjectStore& objects, const BlobCodec& codec, CacheRefresh& r,
    std::unordered_map<BlobId, Bytes, BlobIdHash>& records) {
    const std::vector<BlobId> before = index.index_objects_read();
    const std::unordered_set<BlobId, BlobIdHash> seen(before.begin(), before.end());
    std::unordered_set<BlobId, BlobIdHash> listed;
    struct Unread {
        BlobId id;
        std::string name;
        IndexObject content;
        std::string problem;
        bool vanished = false;
    };
    std::vector<Unread> unread;
    for (const auto& object : objects.list(format::kIndexObjectDir)) {
        auto id = index_object_id_from_name(object.name);
        if (!id) continue;
        listed.insert(*id);
        if (!seen.count(*id)) unread.push_back({*id, object.name, {}, "", false});
    }
    read_in_parallel(unread.size(), [&](std::size_t i) {
        Unread& u = unread[i];
        try {
            u.content = decode_index_object(
                codec.open_object(crypto::ObjectKind::IndexObject, u.id, objects.read_all(u.name)),
                codec);
        } catch (const StoreError& e) {
            if (e.kind() == StoreError::Kind::NotFound)
                u.vanished = true;
            else if (e.kind() == StoreError::Kind::Corruption)
                u.problem = u.name + ": " + e.what() + " (its packs are read from their trailers)";
            else
                throw;
        }
    });
    std::vector<BlobId> read, gone;
    std::vector<IndexedPack> out;
    for (auto& u : unread) {
        if (u.vanished) continue;
        if (!u.problem.empty()) r.problems.push_back(u.problem);
        read.push_back(u.id);
        r.index_objects_read++;
        for (auto& p : u.content.packs) out.push_back(std::move(p));
        for (auto& c : u.content.records) records.emplace(c.id, std::move(c.record));
    }
    for (const auto& id : before)
        if (!listed.count(id)) gone.push_back(id);
    index.note_index_objects(read, gone);
    return out;
}

}  // namespace

CacheRefresh sync_index_with_objects(BlobIndex& index, ObjectStore& objects,
                                     const BlobCodec& codec) {
    CacheRefresh r;
    std::unordered_map<BlobId, std::uint32_t, BlobIdHash> indexed;  // pack id → seq
    for (const auto& p : index.packs()) indexed.emplace(p.id, p.seq);
    std::unordered_set<BlobId, BlobIdHash> retired;
    for (const auto& record : load_deletion_records(objects)) {
        r.deletion_records.push_back(record.name);
        for (const auto& p : record.packs) retired.insert(p.pack);
    }
    r.packs_retired = retired.size();

    std::unordered_set<BlobId, BlobIdHash> listed;
    struct NewPack {
        BlobId id;
        ObjectInfo object;
        std::vector<PackEntry> entries;
        std::string problem;
    };
    std::vector<NewPack> fresh;
    for (const auto& object : objects.list(format::kPackDir)) {
        auto id = pack_id_from_name(object.name);
        if (!id || retired.count(*id)) continue;
        listed.insert(*id);
        if (!indexed.count(*id)) fresh.push_back({*id, object, {}, ""});
    }
    // What the index objects say of the new packs; the others are read from their trailers.
    std::vector<IndexedPack> described;
    std::unordered_map<BlobId, Bytes, BlobIdHash> carried;  // snapshot id -> its record's bytes
    if (!fresh.empty()) described = read_index_objects(index, objects, codec, r, carried);
    std::unordered_map<BlobId, IndexedPack*, BlobIdHash> description;
    for (auto& p : described) description.emplace(p.id, &p);
    std::vector<NewPack*> from_trailers;
    for (auto& p : fresh) {
        auto d = description.find(p.id);
        if (d != description.end() && d->second->size == p.object.size)
            p.entries = std::move(d->second->entries);
        else
            from_trailers.push_back(&p);
    }
    described.clear();
    r.packs_from_trailers = from_trailers.size();
    read_in_parallel(from_trailers.size(), [&](std::size_t i) {
        NewPack& p = *from_trailers[i];
        try {
            p.entries = read_pack_trailer(objects, codec, p.object.name, p.object.size);
        } catch (const StoreError& e) {
            // Damaged, or removed since the listing: verify tells which.
            if (e.kind() != StoreError::Kind::Corruption && e.kind() != StoreError::Kind::NotFound)
                throw;
            p.problem = std::string(e.what()) + " (pack skipped)";
        }
    });
    std::vector<IndexedPack> add;
    for (auto& p : fresh) {  // in listing order, on this thread: LMDB has one writer
        if (!p.problem.empty()) {
            r.problems.push_back(p.problem);
            continue;
        }
        add.push_back({p.id, p.object.size, std::move(p.entries)});
    }
    index.add_packs(add);
    r.packs_added = add.size();
    std::vector<std::uint32_t> gone;
    for (const auto& [id, seq] : indexed)
        if (!listed.count(id)) gone.push_back(seq);
    if (!gone.empty()) index.remove_packs(gone);
    r.packs_removed = gone.size();

    std::unordered_set<BlobId, BlobIdHash> known, on_store;
    for (const auto& s : index.snapshots()) known.insert(s.id);
    struct NewRecord {
        BlobId id;
        std::string name;
        std::optional<SnapshotRecord> record;
        std::string problem;
    };
    std::vector<NewRecord> records;
    for (const auto& object : objects.list(format::kSnapshotDir)) {
        auto id = snapshot_id_from_name(object.name);
        if (!id) continue;
        on_store.insert(*id);
        if (known.count(*id)) continue;
        records.push_back({*id, object.name, std::nullopt, ""});
        // Only for a snapshot that snapshots/ lists: a forgotten one's record stays forgotten.
        if (auto c = carried.find(*id); c != carried.end()) {
            try {
                records.back().record = decode_snapshot(c->second);
                r.snapshots_from_index_objects++;
            } catch (const StoreError& e) {
                if (e.kind() != StoreError::Kind::Corruption) throw;  // fetched from snapshots/
            }
        }
    }
    std::vector<NewRecord*> to_fetch;
    for (auto& n : records)
        if (!n.record) to_fetch.push_back(&n);
    read_in_parallel(to_fetch.size(), [&](std::size_t i) {
        NewRecord& n = *to_fetch[i];
        try {
            n.record = load_snapshot_record(objects, codec, n.id);
        } catch (const StoreError& e) {
            if (e.kind() != StoreError::Kind::Corruption && e.kind() != StoreError::Kind::NotFound)
                throw;
            n.problem = n.name + ": " + e.what() + " (snapshot skipped)";
        }
    });
    std::vector<Snapshot> put;
    for (auto& n : records) {
        if (!n.record) {
            r.problems.push_back(n.problem);
            continue;
        }
        put.push_back({n.id, std::move(*n.record)});
    }
    index.put_snapshots(put);
    r.snapshots_added = put.size();
    for (const auto& id : known)
        if (!on_store.count(id)) {
            index.remove_snapshot(id);
            r.snapshots_removed++;
        }
    return r;
}

CacheRefresh refresh_index_cache(RepositoryStorage& storage, const BlobCodec& codec,
                                 double wait_seconds) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    std::unique_ptr<WriterLock> lock;
    while (!(lock = storage.locks->try_lock(kRefreshPurpose))) {
        if (probe_index(storage.index_dir, storage.location, &codec).empty()) return {};
        if (std::chrono::steady_clock::now() >= deadline)
            throw StoreError(StoreError::Kind::Locked,
                             "the index cache " + storage.index_dir + " of " + storage.location +
                                 " is being built by another process; try again when it is done");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CacheRefresh r;
    if (probe_index(storage.index_dir, storage.location, &codec).empty()) {
        BlobIndex index(storage.index_dir, BlobIndex::Access::ReadWrite, &codec);
        r = sync_index_with_objects(index, *storage.objects, codec);
    } else {
        replace_index_dir(
            storage.index_dir,
            [&](BlobIndex& index) { r = sync_index_with_objects(index, *storage.objects, codec); },
            &codec);
        r.rebuilt = true;
    }
    return r;
}

}  // namespace strata
