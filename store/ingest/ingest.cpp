#include "store/ingest/ingest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>

#include "store/base/crash_point.h"
#include "store/base/deep_stack.h"
#include "store/base/host_name.h"
#include "store/base/unique_fd.h"
#include "store/format/chunker.h"
#include "store/ingest/blob_writer.h"
#include "store/ingest/exclude.h"
#include "store/ingest/recovery.h"
#include "store/ingest/snapshot_fields.h"
#include "store/ingest/source_read_ahead.h"
#include "store/ingest/source_walker.h"
#include "store/ingest/walk_hook.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

// `p` made absolute (from the current directory) and lexically normal: no ".", ".." or repeated
// slashes, no trailing slash, as restic records it; so `.` and `../b` name what they mean, in the
// record and in the snapshot's root.
std::string absolute_path(const std::string& p) {
    std::string a = p;
    if (a.empty() || a[0] != '/') {
        char cwd[4096];
        if (!::getcwd(cwd, sizeof cwd)) throw_io("getcwd", errno);
        a = std::string(cwd) + "/" + p;
    }
    a = std::filesystem::path(a).lexically_normal().string();
    while (a.size() > 1 && a.back() == '/') a.pop_back();
    return a;
}

// `path` itself, or, when it is a symlink, what it resolves to (every link followed).
std::string followed_top_path(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf)) {
        const int err = errno;
        if (err == ENOENT)
            throw_not_found("cannot back up " + path +
                            ": it is a symlink to something that does "
                            "not exist");
        throw_io("cannot back up " + path + ": cannot follow the symlink", err);
    }
    return buf;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

}  // namespace

namespace {

IngestResult ingest_here(Repository& repo, const IngestOptions& in) {
    IngestOptions opts = in;
    if (opts.paths.empty()) throw_usage("ingest needs at least one PATH to back up");
    std::vector<std::string> abs;
    std::map<std::string, std::string> by_base;
    for (const auto& p : opts.paths) {
        if (p.empty()) throw_usage("an empty PATH was given");
        std::string a = absolute_path(p);
        while (a.size() > 1 && a.back() == '/') a.pop_back();
        struct stat st;
        if (::lstat(a.c_str(), &st) != 0) {
            if (errno == ENOENT) throw_not_found("cannot back up " + a + ": it does not exist");
            throw_io("cannot back up " + a, errno);
        }
        std::string b = base_name(a);
        if (opts.paths.size() > 1 && !valid_entry_name(b))
            throw_usage(
                "/ cannot be ingested together with other paths (each path appears under its "
                "base name); ingest it on its own");
        if (opts.paths.size() > 1 && by_base.count(b))
            throw_usage("paths " + by_base[b] + " and " + a + " have the same base name \"" + b +
                        "\" and would collide in the snapshot; ingest them separately");
        by_base[b] = a;
        abs.push_back(a);
    }
    if (opts.host.empty()) opts.host = host_name();
    for (const auto& f : opts.exclude_files) {
        if (::access(f.c_str(), R_OK) != 0)
            throw StoreError(StoreError::Kind::Usage,
                             "cannot read exclude file " + f + ": " + errstr(errno));
    }

    auto lock = repo.lock_for_writing("ingest", opts.lock_wait_seconds);
    adopt_unindexed_packs(repo);  // packs a killed writer made durable but did not index
    const auto started_wall = std::chrono::system_clock::now();
    const auto started = Clock::now();

    // The parent: the newest snapshot of the same host and the same set of paths.
    std::optional<Snapshot> parent;
    auto sorted_paths = sorted(abs);
    for (const auto& s : repo.snapshots())
        if (s.rec.host == opts.host && sorted(s.rec.paths) == sorted_paths) parent = s;

    unsigned threads =
        opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
    BlobWriter writer(repo, threads);
    Walker walker(repo, opts, writer);
    if (parent) walker.progress.expected_bytes = parent->rec.bytes;

    std::optional<TreeEntry> parent_root;
    if (parent) parent_root = snapshot_root_entry(*parent);

    BlobId root;
    // The root of a snapshot of several paths (or of one file) is a directory strata makes up.
    TreeEntry root_meta;
    root_meta.type = EntryType::Dir;
    root_meta.mode = 0755;
    root_meta.uid = ::geteuid();
    root_meta.gid = ::getegid();
    root_meta.nlink = 2;
    {
        auto now = started_wall.time_since_epoch();
        root_meta.mtime_sec = std::chrono::duration_cast<std::chrono::seconds>(now).count();
        root_meta.mtime_nsec = static_cast<std::uint32_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1000000000);
    }
    if (abs.size() == 1) {
        // One PATH that is a symlink is followed, as `tar -h` does for what it is given (only
        // there: symlinks below it are stored as symlinks). The snapshot records the PATH given.
        const std::string source = followed_top_path(abs[0]);
        struct stat st;
        ::lstat(source.c_str(), &st);
        if (S_ISDIR(st.st_mode)) {
            auto e = walker.top(source, "", parent_root ? &*parent_root : nullptr);
            if (!e) throw StoreError(StoreError::Kind::Io, "cannot read " + abs[0]);
            root = e->subtree;
            root_meta = std::move(*e);
            root_meta.name.clear();
        } else {
            const TreeEntry* prev = nullptr;
            std::vector<TreeEntry> parent_entries;
            if (parent) {
                try {
                    parent_entries = repo.load_tree(parent->rec.root);
                } catch (const StoreError&) {
                }
                for (auto& pe : parent_entries)
                    if (pe.name == base_name(abs[0])) prev = &pe;
            }
            std::vector<TreeEntry> entries;
            if (auto e = walker.top(source, base_name(abs[0]), prev)) {
                e->name = base_name(abs[0]);  // the target's content under the name given
                entries.push_back(std::move(*e));
            }
            root = walker.store_tree(entries);
        }
    } else {
        std::vector<TreeEntry> parent_entries;
        if (parent) {
            try {
                parent_entries = repo.load_tree(parent->rec.root);
            } catch (const StoreError&) {
            }
        }
        std::vector<TreeEntry> entries;
        for (const auto& [b, a] : by_base) {  // map order: sorted by base name
            const TreeEntry* prev = nullptr;
            for (auto& pe : parent_entries)
                if (pe.name == b) prev = &pe;
            if (auto e = walker.top(a, b, prev)) entries.push_back(std::move(*e));
        }
        root = walker.store_tree(entries);
    }
    writer.flush();
    crash_point("before-snapshot");

    SnapshotRecord rec = start_record(opts, abs, started_wall);
    if (parent) rec.parent = parent->id;
    rec.root = root;
    root_meta.subtree = root;
    rec.root_meta = root_meta;
    rec.files = walker.progress.files;
    rec.dirs = walker.progress.dirs;
    rec.bytes = walker.progress.bytes;
    rec.bytes_added = writer.bytes_added();
    rec.blobs_added = writer.blobs_added();
    rec.duration_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count());
    rec.partial = !walker.warnings.empty();
    BlobId id = repo.save_snapshot(rec);
    walker.report(true);
    return {{id, rec}, std::move(walker.warnings), walker.progress.bytes_read};
}

}  // namespace

// The walk recurses once per directory level: it runs on a stack sized for the deepest tree.
IngestResult ingest(Repository& repo, const IngestOptions& in) {
    return run_with_deep_stack([&] { return ingest_here(repo, in); });
}

}  // namespace strata
