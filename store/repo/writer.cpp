#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "store/backend/s3/s3_location.h"
#include "store/base/crash_point.h"
#include "store/base/directory.h"
#include "store/base/utc_time.h"
#include "store/format/format.h"
#include "store/repo/index_cache.h"
#include "store/repo/pending_deletion.h"
#include "store/repo/repository.h"
#include "store/repo/writer_marker.h"

// The writing side of Repository: creating one, the writer lock, and what only a writer does.
// Built into strata_store_write, which the mount does not link: it cannot take the lock or save.
namespace strata {
namespace {

// How much longer than asked a writer waits for a refresh of this host's cache to end.
constexpr std::chrono::seconds kRefreshWait{30};

void mkdir_p(const std::string& p, mode_t mode) {
    if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST) throw_io("create " + p, errno);
}

// The writer lock of a repository in an object store: this host's lock on its cache, and the
// marker that tells the prunes of other hosts that a writer is at work.
class AnnouncedWriterLock final : public WriterLock {
  public:
    AnnouncedWriterLock(std::unique_ptr<WriterLock> host_lock, std::shared_ptr<WriterMarker> marker)
        : host_lock_(std::move(host_lock)), marker_(std::move(marker)) {}

  private:
    std::unique_ptr<WriterLock> host_lock_;  // released last
    std::shared_ptr<WriterMarker> marker_;
};

}  // namespace

InitOptions default_init_options() {
    InitOptions o;
    o.zstd_level = format::kDefaultZstdLevel;
    o.chunker = {format::kDefaultChunkMin, format::kDefaultChunkAvg, format::kDefaultChunkMax};
    return o;
}

namespace {

std::string settings_text(const InitOptions& opts) {
    std::ostringstream c;
    c << "chunker = gear-fastcdc-v1\n"
      << "chunk_min = " << opts.chunker.min_size << "\n"
      << "chunk_avg = " << opts.chunker.avg_size << "\n"
      << "chunk_max = " << opts.chunker.max_size << "\n"
      << "zstd_level = " << opts.zstd_level << "\n";
    return c.str();
}

// Writes what a new repository holds besides its folders: for an encrypted one its first key
// object, then the config, always last (a repository without one is an interrupted init).
void write_new_repository(ObjectStore& objects, const InitOptions& opts) {
    const BlobId id = *BlobId::from_hex(random_hex(32));
    std::ostringstream c;
    c << "strata repository\n";
    if (!opts.password) {
        c << "version = " << format::kPlainRepositoryVersion << "\n"
          << "id = " << id.hex() << "\n"
          << settings_text(opts);
    } else {
        const crypto::Key master = crypto::Key::random();
        const auto keys = crypto::RepositoryKeys::derive(master, id);
        const std::string settings = settings_text(opts);
        c << "version = " << format::kEncryptedRepositoryVersion << "\n"
          << "id = " << id.hex() << "\n"
          << "encryption = " << format::kEncryptionScheme << "\n"
          << "settings = "
          << to_hex(crypto::seal(keys.content, crypto::ObjectKind::Config, id, as_bytes(settings)))
          << "\n";
        add_repository_key(objects, master, id, *opts.password, opts.kdf);
    }
    const std::string text = c.str();
    objects.put(format::kConfigFile, as_bytes(text));
}

void check_init_options(const InitOptions& opts) {
    if (opts.zstd_level < 1 || opts.zstd_level > 19) throw_usage("zstd level must be 1 to 19");
    Chunker check(opts.chunker);
    if (opts.chunker.max_size > format::kMaxBlobSize) throw_usage("chunk max above 64 MiB");
}

}  // namespace

void Repository::check_init_target(const std::string& path) {
    if (s3::is_s3_location(path)) return;  // objects_for_init checks, creating the bucket
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            throw_usage(path +
                        (S_ISREG(st.st_mode) ? " is a file, not a directory"
                                             : " exists and is not a directory") +
                        "; choose a new or empty directory for the repository");
        if (!directory_is_empty(path).value_or(false))
            throw_usage(path + " is not empty; choose a new or empty directory for the repository");
    } else if (errno != ENOENT) {
        throw_io("stat " + path, errno);
    }
}

