#include "store/index/index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "store/base/crash_point.h"
#include "store/base/unique_fd.h"
#include "store/index/index_file.h"
#include "store/index/lmdb_txn.h"

namespace strata {

using namespace index_lmdb;

namespace {

MDB_val val(const void* p, std::size_t n) { return {n, const_cast<void*>(p)}; }
ByteView view(const MDB_val& v) { return {static_cast<const std::uint8_t*>(v.mv_data), v.mv_size}; }

Bytes seq_key(std::uint32_t seq) {  // big-endian so the table iterates in order
    return {std::uint8_t(seq >> 24), std::uint8_t(seq >> 16), std::uint8_t(seq >> 8),
            std::uint8_t(seq)};
}

// Blob id then pack seq: a blob's copies sort together.
Bytes duplicate_key(const BlobId& id, std::uint32_t seq) {
    Bytes key(id.bytes.begin(), id.bytes.end());
    Bytes s = seq_key(seq);
    key.insert(key.end(), s.begin(), s.end());
    return key;
}

std::uint64_t get_counter(MDB_txn* txn, MDB_dbi meta, const char* name) {
    MDB_val k = val(name, std::strlen(name)), v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    check(rc, "read counter");
    if (v.mv_size != 8) throw_corruption("index: counter of wrong size");
    return Decoder(view(v), "counter").u64();
}

void put_counter(MDB_txn* txn, MDB_dbi meta, const char* name, std::uint64_t value) {
    Encoder e;
    e.u64(value);
    MDB_val k = val(name, std::strlen(name)), v = val(e.bytes().data(), 8);
    check(mdb_put(txn, meta, &k, &v, 0), "write counter");
}

}  // namespace

BlobLocation decode_location(ByteView v) {
    if (v.size() != kBlobValueSize) throw_corruption("index: blob entry of wrong size");
    Decoder d(v, "index blob entry");
    BlobLocation l;
    l.pack = d.u32();
    l.offset = d.u64();
    l.stored_size = d.u32();
    l.raw_size = d.u32();
    std::uint8_t t = d.u8(), c = d.u8();
    if (t > 1 || c > format::kMaxCodec) d.fail("bad type or codec");
    l.type = static_cast<format::BlobType>(t);
    l.codec = static_cast<format::Codec>(c);
    return l;
}

PackInfo decode_pack_info(std::uint32_t seq, ByteView v) {
    if (v.size() != kPackValueSize) throw_corruption("index: pack entry of wrong size");
    Decoder d(v, "index pack entry");
    PackInfo p;
    p.seq = seq;
    p.id = BlobId::from_bytes(d.raw(32));
    p.size = d.u64();
    p.blobs = d.u32();
    p.last_verified = d.i64();
    return p;
}

Bytes encode_location(const BlobLocation& l) {
    Encoder enc;
    enc.u32(l.pack);
    enc.u64(l.offset);
    enc.u32(l.stored_size);
    enc.u32(l.raw_size);
    enc.u8(static_cast<std::uint8_t>(l.type));
    enc.u8(static_cast<std::uint8_t>(l.codec));
    return enc.take();
}

Bytes encode_pack_info(const PackInfo& p) {
    Encoder e;
    e.raw(p.id.bytes);
    e.u64(p.size);
    e.u32(p.blobs);
    e.i64(p.last_verified);
    return e.take();
}

BlobIndex::BlobIndex(const std::string& dir, Access access, const BlobCodec* records)
    : dir_(dir), records_(records) {
    const bool create = access == Access::Create;
    if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw_io("create " + dir, errno);
    if (!create) {
        const std::string data = dir + "/data.mdb";
        struct stat st;
        if (::stat(data.c_str(), &st) != 0) {
            if (errno != ENOENT && errno != ENOTDIR) throw_io("stat " + data, errno);
            throw IndexUnusable(StoreError::Kind::NotFound, "the index " + data + " is missing",
                                repository_of(dir));
        }
        // Before LMDB maps it: LMDB would touch every page the meta claims, past a short file's
        // end.
        if (std::string why = index_file_problem(data); !why.empty()) damaged(why);
    }
    open_environment(access);
}

void BlobIndex::damaged(const std::string& why) const {
    throw IndexUnusable(StoreError::Kind::Corruption,
                        "the index " + dir_ + "/data.mdb is damaged (" + why + ")",
                        repository_of(dir_));
}

std::array<std::pair<const char*, MDB_dbi*>, 7> BlobIndex::tables() {
    return {{{"blobs", &blobs_},
             {"packs", &packs_},
             {"pack_ids", &pack_ids_},
             {"snapshots", &snapshots_},
             {"meta", &meta_},
             {"index_objects", &index_objects_},
             {"duplicates", &duplicates_}}};
}

void BlobIndex::open_environment(Access access) {
    // What LMDB says of a file it cannot use makes the index unusable; other failures (no
    // permission, no memory) are what they are.
    auto opened = [&](int rc, const std::string& what) {
        if (access != Access::Create && is_damage(rc))
            damaged("LMDB, " + what + ": " + mdb_strerror(rc));
        check(rc, what.c_str());
    };
    auto open_env = [&](unsigned flags) {
        check(mdb_env_create(&env_), "create environment");
        check(mdb_env_set_mapsize(env_, kMapSize), "set map size");
        check(mdb_env_set_maxdbs(env_, 8), "set max dbs");
        check(mdb_env_set_maxreaders(env_, kMaxReaders), "set max readers");
        // NOTLS: read transactions are not tied to threads (FUSE workers come and go).
        return mdb_env_open(env_, dir_.c_str(), MDB_NOTLS | flags, 0600);
    };
    try {
        if (access == Access::ReadOnly) {
            int rc = open_env(MDB_RDONLY);
            if (rc == EACCES || rc == EROFS) {
                // No write access to lock.mdb (a read-only mount of the repository): read without
                // LMDB's reader table. Safe only while no writer runs (docs/repository-format.md).
                mdb_env_close(env_);
                env_ = nullptr;
                rc = open_env(MDB_RDONLY | MDB_NOLOCK);
                without_reader_table_ = rc == 0;
            }
            opened(rc, "open");
            Txn txn(env_, false);
            for (auto [name, dbi] : tables()) {
                int dbi_rc = mdb_dbi_open(txn.get(), name, 0, dbi);
                // An index written before index objects and duplicates has no table of them; a
                // reader sees none (the first writer adds the tables).
                if (dbi_rc == MDB_NOTFOUND && (dbi == &index_objects_ || dbi == &duplicates_))
                    continue;
                if (dbi_rc == MDB_NOTFOUND)
                    damaged(std::string("it has no table \"") + name + "\"");
                opened(dbi_rc, std::string("open table ") + name);
            }
            txn.commit();
            return;
        }
        opened(open_env(0), "open");
        Txn txn(env_, true);
        for (auto [name, dbi] : tables())
            opened(mdb_dbi_open(txn.get(), name, MDB_CREATE, dbi),
                   std::string("open table ") + name);
        txn.commit();
    } catch (...) {
        if (env_) mdb_env_close(env_);
        env_ = nullptr;
        throw;
    }
}

BlobIndex::~BlobIndex() { mdb_env_close(env_); }

std::optional<BlobLocation> BlobIndex::find(const BlobId& id) const {
    Txn txn(env_, false);
    MDB_val k = val(id.bytes.data(), 32), v;
    int rc = mdb_get(txn.get(), blobs_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    check(rc, "find blob");
    return decode_location(view(v));
}

std::optional<PackInfo> BlobIndex::pack(std::uint32_t seq) const {
    Txn txn(env_, false);
    Bytes key = seq_key(seq);
    MDB_val k = val(key.data(), 4), v;
    int rc = mdb_get(txn.get(), packs_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    check(rc, "find pack");
    return decode_pack_info(seq, view(v));
}

std::vector<PackInfo> BlobIndex::packs() const {
    Txn txn(env_, false);
    std::vector<PackInfo> out;
    for_each_entry(txn.get(), packs_, "read table packs",
                   [&](MDB_cursor*, const MDB_val& k, const MDB_val& v) {
                       if (k.mv_size != 4) throw_corruption("index: pack key of wrong size");
                       auto* p = static_cast<const std::uint8_t*>(k.mv_data);
                       std::uint32_t seq = (std::uint32_t(p[0]) << 24) |
                                           (std::uint32_t(p[1]) << 16) |
                                           (std::uint32_t(p[2]) << 8) | p[3];
                       out.push_back(decode_pack_info(seq, view(v)));
                   });
    return out;
}

std::vector<Snapshot> BlobIndex::snapshots() const {
    Txn txn(env_, false);
    std::vector<Snapshot> out;
    for_each_entry(txn.get(), snapshots_, "read table snapshots",
                   [&](MDB_cursor*, const MDB_val& k, const MDB_val& v) {
                       const BlobId id = BlobId::from_bytes(view(k));
                       const ByteView stored = view(v);
                       if (!records_) {
                           out.push_back({id, decode_snapshot(stored)});
                           return;
                       }
                       Bytes rec;
                       try {
                           rec = records_->open_copy(id, Bytes(stored.begin(), stored.end()));
                       } catch (const StoreError& e) {
                           damaged("the snapshot record " + id.short_hex() + " in it: " + e.what());
                       }
                       out.push_back({id, decode_snapshot(rec)});
                   });
    std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) {
        return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) <
               std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
    });
    return out;
}

