// The LMDB index (docs/repository-format.md, "Index"): blob id -> location, the pack table and a
// copy of every snapshot record. It is a cache of what the packs and snapshots/ hold, never the
// only copy of anything: `repair-index` rebuilds it from them.
//
// Threads: any thread may call the read functions concurrently (each runs in its own short LMDB
// read transaction, which never blocks and is never blocked by the writer). The write functions
// must be called by one thread of the one process holding the repository's writer lock.
#pragma once

#include <lmdb.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/base/errors.h"
#include "store/base/hash.h"
#include "store/base/unique_fd.h"
#include "store/format/blob_codec.h"
#include "store/format/format.h"
#include "store/format/index_object.h"
#include "store/format/pack.h"
#include "store/format/snapshot.h"

namespace strata {

struct BlobLocation {
    std::uint32_t pack;  // sequence number in the pack table
    std::uint64_t offset;
    std::uint32_t stored_size;
    std::uint32_t raw_size;
    format::BlobType type;
    format::Codec codec;
};

struct PackInfo {
    std::uint32_t seq = 0;
    BlobId id;
    std::uint64_t size = 0;
    std::uint32_t blobs = 0;
    std::int64_t last_verified = 0;  // Unix seconds; 0 = never
};

// The index's value encodings (docs/repository-format.md, "Index"). The decoders check sizes and
// enumerations and throw Corruption; they are exposed for the fuzz targets in tests/fuzz/.
Bytes encode_location(const BlobLocation& l);
BlobLocation decode_location(ByteView v);
Bytes encode_pack_info(const PackInfo& p);  // the seq is the key, not part of the value
PackInfo decode_pack_info(std::uint32_t seq, ByteView v);

// Thrown by BlobIndex's constructor when the index cannot be used as it is: data.mdb is missing
// (kind NotFound) or damaged (Corruption: it fails index_file_problem, or LMDB refuses it). The
// message names the file and says to run `strata repair-index REPO`; writers may instead rebuild
// the index themselves (docs/reliability.md, "A damaged index").
class IndexUnusable : public StoreError {
  public:
    // `problem`: what is wrong, naming the file; `repository`: the directory holding index/.
    IndexUnusable(Kind kind, const std::string& problem, const std::string& repository)
        : StoreError(kind, problem + "; run `strata repair-index " + repository +
                               "` to rebuild it from the packs and snapshot records"),
          problem_(problem) {}
    const std::string& problem() const { return problem_; }

  private:
    std::string problem_;
};

class BlobIndex {
  public:
    enum class Access {
        ReadOnly,   // readers: no write transaction ever, works without write access to data.mdb
        ReadWrite,  // the writer (holding the repository's writer lock)
        Create,     // init and repair-index: create the environment and its tables
    };
    // Opens the environment in directory `dir` (a repository's index/). A ReadOnly open of an
    // index on a read-only filesystem (where LMDB cannot use lock.mdb) falls back to MDB_NOLOCK;
    // see docs/repository-format.md, "The index". Except for Create, data.mdb must exist and pass
    // index_file_problem (store/index/index_file.h) before LMDB maps it: else throws IndexUnusable.
    // Snapshot records are kept as `records` seals them (BlobCodec::seal_copy: sealed in an
    // encrypted repository); null: as they are, for a plain repository's index and for callers
    // that read no snapshots. The codec must outlive the index.
    BlobIndex(const std::string& dir, Access access, const BlobCodec* records = nullptr);
    ~BlobIndex();
    // True when opened with MDB_NOLOCK (no write access to lock.mdb): reads are then safe only
    // while no writer (ingest, prune) runs.
    bool without_reader_table() const { return without_reader_table_; }
    BlobIndex(const BlobIndex&) = delete;
    BlobIndex& operator=(const BlobIndex&) = delete;

    std::optional<BlobLocation> find(const BlobId& id) const;
    bool contains(const BlobId& id) const { return find(id).has_value(); }
    std::optional<PackInfo> pack(std::uint32_t seq) const;
    std::vector<PackInfo> packs() const;
    std::vector<Snapshot> snapshots() const;  // sorted by time, then id
    // Calls fn for every indexed blob (in id order) with its location.
    void for_each_blob(const std::function<void(const BlobId&, const BlobLocation&)>& fn) const;
    // Calls fn for every copy of a blob that add_pack found indexed in another pack already (in
    // blob id order): when that pack is removed, remove_packs moves the blob to such a copy.
    // Hosts sharing a repository in an object store store the same blob in two packs, and a
    // prune on another host may delete either.
    void for_each_duplicate(
        const std::function<void(const BlobId&, const BlobLocation&)>& fn) const;
    std::uint64_t blob_count() const;
    // Increases whenever the snapshot table changes; cheap to poll (one read transaction).
    std::uint64_t snapshot_generation() const;
    // Reads every byte of every entry of every table, LMDB's free-page list included, and checks
    // that every free page number lies inside the file; throws Corruption otherwise. A damaged
    // page can crash this (SIGSEGV, SIGBUS): it is for probe_index_or_throw's child.
    void read_every_page() const;

