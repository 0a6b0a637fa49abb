// Test-only: named points in the ingest Walker where an in-process test may change the source tree
// mid-walk (delete, truncate or grow a file, swap an entry for a symlink or a FIFO, make a
// directory unreadable), so that races which real users hit by chance are reproduced exactly.
// Unset (the default, and always in the strata binary) a point costs one load and a branch.
//
// Points and the path (absolute, as the Walker names it in warnings) they are called with:
//   "before-open"     a regular file was lstat'ed and is about to be opened for reading
//   "after-read"      one read of a regular file's content returned data (called per read)
//   "before-opendir"  a directory was lstat'ed and is about to be opened
//   "before-readlink" a symlink was lstat'ed and its target is about to be read
// The hook runs on the ingest thread; it must not call into the repository being written.
//
// The strata binary's form, for end-to-end tests: STRATA_TEST_STOP_AT="<point>:<path>" makes the
// process stop itself (SIGSTOP, as Ctrl-Z would) when it reaches <point> for <path>; the test
// changes the tree while it is stopped and resumes it with SIGCONT. Read once, at the first point.
#pragma once

#include <signal.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

namespace strata {

using WalkHook = std::function<void(const char* point, const std::string& path)>;

// The installed hook; tests assign it before an ingest and reset it after (see WalkHookScope).
inline WalkHook& walk_hook() {
    static WalkHook hook;
    return hook;
}

// "<point>:<path>" from STRATA_TEST_STOP_AT, or "" when it is not set.
inline const std::string& walk_stop_at() {
    static const std::string at = [] {
        const char* v = std::getenv("STRATA_TEST_STOP_AT");
        return std::string(v ? v : "");
    }();
    return at;
}

inline void walk_point(const char* point, const std::string& path) {
    if (auto& hook = walk_hook()) {
        hook(point, path);
    } else if (const std::string& at = walk_stop_at(); !at.empty()) {
        const std::string here = std::string(point) + ":" + path;
        if (here == at) ::raise(SIGSTOP);
    }
}

// The largest tree the Walker writes for one directory, so a test can reach the cut made for a
// directory too large for one tree without making millions of entries. 0: the format's limit.
inline std::uint32_t& walk_tree_size_limit() {
    static std::uint32_t limit = 0;
    return limit;
}

// Installs `hook` for the lifetime of the object.
class WalkHookScope {
  public:
    explicit WalkHookScope(WalkHook hook) { walk_hook() = std::move(hook); }
    ~WalkHookScope() { walk_hook() = nullptr; }
    WalkHookScope(const WalkHookScope&) = delete;
    WalkHookScope& operator=(const WalkHookScope&) = delete;
};

}  // namespace strata