void BlobIndex::for_each_blob(
    const std::function<void(const BlobId&, const BlobLocation&)>& fn) const {
    Txn txn(env_, false);
    for_each_entry(txn.get(), blobs_, "read table blobs",
                   [&](MDB_cursor*, const MDB_val& k, const MDB_val& v) {
                       fn(BlobId::from_bytes(view(k)), decode_location(view(v)));
                   });
}

std::uint64_t BlobIndex::blob_count() const {
    Txn txn(env_, false);
    MDB_stat st;
    check(mdb_stat(txn.get(), blobs_, &st), "stat");
    return st.ms_entries;
}

std::uint64_t BlobIndex::snapshot_generation() const {
    Txn txn(env_, false);
    return get_counter(txn.get(), meta_, "snapshot_generation");
}

void BlobIndex::read_every_page() const {
    Txn txn(env_, false);
    MDB_envinfo info;
    check(mdb_env_info(env_, &info), "env info");
    const std::uint64_t pages = std::uint64_t{info.me_last_pgno} + 1;
    // Every byte of every key and value is read: one that lies past the end of the file (a
    // damaged size or offset) raises SIGBUS here, in the probe's child, and not in its parent.
    std::uint8_t sum = 0;
    auto touch = [&](const MDB_val& v) {
        const auto* p = static_cast<const std::uint8_t*>(v.mv_data);
        for (std::size_t i = 0; i < v.mv_size; ++i) sum ^= p[i];
    };
    auto walk = [&](MDB_dbi dbi, const char* table,
                    const std::function<void(const MDB_val&)>& value) {
        const std::string what = std::string("read table ") + table;
        for_each_entry(txn.get(), dbi, what.c_str(),
                       [&](MDB_cursor*, const MDB_val& k, const MDB_val& v) {
                           touch(k);
                           touch(v);
                           if (value) value(v);
                       });
    };
    walk(1, "of tables", {});  // LMDB's main database: where the named tables are
    for (auto [name, dbi] : const_cast<BlobIndex*>(this)->tables())
        if (*dbi != 0) walk(*dbi, name, {});  // 0: a table this older index lacks
    // The free-page list (LMDB's database 0): per transaction, a count then that many page numbers,
    // which a writer reuses.
    walk(0, "of free pages", [&](const MDB_val& v) {
        std::uint64_t n = 0;
        if (v.mv_size >= sizeof n) std::memcpy(&n, v.mv_data, sizeof n);
        if (v.mv_size < sizeof n || v.mv_size / sizeof n - 1 < n)
            throw_corruption("index: a free-page list entry of wrong size");
        const auto* ids = static_cast<const std::uint8_t*>(v.mv_data) + sizeof n;
        for (std::uint64_t i = 0; i < n; ++i) {
            std::uint64_t page;
            std::memcpy(&page, ids + i * sizeof page, sizeof page);
            if (page < 2 || page >= pages)
                throw_corruption("index: the free-page list names page " + std::to_string(page) +
                                 ", outside the file's " + std::to_string(pages));
        }
    });
    // Nobody reads `sum`; it only makes every byte be read.
    volatile std::uint8_t sink = sum;
    (void)sink;
}

