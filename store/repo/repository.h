// A repository on disk (docs/repository-format.md): config, packs, snapshot records, the LMDB index
// and the writer lock. Readers never lock; writers take the writer lock first.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "store/backend/object_store.h"
#include "store/backend/writer_lock.h"
#include "store/format/blob_codec.h"
#include "store/format/chunker.h"
#include "store/format/index_object.h"
#include "store/index/index.h"
#include "store/repo/blob_file_cache.h"
#include "store/repo/pack_windows.h"
#include "store/repo/reader.h"
#include "store/repo/repo_keys.h"
#include "store/repo/rollback_check.h"
#include "store/repo/storage.h"

namespace strata {

class WriterMarker;  // store/repo/writer_marker.h

struct RepoConfig {
    std::uint32_t version = 0;
    std::string id;  // random, 64 hex digits
    ChunkerParams chunker{};
    int zstd_level = 0;
    // An encrypted repository's keys, unlocked with a password (store/repo/repo_keys.h); null
    // for a repository stored in the clear.
    std::shared_ptr<const UnlockedKeys> unlocked;
    // What `strata stats` and `snapshots` show: "none" or the scheme (format::kEncryptionScheme).
    std::string encryption() const { return unlocked ? format::kEncryptionScheme : "none"; }
};

// The codec of the repository `config` describes: sealed_blob_codec for an encrypted one,
// plain_blob_codec otherwise (store/format/blob_codec.h). The only place that asks.
std::unique_ptr<BlobCodec> codec_for(const RepoConfig& config);

struct InitOptions {
    int zstd_level;
    ChunkerParams chunker;
    // Encrypts the repository (format 2) with a new random master key, opened by this password;
    // nullopt: everything is stored in the clear (format 1).
    std::optional<std::string> password;
    crypto::KdfParams kdf{};  // the Argon2id costs of its first key object
};
InitOptions default_init_options();

class Repository final : public RepositoryReader {
  public:
    // Creates an empty repository at `location`: a local directory, which must be absent or
    // empty, or an S3 bucket and prefix that hold nothing (the bucket is created if missing).
    static void init(const std::string& location, const InitOptions& opts);
    // What init checks of a local directory before anything else (a file, a directory that is
    // not empty: Usage), for a caller to check before asking for a password.
    static void check_init_target(const std::string& location);
    // When open brings a remote repository's cache up to date. AtWriterLock is for a command
    // whose first use of the index follows lock_for_writing, which refreshes the cache under the
    // writer's marker anyway: open then only builds a cache that is missing or damaged.
    enum class CacheSync { AtOpen, AtWriterLock };
    // Opens an existing repository from its storage spec (store/repo/storage.h); the config is
    // read through the spec's objects. Refuses a newer format or storage that holds no
    // repository. The index is read whole in a child process first (probe_index_or_throw): a
    // missing or damaged one throws IndexUnusable, naming the file and saying to run `strata
    // repair-index`.
    static std::unique_ptr<Repository> open(RepositoryStorage storage,
                                            CacheSync sync = CacheSync::AtOpen);
    // The repository at `location`: a local directory or an S3 URL (open_storage). A remote
    // repository's index cache is brought up to date first (refresh_index_cache), or at
    // lock_for_writing (`sync`).
    static std::unique_ptr<Repository> open(const std::string& location,
                                            CacheSync sync = CacheSync::AtOpen);
    // Like open, but packs and snapshot records go through `objects` instead of the local store of
    // `path` (tests wrap the local store to inject faults; config, index and lock stay in `path`).
    static std::unique_ptr<Repository> open(const std::string& path,
                                            std::unique_ptr<ObjectStore> objects);

    // Takes the writer lock. If another process holds it, waits up to `wait_seconds`, then throws
    // Locked naming the holder (pid, host, since when, what for). Also reconciles the snapshot
    // table with snapshots/ and discards the partial writes a crashed writer left
    // (ObjectStore::discard_partial_writes).
    std::unique_ptr<WriterLock> lock_for_writing(const std::string& purpose,
                                                 double wait_seconds = 0);

    // Reopens the index for writing without taking the writer lock. Only for writes that LMDB's
    // own transaction serialization makes safe beside a writer (verify recording when it checked a
    // pack). Invalidates references obtained from index() before the call.
    void open_index_writable();

