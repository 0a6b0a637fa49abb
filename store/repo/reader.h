// The narrow read interface of a repository: everything the FUSE filesystem and restore need, and
// nothing that writes. fs/ depends on this header (and the value types it names) only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/base/bytes.h"
#include "store/base/hash.h"
#include "store/format/snapshot.h"
#include "store/format/tree.h"

namespace strata {

// What a repository occupies and how much room is left where it lives (df through the mount).
struct SpaceUsage {
    std::uint64_t stored_bytes = 0;  // every pack, as indexed
    // Free space and inodes on the file system that holds the repository (0 when unknown).
    std::uint64_t free_bytes = 0, free_files = 0;
};

class RepositoryReader {
  public:
    virtual ~RepositoryReader() = default;

    // Every snapshot, oldest first. Reflects ingests and forgets made after opening.
    virtual std::vector<Snapshot> snapshots() = 0;
    // Changes whenever the set of snapshots changes; cheap enough to poll every second.
    virtual std::uint64_t snapshot_generation() = 0;
    // Loads and decodes a tree blob, checking its hash. Throws NotFound or Corruption.
    virtual std::vector<TreeEntry> load_tree(const BlobId& id) = 0;
    // Loads a data blob, checking its hash: never returns bytes other than the ones stored.
    virtual Bytes load_data(const BlobId& id) = 0;
    // Why reading may go wrong while a writer runs (the index is read without LMDB's reader
    // table, for want of write access to it), or "" when readers and writers are safe together.
    virtual std::string concurrent_writer_caveat() { return ""; }
    // What the repository occupies and the room left beside it. Reads the index's pack table
    // (one entry per pack), so callers asking often should keep the answer for a while.
    virtual SpaceUsage space_usage() { return {}; }
    // A repository in an object store, shared by several hosts: brings this host's cache up to
    // date with what the others wrote since (new snapshots and packs, what a prune removed), as
    // every command does when it opens the repository; a few LISTs when nothing changed. Returns
    // whether it changed anything. Skips (false) while another process of this host holds the
    // cache's lock: that process brings the cache up to date. Nothing for a local repository,
    // whose index every writer updates.
    virtual bool refresh_from_store() { return false; }
};

// Opens the repository at `location` (a directory, or s3:http[s]://host[:port]/bucket[/prefix])
// for reading only. Never takes the writer lock; a remote repository's index cache is brought up
// to date first (store/repo/index_cache.h).
std::unique_ptr<RepositoryReader> open_repository_reader(const std::string& location);

// Whether `location` names a directory on this machine (a path, relative ones included), not a
// remote repository.
bool is_local_location(const std::string& location);

// Finds a snapshot by its full id, a unique prefix of at least 4 hex digits, or "latest".
// Throws NotFound for no match and Usage for an ambiguous or malformed name.
const Snapshot& resolve_snapshot(const std::vector<Snapshot>& all, const std::string& name);

// The snapshot's root directory as an entry (name "", type Dir, subtree = root, its metadata).
TreeEntry snapshot_root_entry(const Snapshot& s);

// Follows `path` ('/'-separated, relative to the root; "" or "/" is the root itself) from the
// snapshot's root. Throws NotFound naming the first missing component.
TreeEntry find_path(RepositoryReader& repo, const Snapshot& s, const std::string& path);

}  // namespace strata