std::vector<BlobId> BlobIndex::index_objects_read() const {
    std::vector<BlobId> out;
    if (index_objects_ == 0) return out;
    Txn txn(env_, false);
    for_each_entry(txn.get(), index_objects_, "read table index_objects",
                   [&](MDB_cursor*, const MDB_val& k, const MDB_val&) {
                       if (k.mv_size != 32)
                           throw_corruption("index: index object key of wrong size");
                       out.push_back(BlobId::from_bytes(view(k)));
                   });
    return out;
}

void BlobIndex::note_index_objects(const std::vector<BlobId>& read,
                                   const std::vector<BlobId>& gone) {
    if (read.empty() && gone.empty()) return;
    Txn txn(env_, true);
    for (const auto& id : read) {
        MDB_val k = val(id.bytes.data(), 32), v = val(nullptr, 0);
        check(mdb_put(txn.get(), index_objects_, &k, &v, 0), "record an index object");
    }
    for (const auto& id : gone) {
        MDB_val k = val(id.bytes.data(), 32);
        int rc = mdb_del(txn.get(), index_objects_, &k, nullptr);
        if (rc != MDB_NOTFOUND) check(rc, "forget an index object");
    }
    txn.commit();
}

void BlobIndex::for_each_duplicate(
    const std::function<void(const BlobId&, const BlobLocation&)>& fn) const {
    if (duplicates_ == 0) return;
    Txn txn(env_, false);
    for_each_entry(txn.get(), duplicates_, "read table duplicates",
                   [&](MDB_cursor*, const MDB_val& k, const MDB_val& v) {
                       if (k.mv_size != 36) throw_corruption("index: duplicate key of wrong size");
                       fn(BlobId::from_bytes(view(k).subspan(0, 32)), decode_location(view(v)));
                   });
}