    // RepositoryReader
    // Oldest first. Read from the index, checked against snapshots/ (one directory listing). A
    // snapshot this host saw before that is gone without a forget is told to the storage
    // options' on_warning (store/repo/rollback_check.h).
    std::vector<Snapshot> snapshots() override;
    std::uint64_t snapshot_generation() override { return index_->snapshot_generation(); }
    std::vector<TreeEntry> load_tree(const BlobId& id) override;
    Bytes load_data(const BlobId& id) override;
    std::string concurrent_writer_caveat() override;
    SpaceUsage space_usage() override;

    // Reads the snapshot record `id` from snapshots/, checks that its content is what its name
    // says and decodes it. Throws NotFound if there is none, Corruption (without naming the
    // record: callers add where) if it is damaged.
    SnapshotRecord load_snapshot_record(const BlobId& id);
    bool refresh_from_store() override;

    // Loads a blob of either type, decompressed and hash-checked. A remote repository's trees come
    // from this host's tree cache when it has them, and its data chunks from the chunk cache when
    // the storage asked for one (store/repo/blob_file_cache.h).
    Bytes load_blob(const BlobId& id, format::BlobType expected);
    // A tree blob just sealed by this host (`stored`: the bytes its pack holds), kept in the tree
    // cache of a remote repository; nothing for a local one. Any thread.
    void remember_tree(const BlobId& id, ByteView stored);

    // Writer only: stores a snapshot record durably, then indexes it. In an object store, also
    // takes back, in keep records, the packs it uses that a prune on another host retired while
    // this writer ran (docs/repository-format.md, "Deletion").
    // In an object store, the index object of the packs written since the last one
    // (publish_index_object) goes first.
    BlobId save_snapshot(const SnapshotRecord& rec);
    // Writer only, one thread at a time: indexes a pack this writer made durable. In an object
    // store the pack also goes into this writer's next index object, which is written once
    // kIndexObjectPacks packs or kIndexObjectBlobs blobs wait for one, and at save_snapshot.
    void add_written_pack(const BlobId& pack_id, std::uint64_t size,
                          const std::vector<PackEntry>& entries);
    // Object stores: writes the index object of the packs added since the last one, if any, and
    // notes it as read in this host's cache; it carries `record` (the snapshot about to be
    // saved) too. Nothing for a local repository.
    void publish_index_object(std::optional<CarriedRecord> record = std::nullopt);
    static constexpr std::size_t kIndexObjectPacks = 64, kIndexObjectBlobs = 1u << 16;
    // Whether this writer's cache left out packs that a prune retired (lock_for_writing of a
    // repository in an object store): an unchanged file's chunks may then be reused from its
    // last snapshot only if the index still has them.
    bool some_packs_retired() const { return packs_retired_ > 0; }
    // The marker this writer keeps in writers/ ("" for a local repository or a reader).
    std::string writer_marker_name() const;

    // Takes the writer lock as "compact-index", without waiting (throws Locked if another writer
    // holds it), and compacts the index if that is worthwhile and no other process has it open;
    // `always`: whatever its state (BlobIndex::compact). A remote repository's cache is this
    // host's alone: only the host's lock is taken, with no marker in writers/ and no refresh.
    void compact_index(bool always = false);

    // Names the repository in messages (a local repository's path).
    const std::string& location() const { return location_; }
    // The local directory holding the index (<repo>/index for a local repository).
    const std::string& index_dir() const { return index_dir_; }
    // Whether the index is this host's cache of a remote repository (RepositoryStorage).
    bool index_is_cache() const { return index_is_cache_; }
    // Why the index cannot be used (probe_index, read in a child process, with the advice to run
    // `strata repair-index`), or "" when it reads back whole.
    std::string index_problem() const;
    const RepoConfig& config() const { return config_; }
    ObjectStore& objects() { return *objects_; }
    // How this repository's blobs are identified, sealed and opened (store/format/blob_codec.h).
    const BlobCodec& codec() const { return *codec_; }
    BlobIndex& index() { return *index_; }

