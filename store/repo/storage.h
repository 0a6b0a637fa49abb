// What a Repository is opened from: where its objects live, where its index is kept, and its
// writer lock. A repository on local disk is one such spec (local_storage); a remote one is
// another, with the same Repository on top.
#pragma once

#include <memory>
#include <string>

#include "store/backend/object_store.h"
#include "store/backend/writer_lock.h"

namespace strata {

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
};

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