void Repository::init(const std::string& path, const InitOptions& opts) {
    if (s3::is_s3_location(path)) {
        check_init_options(opts);
        // Folders are implied by names in a bucket; the index cache is made at the first open.
        write_new_repository(*objects_for_init(path), opts);
        return;
    }
    check_init_target(path);
    check_init_options(opts);
    mkdir_p(path, 0700);
    for (const char* d :
         {format::kPackDir, format::kSnapshotDir, format::kLockDir, format::kTmpDir})
        mkdir_p(path + "/" + d, 0700);
    BlobIndex(path + "/" + format::kIndexDir, BlobIndex::Access::Create);
    write_new_repository(*open_local_store(path), opts);
}

std::unique_ptr<WriterLock> Repository::take_host_lock(const std::string& purpose,
                                                       double wait_seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    std::unique_ptr<WriterLock> lock;
    while (!(lock = locks_->try_lock(purpose))) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            auto h = locks_->holder();
            // A refresh of this host's cache (a mount's, every minute) takes a moment: wait it out.
            if (h && h->purpose == kRefreshPurpose && now < deadline + kRefreshWait) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            std::string who = "another process";
            if (h) {
                who = "pid " + std::to_string(h->pid) + " on " + h->host + " (" + h->purpose +
                      ", since " + utc_time_text(h->since) + ")";
            }
            throw StoreError(StoreError::Kind::Locked,
                             "repository " + location_ + " is locked by " + who +
                                 "; wait for it to finish, or pass --lock-wait SECONDS");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return lock;
}

std::unique_ptr<WriterLock> Repository::lock_for_writing(const std::string& purpose,
                                                         double wait_seconds) {
    auto lock = take_host_lock(purpose, wait_seconds);
    objects_->discard_partial_writes();
    if (!index_) return lock;
    open_index_writable();  // readers open it read-only
    if (!index_is_cache_) {
        reconcile_snapshots();
        return lock;
    }
    // Another host may have written packs, records and deletion records since this one's cache
    // was refreshed: the marker first, then the refresh, so that a prune which the refresh
    // missed waits for this writer (docs/repository-format.md, "Deletion").
    auto marker = std::make_shared<WriterMarker>(*objects_, purpose);
    CacheRefresh refresh = sync_index_with_objects(*index_, *objects_, *codec_);
    known_deletions_ = refresh.deletion_records;
    packs_retired_ = refresh.packs_retired;
    marker->set_known(known_deletions_);
    marker_ = marker;
    return std::make_unique<AnnouncedWriterLock>(std::move(lock), std::move(marker));
}

std::string Repository::writer_marker_name() const {
    auto marker = marker_.lock();
    return marker ? marker->name() : "";
}

void Repository::compact_index(bool always) {
    if (index_is_cache_) {
        // Only this host's cache is rewritten: nothing in the object store changes, so the lock
        // of this host is enough, without a marker or a refresh.
        auto lock = take_host_lock("compact-index", 0);
        open_index_writable();
        index_->compact(always);
        return;
    }
    auto lock = lock_for_writing("compact-index");
    index_->compact(always);
}

void Repository::open_index_writable() {
    index_.reset();  // LMDB forbids two environments on one file in a process
    try {
        index_ =
            std::make_unique<BlobIndex>(index_dir_, BlobIndex::Access::ReadWrite, codec_.get());
    } catch (const StoreError&) {
        // Leave a usable read-only index behind: the caller may go on without writing.
        index_ = std::make_unique<BlobIndex>(index_dir_, BlobIndex::Access::ReadOnly, codec_.get());
        throw;
    }
}

void Repository::reconcile_snapshots() {
    // snapshots/ is the truth; an ingest killed after writing its record but before indexing it
    // counts as complete, and a record deleted by hand disappears from the index.
    std::vector<Snapshot> indexed = index_->snapshots();
    for (const auto& object : objects_->list(format::kSnapshotDir)) {
        auto id = snapshot_id_from_name(object.name);
        if (!id) continue;
        bool known = false;
        for (const auto& s : indexed) known = known || s.id == *id;
        if (known) continue;
        try {
            index_->put_snapshot({*id, load_snapshot_record(*id)});
        } catch (const StoreError& e) {
            if (e.kind() != StoreError::Kind::Corruption) throw;  // damaged: verify reports it
        }
    }
    for (const auto& s : indexed) {
        if (!objects_->exists(snapshot_object_name(s.id))) index_->remove_snapshot(s.id);
    }
}

