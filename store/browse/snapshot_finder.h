// Which snapshots hold a file: entries whose path or base name matches a glob, across many
// snapshots, grouped into versions (one path with one content and metadata). Snapshots share most
// of their subtrees, so what a subtree holds that matches is worked out once per subtree id and
// path and reused by every snapshot that has it: a walk of N snapshots that differ a little loads
// each distinct tree once. `strata find` prints what it collects.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/base/hash.h"
#include "store/repo/reader.h"

namespace strata {

// Why `pattern` is not a glob strata can match ("" if it is one): empty, a trailing '/', a lone
// trailing backslash, a '[' never closed. Patterns are fnmatch(3)'s: * ? [...] and \ escapes.
std::string glob_pattern_error(const std::string& pattern);

// How a pattern is matched: one holding '/' matches the whole path relative to the snapshot
// root ('*' and '?' do not match '/'; a leading '/' is ignored), any other the base name.
class GlobMatcher {
  public:
    // `pattern` must be valid (glob_pattern_error).
    explicit GlobMatcher(const std::string& pattern);
    bool matches(const std::string& path, const std::string& name) const;
    // Whether anything below the directory at `dir_path` ("" for the root) may match. A whole-path
    // pattern of N components matches paths of N components only, whose first ones its first
    // ones match; patterns holding '[' or '\\' (where a '/' may not separate components) are
    // pruned by depth only.
    bool may_match_below(const std::string& dir_path) const;

  private:
    std::string pattern_;
    bool whole_path_;
    std::size_t components_ = 0;         // of a whole-path pattern
    std::vector<std::string> prefixes_;  // its first 1, 2, ... components, if split reliably
};

class SnapshotFinder {
  public:
    // One path with one content and metadata (type, mode, owner, size, mtime, xattrs, chunks,
    // symlink target, device numbers; a directory by its metadata, not what it holds), and the
    // snapshots that hold it, as the numbers given to add(), in the order added.
    struct Version {
        std::string path;
        TreeEntry entry;
        std::vector<std::size_t> snapshots;
    };

    SnapshotFinder(RepositoryReader& repo, const GlobMatcher& matcher)
        : repo_(repo), matcher_(matcher) {}

    // Adds snapshot number `snapshot`: the entry `start` at `path` ("" for the root, which is
    // never a match itself) and, if it is a directory, everything below it. Recurses once per
    // directory level (deeper than format::kMaxTreeDepth is Corruption): run it on a deep stack
    // (store/base/deep_stack.h). Throws what load_tree throws.
    void add(std::size_t snapshot, const TreeEntry& start, const std::string& path);

    // Every version found, in the order first found.
    const std::vector<Version>& versions() const { return versions_; }
    // How many trees were loaded so far (each distinct subtree and path once).
    std::uint64_t trees_loaded() const { return trees_loaded_; }

  private:
    // What one subtree at one path contributes: its own entries that match and, as nodes, its
    // subdirectories that hold matches. Node 0 is the subtree with no match, shared by all.
    struct Node {
        std::vector<std::uint32_t> versions, children;
    };

    std::uint32_t node_for(const BlobId& tree, const std::string& path, std::size_t depth);
    std::uint32_t version_of(const std::string& path, const TreeEntry& e);
    void collect(std::size_t snapshot, std::uint32_t node);

    RepositoryReader& repo_;
    const GlobMatcher& matcher_;
    std::vector<Version> versions_;
    std::vector<Node> nodes_{Node{}};
    std::unordered_map<std::string, std::uint32_t> node_of_;         // path NUL tree id
    std::unordered_map<BlobId, std::uint32_t, BlobIdHash> version_;  // sha256 of path and entry
    std::uint64_t trees_loaded_ = 0;
};

}  // namespace strata
