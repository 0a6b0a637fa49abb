// Exclusion patterns for ingest, gitignore-like:
//   name        a pattern without '/' matches an entry's name at any depth
//   a/b, /a/b   a pattern with '/' is anchored: it matches the path relative to the snapshot root,
//               or, when it starts with '/', also the entry's absolute path on the source
//   dir/        a trailing '/' matches directories only
//   *, ?, [..]  within one path component; "**" matches any number of components
//   !pattern    re-includes what an earlier pattern excluded (the last matching pattern wins)
#pragma once

#include <string>
#include <vector>

namespace strata {

class ExcludeMatcher {
  public:
    void add(const std::string& pattern);  // blank lines and '#' comments are ignored
    // Reads patterns, one per line. Throws Io naming the file when it cannot be read.
    void add_file(const std::string& path);
    bool empty() const { return rules_.empty(); }
    // `rel` is relative to the snapshot root, `abs` the absolute source path.
    bool excluded(const std::string& rel, const std::string& abs, bool is_dir) const;

  private:
    struct Rule {
        std::vector<std::string> parts;
        bool anchored, dir_only, negate, absolute;
    };
    std::vector<Rule> rules_;
};

}  // namespace strata