    // Writer only. Records a pack (already durable in the object store) and all its blobs in one
    // transaction. Blobs already indexed elsewhere keep their existing location.
    void add_pack(const BlobId& pack_id, std::uint64_t size, const std::vector<PackEntry>& entries);
    // Writer only. add_pack for many packs, in few transactions (one commit, with its fsyncs, per
    // kBatchBlobs blobs rather than per pack): how a cache takes in what it learns in a refresh.
    void add_packs(const std::vector<IndexedPack>& packs);
    static constexpr std::size_t kBatchBlobs = 1u << 17;
    // Writer only (prune). Like add_pack, but the pack's blobs move to it even when indexed
    // elsewhere: it holds copies of blobs whose old packs are about to be removed.
    void add_repacked_pack(const BlobId& pack_id, std::uint64_t size,
                           const std::vector<PackEntry>& entries);
    void put_snapshot(const Snapshot& s);
    // Writer only. put_snapshot for many, in one transaction.
    void put_snapshots(const std::vector<Snapshot>& snapshots);
    void remove_snapshot(const BlobId& id);
    // The index objects (store/format/index_object.h) whose packs a remote repository's cache has
    // taken in, by id: a cache reads each index object once.
    std::vector<BlobId> index_objects_read() const;
    // Writer only: records the index objects `read` as read and forgets those in `gone`.
    void note_index_objects(const std::vector<BlobId>& read, const std::vector<BlobId>& gone);
    // The one write that needs no writer lock (verify records its progress while backups run):
    // it only changes the verification time of a pack still in the table, in its own transaction,
    // which LMDB serializes with the writer's.
    void set_pack_verified(std::uint32_t seq, std::int64_t when);
    // Removes a pack and every blob located in it.
    void remove_pack(std::uint32_t seq);
    // Writer only. Removes several packs and every blob located in them in one transaction (one
    // pass over the blob table, where remove_pack makes one pass per pack). A blob with a copy in
    // a pack that stays (for_each_duplicate) is located there instead.
    void remove_packs(const std::vector<std::uint32_t>& seqs);

    // Writer only, with no other thread using this index meanwhile. LMDB never gives free pages
    // back to the file system, and each write transaction copies the pages it changes, so an
    // index written pack by pack holds up to a few times its live data (docs/repository-format.md,
    // "Compaction"). This rewrites it, in key order with full pages, into a new file that replaces
    // data.mdb, when the file is at least kCompactionRatio times the estimate of its compacted
    // size and kCompactionMinGain larger (or always, with `force`), and only when no other process
    // has the environment open: a reader (a mount) keeps the old file mapped and would not see
    // later snapshots, so then it answers InUse and changes nothing. Processes that open the index
    // meanwhile wait in mdb_env_open until it is done. A crash at any point leaves either the old
    // file or the new, complete one. Random blob ids leave pages about 70% full and each ingest's
    // transactions free copies of most of them; 1.5 lets a few small ingests pass between
    // compactions (each rewrites the whole index) while the file stays within 1.5 times its
    // compacted size.
    static constexpr double kCompactionRatio = 1.5;
    // Below this much to gain, compacting is not worth its two fsyncs.
    static constexpr std::uint64_t kCompactionMinGain = 1u << 20;
    enum class Compaction { NotNeeded, InUse, Done };
    struct CompactionResult {
        Compaction outcome = Compaction::NotNeeded;
        std::uint64_t bytes_before = 0, bytes_after = 0;  // size of data.mdb
    };
    CompactionResult compact(bool force = false);
    // The file's size, and an estimate of it compacted (pages full, no free pages).
    struct SpaceUse {
        std::uint64_t file_bytes = 0, compact_bytes = 0;
    };
    SpaceUse space_use() const;

  private:
    void open_environment(Access access);
    // Throws IndexUnusable: "the index <dir>/data.mdb is damaged (<why>)".
    [[noreturn]] void damaged(const std::string& why) const;
    void copy_compacted(const std::string& path);
    std::array<std::pair<const char*, MDB_dbi*>, 7> tables();  // the named databases
    void insert_pack(MDB_txn* txn, const BlobId& pack_id, std::uint64_t size,
                     const std::vector<PackEntry>& entries, bool relocate);

    std::string dir_;
    const BlobCodec* records_ = nullptr;
    // lock.mdb, opened by the first compaction and closed only after the environment: closing
    // any descriptor of lock.mdb drops all of this process's locks on it, LMDB's own included.
    UniqueFd lock_file_;
    MDB_env* env_ = nullptr;
    bool without_reader_table_ = false;
    MDB_dbi blobs_ = 0, packs_ = 0, pack_ids_ = 0, snapshots_ = 0, meta_ = 0;
    // 0 in a read-only open of an index written before these tables.
    MDB_dbi index_objects_ = 0, duplicates_ = 0;
};

}  // namespace strata
