// An independent record of a directory tree, to compare a source with its restored copy entry by
// entry. Walks with directory file descriptors (paths longer than PATH_MAX work), never opens
// FIFOs, sockets or devices, and never follows symlinks.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace strata::testing {

struct FsEntry {
    std::string path;  // relative to the scanned root, '/'-separated; "" is the root itself
    unsigned type = 0;  // S_IFMT bits
    unsigned mode = 0;  // permission bits, 07777
    unsigned uid = 0, gid = 0;
    std::int64_t size = 0;
    std::int64_t mtime_sec = 0;
    long mtime_nsec = 0;
    std::uint64_t rdev = 0;
    std::uint64_t nlink = 0;
    std::uint64_t dev = 0, ino = 0;
    std::int64_t blocks = 0;  // st_blocks (512-byte units)
    std::string target;       // symlinks
    std::map<std::string, std::string> xattrs;  // every namespace (read as the caller: root sees trusted.)
    std::string sha256;  // regular files: hex digest of the content
    // Regular files: the data extents [start, end) that SEEK_DATA/SEEK_HOLE report.
    std::vector<std::pair<std::int64_t, std::int64_t>> extents;

    bool sparse() const { return blocks * 512 < size; }
};

using TreeScan = std::map<std::string, FsEntry>;

// Scans `root` (a directory) recursively. Throws std::runtime_error naming the path on failure.
TreeScan scan_tree(const std::string& root);

struct CompareOptions {
    bool owners = true;         // uid/gid
    bool root_metadata = true;  // compare the roots' own mode, owner, mtime and xattrs
    std::set<std::string> skip_paths;  // entries (and everything below them) left out
};

// Every difference between `expected` and `actual`, one readable line each: missing or extra
// entries, type, mode, owner, size, mtime (ns), content, symlink target, device numbers, xattrs
// (ACLs included), data extents (holes), st_blocks of sparse files, and hard-link grouping.
std::vector<std::string> compare_trees(const TreeScan& expected, const TreeScan& actual,
                                       const CompareOptions& opts = {});

// A path with non-printable bytes escaped, for messages.
std::string printable_path(const std::string& p);

// Convenience for assertions: all differences joined, or "" when the trees match.
std::string tree_differences(const std::string& expected_root, const std::string& actual_root,
                             const CompareOptions& opts = {});

}  // namespace strata::testing
