// Restore: recreate a snapshot (or a path inside it) in a local directory, with content, holes,
// hard links and all recorded metadata. Works through directory file descriptors, so paths of any
// length work and no tree entry can make it write outside the target (names are validated when
// trees are decoded, and every create is relative to a descriptor of the target tree).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/repo/reader.h"

namespace strata {

struct RestoreOptions {
    std::string subpath;     // restore only this path of the snapshot ("" = all)
    bool overwrite = false;  // replace existing files instead of refusing
    // Set ownership (uid/gid) as recorded. Defaults to true when running as root.
    bool owners;
    std::function<void(const std::string& path, const std::string& reason)> on_warning;
    RestoreOptions();
};

struct RestoreStats {
    std::uint64_t files = 0, dirs = 0, other = 0, bytes = 0, warnings = 0;
};

// Restores into `target`, which must be absent or an empty directory unless opts.overwrite.
// Throws Usage for a non-empty target, NotFound for a missing subpath, Corruption for damaged
// repository data; metadata that cannot be applied (xattrs, ownership) becomes a warning.
RestoreStats restore(RepositoryReader& repo, const Snapshot& snap, const std::string& target,
                     const RestoreOptions& opts);

}  // namespace strata
