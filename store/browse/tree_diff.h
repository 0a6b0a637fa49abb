// What changed between two snapshots (or two directories of them): a merge walk of two trees that
// descends only into subtrees whose ids differ, so an unchanged directory costs nothing however
// large it is. `strata diff` prints what it reports.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/repo/reader.h"

namespace strata {

enum class ChangeKind {
    Added,     // only in `after`
    Removed,   // only in `before`
    Modified,  // content: a file's chunks or size, a symlink's target, a device's numbers
    Metadata,  // only mode, owner, mtime, xattrs or link count
    Type,      // a file became a directory, a symlink a file, ...
};

// Which attributes of an entry present on both sides differ (a bit set).
enum ChangedField : std::uint32_t {
    kContentChanged = 1u << 0,
    kModeChanged = 1u << 1,
    kOwnerChanged = 1u << 2,  // uid, gid or the names recorded
    kMtimeChanged = 1u << 3,
    kXattrsChanged = 1u << 4,
    kLinksChanged = 1u << 5,  // nlink of a non-directory (a hard link added or removed)
};

struct TreeChange {
    ChangeKind kind;
    std::string path;  // relative to the snapshot root, '/'-separated; "" is the root
    // The entry on each side; only the side(s) present are meaningful (Added: after only).
    const TreeEntry* before = nullptr;
    const TreeEntry* after = nullptr;
    std::uint32_t fields = 0;  // ChangedField bits, for Modified and Metadata
    // Bytes of stored content (chunks, not holes) that appear on this change's after side and not
    // on its before side, and the reverse: an added file's data, a modified file's new chunks.
    std::uint64_t bytes_added = 0, bytes_removed = 0;
};

// Which fields differ between two entries of the same type (0: equal). Directories' content is
// their subtree, which the walk compares itself, so it is never part of the answer for them.
std::uint32_t changed_fields(const TreeEntry& before, const TreeEntry& after);

// Reports every difference between `before` and `after` (either may be null, not both) at `path`,
// depth first, in name order, a directory before what it holds: an added or removed directory is
// followed by all it holds (added or removed), an entry whose type changed by what its directory
// side held. Subtrees with equal ids are compared by metadata only and never loaded. `on_change`
// must not keep the pointers of a TreeChange beyond the call. Recurses once per directory level
// (format::kMaxTreeDepth at most; deeper is Corruption): run it on a deep stack
// (store/base/deep_stack.h). Throws what load_tree throws.
void diff_entries(RepositoryReader& repo, const TreeEntry* before, const TreeEntry* after,
                  const std::string& path, const std::function<void(const TreeChange&)>& on_change);

}  // namespace strata