void BlobIndex::add_pack(const BlobId& pack_id, std::uint64_t size,
                         const std::vector<PackEntry>& entries) {
    Txn txn(env_, true);
    insert_pack(txn.get(), pack_id, size, entries, false);
    txn.commit();
}

void BlobIndex::add_packs(const std::vector<IndexedPack>& packs) {
    std::size_t i = 0;
    while (i < packs.size()) {
        Txn txn(env_, true);
        std::size_t blobs = 0;
        do {
            insert_pack(txn.get(), packs[i].id, packs[i].size, packs[i].entries, false);
            blobs += packs[i].entries.size() + 1;
        } while (++i < packs.size() && blobs < kBatchBlobs);
        txn.commit();
    }
}

void BlobIndex::add_repacked_pack(const BlobId& pack_id, std::uint64_t size,
                                  const std::vector<PackEntry>& entries) {
    Txn txn(env_, true);
    insert_pack(txn.get(), pack_id, size, entries, true);
    txn.commit();
}

void BlobIndex::insert_pack(MDB_txn* txn, const BlobId& pack_id, std::uint64_t size,
                            const std::vector<PackEntry>& entries, bool relocate) {
    MDB_val idk = val(pack_id.bytes.data(), 32), existing;
    std::uint32_t seq;
    if (mdb_get(txn, pack_ids_, &idk, &existing) == MDB_SUCCESS) {
        if (!relocate) return;  // already known
        // Known (indexed by repair-index after a prune died): still move its blobs to it.
        if (existing.mv_size != 4) throw_corruption("index: pack id entry of wrong size");
        auto* p = static_cast<const std::uint8_t*>(existing.mv_data);
        seq = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
              (std::uint32_t(p[2]) << 8) | p[3];
    } else {
        seq = static_cast<std::uint32_t>(get_counter(txn, meta_, "next_pack") + 1);
        put_counter(txn, meta_, "next_pack", seq);
        Bytes key = seq_key(seq);
        PackInfo info{seq, pack_id, size, static_cast<std::uint32_t>(entries.size()), 0};
        Bytes pv = encode_pack_info(info);
        MDB_val k = val(key.data(), 4), v = val(pv.data(), pv.size());
        check(mdb_put(txn, packs_, &k, &v, 0), "add pack");
        MDB_val sv = val(key.data(), 4);
        check(mdb_put(txn, pack_ids_, &idk, &sv, 0), "add pack id");
    }
    for (const auto& e : entries) {
        Bytes loc = encode_location({seq, e.offset, e.stored_size, e.raw_size, e.type, e.codec});
        MDB_val bk = val(e.id.bytes.data(), 32), bv = val(loc.data(), loc.size());
        int rc = mdb_put(txn, blobs_, &bk, &bv, relocate ? 0 : MDB_NOOVERWRITE);
        if (rc != MDB_KEYEXIST) {
            check(rc, "add blob");
            continue;
        }
        // Indexed in another pack already: this copy is remembered, to take over if that pack goes.
        Bytes key = duplicate_key(e.id, seq);
        MDB_val dk = val(key.data(), key.size()), dv = val(loc.data(), loc.size());
        check(mdb_put(txn, duplicates_, &dk, &dv, 0), "add duplicate blob");
    }
}

void BlobIndex::put_snapshot(const Snapshot& s) { put_snapshots({s}); }

