#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "store/backend/s3/s3_location.h"
#include "store/base/crash_point.h"
#include "store/base/utc_time.h"
#include "store/format/format.h"
#include "store/repo/repository.h"

// The writing side of Repository: creating one, the writer lock, and what only a writer does.
// Built into strata_store_write, which the mount does not link: it cannot take the lock or save.
namespace strata {
namespace {

void mkdir_p(const std::string& p, mode_t mode) {
    if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST) throw_io("create " + p, errno);
}

bool dir_is_empty(const std::string& p) {
    DIR* d = ::opendir(p.c_str());
    if (!d) return false;
    bool empty = true;
    while (dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) {
            empty = false;
            break;
        }
    }
    ::closedir(d);
    return empty;
}

}  // namespace

InitOptions default_init_options() {
    return {format::kDefaultZstdLevel,
            {format::kDefaultChunkMin, format::kDefaultChunkAvg, format::kDefaultChunkMax}};
}

namespace {

std::string config_text(const InitOptions& opts) {
    std::random_device rd;
    Bytes id(32);
    for (auto& b : id) b = static_cast<std::uint8_t>(rd());
    std::ostringstream c;
    c << "strata repository\n"
      << "version = " << format::kRepositoryVersion << "\n"
      << "id = " << to_hex(id) << "\n"
      << "chunker = gear-fastcdc-v1\n"
      << "chunk_min = " << opts.chunker.min_size << "\n"
      << "chunk_avg = " << opts.chunker.avg_size << "\n"
      << "chunk_max = " << opts.chunker.max_size << "\n"
      << "zstd_level = " << opts.zstd_level << "\n";
    return c.str();
}

void check_init_options(const InitOptions& opts) {
    if (opts.zstd_level < 1 || opts.zstd_level > 19) throw_usage("zstd level must be 1 to 19");
    Chunker check(opts.chunker);
    if (opts.chunker.max_size > format::kMaxBlobSize) throw_usage("chunk max above 64 MiB");
}

}  // namespace

void Repository::init(const std::string& path, const InitOptions& opts) {
    if (s3::is_s3_location(path)) {
        check_init_options(opts);
        // Folders are implied by names in a bucket; the index cache is made at the first open.
        objects_for_init(path)->put(format::kConfigFile, as_bytes(config_text(opts)));
        return;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            throw_usage(path +
                        (S_ISREG(st.st_mode) ? " is a file, not a directory"
                                             : " exists and is not a directory") +
                        "; choose a new or empty directory for the repository");
        if (!dir_is_empty(path))
            throw_usage(path + " is not empty; choose a new or empty directory for the repository");
    } else if (errno != ENOENT) {
        throw_io("stat " + path, errno);
    }
    check_init_options(opts);
    mkdir_p(path, 0700);
    for (const char* d :
         {format::kPackDir, format::kSnapshotDir, format::kLockDir, format::kTmpDir})
        mkdir_p(path + "/" + d, 0700);
    BlobIndex(path + "/" + format::kIndexDir, BlobIndex::Access::Create);
    // The config is written last: a repository without one is an interrupted init.
    open_local_store(path)->put(format::kConfigFile, as_bytes(config_text(opts)));
}

std::unique_ptr<WriterLock> Repository::lock_for_writing(const std::string& purpose,
                                                         double wait_seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
    std::unique_ptr<WriterLock> lock;
    while (!(lock = locks_->try_lock(purpose))) {
        if (std::chrono::steady_clock::now() >= deadline) {
            std::string who = "another process";
            if (auto h = locks_->holder()) {
                who = "pid " + std::to_string(h->pid) + " on " + h->host + " (" + h->purpose +
                      ", since " + utc_time_text(h->since) + ")";
            }
            throw StoreError(StoreError::Kind::Locked,
                             "repository " + location_ + " is locked by " + who +
                                 "; wait for it to finish, or pass --lock-wait SECONDS");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    objects_->discard_partial_writes();
    if (index_) {
        open_index_writable();  // readers open it read-only
        reconcile_snapshots();
    }
    return lock;
}

void Repository::compact_index(bool always) {
    auto lock = lock_for_writing("compact-index");
    index_->compact(always);
}

void Repository::open_index_writable() {
    index_.reset();  // LMDB forbids two environments on one file in a process
    try {
        index_ = std::make_unique<BlobIndex>(index_dir_, BlobIndex::Access::ReadWrite);
    } catch (const StoreError&) {
        // Leave a usable read-only index behind: the caller may go on without writing.
        index_ = std::make_unique<BlobIndex>(index_dir_, BlobIndex::Access::ReadOnly);
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
    Bytes data = encode_snapshot(rec);
    BlobId id = sha256(data);
    objects_->put(snapshot_object_name(id), data);
    crash_point("snapshot-file-written");
    index_->put_snapshot({id, rec});
    return id;
}

}  // namespace strata