    struct RepairReport {
        std::size_t packs = 0, blobs = 0, snapshots = 0;
        std::vector<std::string> problems;  // packs or records that could not be read
    };
    // The blobs a previous index listed in the pack `pack_id` (empty if it knows none).
    using PreviousEntries = std::function<std::vector<PackEntry>(const BlobId& pack_id)>;
    // Rebuilds the index from the packs' trailers and the snapshot records; needs the writer lock.
    // Works even when the index is missing or damaged (open with open_for_repair). A pack
    // whose trailer cannot be read (truncated, damaged end) is not thrown away whole: the blobs
    // `previous` lists in it that are still inside the file and hash-check are indexed again.
    RepairReport repair_index(const PreviousEntries& previous = {});
    // Opens the config only, not the index (index() must not be used before repair_index).
    static std::unique_ptr<Repository> open_for_repair(RepositoryStorage storage);
    static std::unique_ptr<Repository> open_for_repair(const std::string& location);

  private:
    Repository(RepositoryStorage storage, RepoConfig config, std::unique_ptr<BlobIndex> index,
               std::unique_ptr<BlobCodec> codec);
    // The lock of this repository on this host (a local repository's lock file, a remote one's
    // in its cache directory), waiting as lock_for_writing does; nothing else.
    std::unique_ptr<WriterLock> take_host_lock(const std::string& purpose, double wait_seconds);
    void reconcile_snapshots();
    void keep_packs_in_use(const SnapshotRecord& rec);
    std::vector<PackEntry> blobs_still_sound(const std::string& name, std::uint64_t size,
                                             std::vector<PackEntry> listed);

    std::string location_;
    std::string index_dir_;
    bool index_is_cache_ = false;
    std::string free_space_dir_;
    RepoConfig config_;
    std::unique_ptr<ObjectStore> objects_;
    std::unique_ptr<WriterLockProvider> locks_;
    std::unique_ptr<BlobIndex> index_;
    std::unique_ptr<BlobCodec> codec_;
    std::unique_ptr<RollbackCheck> rollback_;
    std::optional<BlobFileCache> trees_;    // remote repositories only
    std::optional<BlobFileCache> chunks_;   // remote repositories opened with a chunk cache
    std::unique_ptr<PackWindows> windows_;  // remote repositories only
    // Remote writers: the marker in writers/, and what the lock-time refresh of the cache saw.
    std::weak_ptr<WriterMarker> marker_;
    std::vector<std::string> known_deletions_;
    std::size_t packs_retired_ = 0;
    // Remote writers: packs written since the last index object, and their blob count.
    std::mutex unpublished_mu_;
    std::vector<IndexedPack> unpublished_;
    std::size_t unpublished_blobs_ = 0;
};

// Reads the holder of the local repository's lock file, if any process has written one.
std::optional<LockHolder> read_lock_holder(const std::string& repo_path);

// Reads the snapshot record `id` from `objects`, opens it with `codec`, which checks that its
// content is what its name says, and decodes it (Repository::load_snapshot_record).
SnapshotRecord load_snapshot_record(ObjectStore& objects, const BlobCodec& codec, const BlobId& id);

// Reads and parses the config of the repository whose objects are `objects`, named `location` in
// messages: no config is Format ("not a strata repository"), an unreadable one Io (permission
// denied, with what to do), a damaged one Corruption (with how to repair it). An encrypted
// repository is unlocked with the password `password` gives (store/repo/repo_keys.h): none, or a
// wrong one, is Password.
RepoConfig load_repo_config(ObjectStore& objects, const std::string& location,
                            const PasswordSource& password);

// What the config says without a password: the format version and the repository id, and
// whether the rest is sealed (format 2). Reads and checks the clear header as load_repo_config
// does, with the same errors; a plain repository's config is checked whole.
struct RepoConfigHeader {
    std::uint32_t version = 0;
    std::string id;
    bool encrypted = false;
};
RepoConfigHeader load_repo_config_header(ObjectStore& objects, const std::string& location);

// Given the clear header of an encrypted repository's config (version and id) and its sealed
// settings, returns the settings' text and sets header.unlocked.
using SettingsOpener = std::function<std::string(RepoConfig& header, const Bytes& sealed)>;
// Parses the text of a repository config file; `where` names it in error messages. Throws Format
// for a foreign or newer repository, Corruption for a malformed or inconsistent one; an
// encrypted one's settings are opened by `open_settings` (none: Password).
RepoConfig parse_repo_config(const std::string& text, const std::string& where,
                             const SettingsOpener& open_settings = {});

}  // namespace strata