void BlobIndex::put_snapshots(const std::vector<Snapshot>& snapshots) {
    if (snapshots.empty()) return;
    Txn txn(env_, true);
    for (const auto& s : snapshots) {
        Bytes rec = encode_snapshot(s.rec);
        if (records_) rec = records_->seal_copy(s.id, std::move(rec));
        MDB_val k = val(s.id.bytes.data(), 32), v = val(rec.data(), rec.size());
        check(mdb_put(txn.get(), snapshots_, &k, &v, 0), "add snapshot");
    }
    put_counter(txn.get(), meta_, "snapshot_generation",
                get_counter(txn.get(), meta_, "snapshot_generation") + 1);
    txn.commit();
}

void BlobIndex::remove_snapshot(const BlobId& id) {
    Txn txn(env_, true);
    MDB_val k = val(id.bytes.data(), 32);
    int rc = mdb_del(txn.get(), snapshots_, &k, nullptr);
    if (rc == MDB_NOTFOUND) return;
    check(rc, "remove snapshot");
    put_counter(txn.get(), meta_, "snapshot_generation",
                get_counter(txn.get(), meta_, "snapshot_generation") + 1);
    txn.commit();
}

void BlobIndex::set_pack_verified(std::uint32_t seq, std::int64_t when) {
    Txn txn(env_, true);
    Bytes key = seq_key(seq);
    MDB_val k = val(key.data(), 4), v;
    int rc = mdb_get(txn.get(), packs_, &k, &v);
    if (rc == MDB_NOTFOUND) return;
    check(rc, "find pack");
    PackInfo p = decode_pack_info(seq, view(v));
    p.last_verified = when;
    Bytes pv = encode_pack_info(p);
    MDB_val nv = val(pv.data(), pv.size());
    check(mdb_put(txn.get(), packs_, &k, &nv, 0), "update pack");
    txn.commit();
}

void BlobIndex::remove_pack(std::uint32_t seq) { remove_packs({seq}); }

void BlobIndex::remove_packs(const std::vector<std::uint32_t>& seqs) {
    if (seqs.empty()) return;
    std::vector<std::uint32_t> doomed(seqs);
    std::sort(doomed.begin(), doomed.end());
    auto is_doomed = [&](std::uint32_t seq) {
        return std::binary_search(doomed.begin(), doomed.end(), seq);
    };
    Txn txn(env_, true);
    MDB_stat st;
    check(mdb_stat(txn.get(), duplicates_, &st), "stat duplicates");
    const bool any_duplicates = st.ms_entries > 0;
    std::unordered_set<BlobId, BlobIdHash> orphans;  // removed here, maybe held by another pack
    for_each_entry(txn.get(), blobs_, "read table blobs",
                   [&](MDB_cursor* cur, const MDB_val& k, const MDB_val& v) {
                       if (!is_doomed(decode_location(view(v)).pack)) return;
                       if (any_duplicates) orphans.insert(BlobId::from_bytes(view(k)));
                       check(mdb_cursor_del(cur, 0), "remove blob");
                   });
    // A blob whose pack goes moves to a copy in a pack that stays; copies in packs that go are
    // forgotten. (Keys sort by blob id, so each orphan takes its first surviving copy.)
    if (any_duplicates)
        for_each_entry(txn.get(), duplicates_, "read table duplicates",
                       [&](MDB_cursor* cur, const MDB_val& k, const MDB_val& v) {
                           if (k.mv_size != 36)
                               throw_corruption("index: duplicate key of wrong size");
                           const BlobLocation loc = decode_location(view(v));
                           if (!is_doomed(loc.pack)) {
                               const BlobId id = BlobId::from_bytes(view(k).subspan(0, 32));
                               if (!orphans.erase(id)) return;
                               MDB_val bk = val(id.bytes.data(), 32), bv = v;
                               check(mdb_put(txn.get(), blobs_, &bk, &bv, 0), "move blob");
                           }
                           check(mdb_cursor_del(cur, 0), "remove duplicate blob");
                       });
    for (std::uint32_t seq : doomed) {
        Bytes key = seq_key(seq);
        MDB_val k = val(key.data(), 4), v;
        int rc = mdb_get(txn.get(), packs_, &k, &v);
        if (rc == MDB_NOTFOUND) continue;
        check(rc, "find pack");
        PackInfo p = decode_pack_info(seq, view(v));
        MDB_val idk = val(p.id.bytes.data(), 32);
        mdb_del(txn.get(), pack_ids_, &idk, nullptr);
        check(mdb_del(txn.get(), packs_, &k, nullptr), "remove pack");
    }
    txn.commit();
}

}  // namespace strata
