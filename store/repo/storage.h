// What a Repository is opened from: where its objects live, where its index is kept, and its
// writer lock. A repository on local disk is one such spec (local_storage); a remote one is
// another, with the same Repository on top.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/backend/object_store.h"
#include "store/backend/writer_lock.h"

namespace strata {

struct RepoConfig;  // store/repo/repository.h

struct RepositoryStorage {
    // Names the repository in messages ("repository /srv/backup is locked by ..."); a local
    // repository's path. Objects are named in messages as location + "/" + object name.
    std::string location;
    // The config, packs and snapshot records.
    std::unique_ptr<ObjectStore> objects;
    // A local directory holding the LMDB index (<repo>/index for a local repository; a cache
    // directory for a remote one). The index is rebuildable from the objects.
    std::string index_dir;
    // The writer lock.
    std::unique_ptr<WriterLockProvider> locks;
    // A directory on the file system that holds the objects, for the free space a mount reports;
    // empty when the objects are not on a local file system.
    std::string free_space_dir;
    // The index is this host's cache of what the objects hold (a remote repository): any open
    // brings it up to date with the objects first (building it when absent or damaged), under
    // the lock of `locks`, which then guards the cache, not the repository.
    bool index_is_cache = false;
    // Where this host keeps copies of the repository's trees (store/repo/blob_file_cache.h); "" for
    // none (a local repository reads its packs as fast).
    std::string tree_cache_dir;
    // Where this host keeps copies of data chunks it read, and how many bytes of them at most
    // (StorageOptions::chunk_cache_bytes); "" for none.
    std::string chunk_cache_dir;
    std::uint64_t chunk_cache_bytes = 0;
    // Bytes a remote pack is read in at once (store/repo/pack_windows.h); 0 for the default.
    std::size_t pack_window_bytes = 0;
    // The config, when the spec's builder had to read it already (s3_storage: the repository's id
    // names its cache folder); null: Repository::open reads it through `objects`.
    std::shared_ptr<const RepoConfig> config;
};

// How this process opens repository locations: the command line's --cache-dir, --cacert and
// --s3-virtual-host, the mount options cache_dir=, cacert=, s3_virtual_host.
struct StorageOptions {
    // Where remote repositories keep their index cache, one folder per repository id; "" for
    // the default ($XDG_CACHE_HOME/strata, else ~/.cache/strata; /var/cache/strata for root).
    std::string cache_dir;
    std::string ca_file;  // a PEM file of CA certificates to trust for https (else the system's)
    bool s3_virtual_host = false;
    // Remote repositories: keep up to this many bytes of the data chunks read in
    // <cache>/<repository id>/chunks/ (the mount does: its disk_cache_size); 0 for none.
    std::uint64_t chunk_cache_bytes = 0;
    // Remote repositories: bytes of a pack read at once, the blob asked for and what follows it
    // (store/repo/pack_windows.h); 0 for kPackWindowBytes. The mount reads smaller windows, more
    // of them at once.
    std::size_t pack_window_bytes = 0;
    // Hears each retry of a request that failed for a passing reason (the store answered 503, a
    // connection was refused or cut), so the user learns why a command waits. May be empty.
    std::function<void(const std::string& message)> on_retry;
    // Hears warnings the user must see (a snapshot gone without a forget: rollback_check.h).
    // May be empty.
    std::function<void(const std::string& message)> on_warning;
    // Gives the password of an encrypted repository when one is opened (asked once per open);
    // empty: such a repository cannot be opened (Password).
    std::function<std::string(const std::string& location)> password;
};
// Set once, before repositories are opened (the command line does, after parsing); every
// Repository::open(location) uses them.
void set_storage_options(StorageOptions options);
const StorageOptions& storage_options();
// The cache folder of remote repositories that `options` selects.
std::string cache_root(const StorageOptions& options);

// The spec of the repository at `location`: "s3:http[s]://host[:port]/bucket[/prefix]" for an
// S3 bucket (s3_storage), anything else a local directory (local_storage).
RepositoryStorage open_storage(const std::string& location);

// The objects of the repository at `location` alone, and its name in messages: no config read,
// no cache or lock opened, for what needs no key (verify --without-password). The same checks
// of the location, and errors, as open_storage.
struct RepositoryObjects {
    std::string location;
    std::unique_ptr<ObjectStore> objects;
};
RepositoryObjects open_repository_objects(const std::string& location);
RepositoryObjects s3_objects(const std::string& location, const StorageOptions& options);

// The spec of the S3 repository at `location` (store/backend/s3/s3_location.h). Reads its config
// to learn its id, which names its cache folder <cache_root>/<id>/ (the index in index/, the
// lock in locks/writer, uploads spooled there). Credentials as every S3 tool finds them
// (store/backend/s3/aws_credentials.h). Throws Usage for a malformed location or missing
// credentials, NotFound for a bucket or prefix that holds no repository.
RepositoryStorage s3_storage(const std::string& location, const StorageOptions& options);

// For `strata init`: the objects at `location`, which must hold no repository yet. An S3 bucket
// that does not exist is created.
std::unique_ptr<ObjectStore> objects_for_init(const std::string& location);

// The spec of the repository in the local directory `path`: its objects in `path` (through
// `objects` instead when given: tests wrap the local store to inject faults), the index in
// <path>/index, the lock on <path>/locks/writer. Checks the directory first, with messages for the
// user: absent (NotFound), a file or not a directory (Format), not searchable (Io, EACCES).
RepositoryStorage local_storage(const std::string& path,
                                std::unique_ptr<ObjectStore> objects = nullptr);

// Why `what` of the repository at `location` could not be read (`err`): for EACCES and EPERM,
// "permission denied on <what>" with what to do about it; else Io "cannot read <what>".
[[noreturn]] void throw_repository_unreadable(const std::string& location, const std::string& what,
                                              int err);

}  // namespace strata