BlobId Repository::save_snapshot(const SnapshotRecord& rec) {
    if (auto marker = marker_.lock();
        marker && marker->seconds_since_written() > writer_expiry_seconds() / 2.0)
        throw StoreError(StoreError::Kind::Io,
                         "this writer could not renew " + marker->name() + " in " + location_ +
                             " for " +
                             std::to_string(static_cast<long>(marker->seconds_since_written())) +
                             " s, so a prune on another host may have deleted data it relies on; "
                             "the snapshot was not saved. Run the command again");
    Bytes record = encode_snapshot(rec);
    auto sealed = codec_->seal_object(crypto::ObjectKind::SnapshotRecord, record);
    const BlobId id = sealed.id;
    publish_index_object(CarriedRecord{id, std::move(record)});
    objects_->put(snapshot_object_name(id), sealed.stored);
    crash_point("snapshot-file-written");
    if (index_is_cache_) keep_packs_in_use(rec);
    index_->put_snapshot({id, rec});
    return id;
}

void Repository::add_written_pack(const BlobId& pack_id, std::uint64_t size,
                                  const std::vector<PackEntry>& entries) {
    index_->add_pack(pack_id, size, entries);
    if (!index_is_cache_) return;
    bool full;
    {
        std::lock_guard lock(unpublished_mu_);
        unpublished_.push_back({pack_id, size, entries});
        unpublished_blobs_ += entries.size();
        full = unpublished_.size() >= kIndexObjectPacks || unpublished_blobs_ >= kIndexObjectBlobs;
    }
    if (full) publish_index_object();
}

void Repository::publish_index_object(std::optional<CarriedRecord> record) {
    IndexObject object;
    {
        std::lock_guard lock(unpublished_mu_);
        object.packs.swap(unpublished_);
        unpublished_blobs_ = 0;
    }
    // A record alone is not worth an object: a fresh host fetches it from snapshots/.
    if (object.packs.empty()) return;
    if (record) object.records.push_back(std::move(*record));
    // After the packs it names are durable (add_written_pack comes after the upload), before any
    // snapshot that uses them: a reader never finds an index object naming a pack not yet there.
    const auto sealed =
        codec_->seal_object(crypto::ObjectKind::IndexObject, encode_index_object(object));
    const BlobId id = sealed.id;
    objects_->put(index_object_name(id), sealed.stored);
    crash_point("index-object-written");
    index_->note_index_objects({id}, {});
}

void Repository::keep_packs_in_use(const SnapshotRecord& rec) {
    // Deletion records this writer's cache did not know when it took the lock: a prune on
    // another host planned without this snapshot and may have retired packs it uses. The
    // prune waits for this writer's marker before deleting anything of those records.
    std::vector<DeletionRecord> fresh;
    for (auto& r : load_deletion_records(*objects_))
        if (!r.packs.empty() && std::find(known_deletions_.begin(), known_deletions_.end(),
                                          r.name) == known_deletions_.end())
            fresh.push_back(std::move(r));
    if (fresh.empty()) return;
    std::unordered_set<std::uint32_t> seqs;
    std::unordered_set<BlobId, BlobIdHash> seen;
    auto note = [&](const BlobId& blob) {
        if (auto loc = index_->find(blob)) seqs.insert(loc->pack);
    };
    std::vector<BlobId> stack{rec.root};
    while (!stack.empty()) {
        BlobId tree = stack.back();
        stack.pop_back();
        if (!seen.insert(tree).second) continue;
        note(tree);
        for (const auto& e : load_tree(tree)) {
            if (e.type == EntryType::Dir) stack.push_back(e.subtree);
            for (const auto& c : e.chunks)
                if (seen.insert(c.id).second) note(c.id);
        }
    }
    std::unordered_set<BlobId, BlobIdHash> used;
    for (const auto& p : index_->packs())
        if (seqs.count(p.seq)) used.insert(p.id);
    for (const auto& r : fresh) {
        std::vector<BlobId> kept;
        for (const auto& p : r.packs)
            if (used.count(p.pack)) kept.push_back(p.pack);
        record_kept(*objects_, r.name, kept);
        crash_point("snapshot-packs-kept");
    }
}

}  // namespace strata
