#include "store/ingest/ingest.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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
#include "store/base/unique_fd.h"
#include "store/format/chunker.h"
#include "store/ingest/blob_writer.h"
#include "store/ingest/exclude.h"
#include "store/ingest/recovery.h"
#include "store/ingest/source_read_ahead.h"
#include "store/ingest/walk_hook.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes read from a file at a time; a few maximum-size chunks so the chunker rarely waits.
constexpr std::size_t kReadBlock = 8u << 20;
// Read past the size fstat gave in steps this large, to find the end of a file that grew.
constexpr std::size_t kGrowthProbe = 64u << 10;
// Read at most this far past the size fstat gave when a file was opened: room for files whose size
// is unknown in advance (procfs reports 0), bounded so a file written faster than it is read
// cannot keep an ingest going forever.
constexpr std::uint64_t kGrowthLimit = 16u << 20;
// Entries of a directory handed to the read-ahead ahead of the one the walker is on: enough to
// keep its threads busy, few enough that what it warms is still cached when the walker arrives.
constexpr std::size_t kReadAheadWindow = 32;
constexpr auto kProgressInterval = std::chrono::milliseconds(200);
// Bytes of a tree blob before its first entry: magic, version and the entry count's varint.
constexpr std::size_t kTreeHeaderRoom = 16;
constexpr const char* kCacheDirSignature = "Signature: 8a477f597d28d172789f06886806bc55";

std::string errstr(int e) { return std::strerror(e); }

std::string base_name(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto pos = p.rfind('/');
    return pos == std::string::npos ? p : p.substr(pos + 1);
}

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

EntryType type_of(mode_t m) {
    if (S_ISREG(m)) return EntryType::File;
    if (S_ISDIR(m)) return EntryType::Dir;
    if (S_ISLNK(m)) return EntryType::Symlink;
    if (S_ISFIFO(m)) return EntryType::Fifo;
    if (S_ISSOCK(m)) return EntryType::Socket;
    if (S_ISCHR(m)) return EntryType::CharDev;
    return EntryType::BlockDev;
}

// Reads every extended attribute of the object `fd` refers to. For O_PATH descriptors (symlinks,
// devices) the kernel's /proc/self/fd link reaches the object itself without following it.
std::vector<Xattr> read_xattrs(int fd, bool is_opath) {
    std::vector<Xattr> out;
    std::string proc = "/proc/self/fd/" + std::to_string(fd);
    auto list = [&](char* buf, std::size_t n) {
        return is_opath ? ::listxattr(proc.c_str(), buf, n) : ::flistxattr(fd, buf, n);
    };
    auto get = [&](const char* name, void* buf, std::size_t n) {
        return is_opath ? ::getxattr(proc.c_str(), name, buf, n) : ::fgetxattr(fd, name, buf, n);
    };
    ssize_t n = list(nullptr, 0);
    if (n <= 0) return out;
    std::string names(static_cast<std::size_t>(n), '\0');
    n = list(names.data(), names.size());
    if (n <= 0) return out;
    names.resize(static_cast<std::size_t>(n));
    for (std::size_t pos = 0; pos < names.size();) {
        std::string name = names.c_str() + pos;
        pos += name.size() + 1;
        if (name.empty()) continue;
        ssize_t vn = get(name.c_str(), nullptr, 0);
        if (vn < 0) continue;
        std::string value(static_cast<std::size_t>(vn), '\0');
        vn = get(name.c_str(), value.data(), value.size());
        if (vn < 0) continue;
        value.resize(static_cast<std::size_t>(vn));
        out.push_back({name, value});
    }
    std::sort(out.begin(), out.end(),
              [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
    return out;
}

class Walker {
  public:
    Walker(Repository& repo, const IngestOptions& opts, BlobWriter& writer)
        : repo_(repo), opts_(opts), writer_(writer), chunker_(repo.config().chunker) {
        for (const auto& p : opts.excludes) excludes_.add(p);
        for (const auto& f : opts.exclude_files) excludes_.add_file(f);
        started_ = Clock::now();
    }

    // Ingests the directory or file at the absolute `path`; `rel` is its path in the snapshot.
    // Returns the entry (for a directory, with its subtree stored). nullopt if it was excluded or
    // could not be read (a warning has been recorded).
    std::optional<TreeEntry> top(const std::string& path, const std::string& rel,
                                 const TreeEntry* parent) {
        struct stat st;
        if (::lstat(path.c_str(), &st) != 0) throw_io("cannot read " + path, errno);
        root_dev_ = st.st_dev;
        depth_ = rel.empty() ? 0 : 1;  // a path under a made-up root is itself at level 1
        UniqueFd dirfd(::open(parent_dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dirfd.get() < 0) throw_io("cannot open the directory holding " + path, errno);
        return entry(dirfd.get(), base_name(path), path, rel, parent, &st);
    }

    IngestProgress progress;
    std::vector<IngestWarning> warnings;

    void report(bool force) {
        auto now = Clock::now();
        if (!opts_.on_progress || (!force && now - last_report_ < kProgressInterval)) return;
        last_report_ = now;
        progress.elapsed_seconds = std::chrono::duration<double>(now - started_).count();
        opts_.on_progress(progress);
    }

    BlobId store_tree(const std::vector<TreeEntry>& entries) {
        return writer_.put(encode_tree(entries), format::BlobType::Tree);
    }

  private:
    static std::string parent_dir_of(const std::string& p) {
        std::string s = p;
        while (s.size() > 1 && s.back() == '/') s.pop_back();
        auto pos = s.rfind('/');
        if (pos == std::string::npos) return ".";
        return pos == 0 ? "/" : s.substr(0, pos);
    }

    // Out of descriptors or memory is this process's problem, not the file's: stop the ingest
    // (no snapshot) instead of recording a nearly empty one as partial.
    static void stop_if_exhausted(int e, const std::string& path) {
        if (e == EMFILE || e == ENFILE || e == ENOMEM)
            throw_io("ingest stopped at " + path +
                         " (raise the limit, e.g. `ulimit -n`, and run it again)",
                     e);
    }

    void warn(const std::string& path, const std::string& reason) {
        IngestWarning w{path, reason};
        if (opts_.on_warning) opts_.on_warning(w);
        warnings.push_back(std::move(w));
    }

    const std::string& user_name(uid_t uid) {
        auto it = users_.find(uid);
        if (it != users_.end()) return it->second;
        std::string name;
        struct passwd pw, *res = nullptr;
        char buf[4096];
        if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) name = pw.pw_name;
        return users_[uid] = name;
    }
    const std::string& group_name(gid_t gid) {
        auto it = groups_.find(gid);
        if (it != groups_.end()) return it->second;
        std::string name;
        struct group gr, *res = nullptr;
        char buf[4096];
        if (::getgrgid_r(gid, &gr, buf, sizeof buf, &res) == 0 && res) name = gr.gr_name;
        return groups_[gid] = name;
    }

    // One directory entry `name` of the directory `dirfd`. `st` may be given (already lstat'ed).
    std::optional<TreeEntry> entry(int dirfd, const std::string& name, const std::string& path,
                                   const std::string& rel, const TreeEntry* parent,
                                   const struct stat* given) {
        struct stat st;
        if (given)
            st = *given;
        else if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            stop_if_exhausted(errno, path);
            warn(path, errno == ENOENT ? "vanished before it could be read" : errstr(errno));
            return std::nullopt;
        }
        const bool is_dir = S_ISDIR(st.st_mode);
        if (!rel.empty() && excludes_.excluded(rel, path, is_dir)) return std::nullopt;

        TreeEntry e;
        e.name = name;
        e.type = type_of(st.st_mode);
        e.mode = st.st_mode & 07777;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        e.user = user_name(st.st_uid);
        e.group = group_name(st.st_gid);
        e.mtime_sec = st.st_mtim.tv_sec;
        e.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
        e.ctime_sec = st.st_ctim.tv_sec;
        e.ctime_nsec = static_cast<std::uint32_t>(st.st_ctim.tv_nsec);
        e.inode = st.st_ino;
        e.device = st.st_dev;
        e.nlink = static_cast<std::uint32_t>(st.st_nlink);
        e.size = e.type == EntryType::File || e.type == EntryType::Symlink
                     ? static_cast<std::uint64_t>(st.st_size)
                     : 0;
        if (e.type == EntryType::CharDev || e.type == EntryType::BlockDev) e.rdev = st.st_rdev;

        switch (e.type) {
            case EntryType::Dir:
                if (!directory(dirfd, e, path, rel, parent, st)) return std::nullopt;
                progress.dirs++;
                break;
            case EntryType::File:
                if (!file(dirfd, e, path, parent, st)) return std::nullopt;
                progress.files++;
                progress.bytes += e.size;
                break;
            case EntryType::Symlink: {
                walk_point("before-readlink", path);
                std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
                for (;;) {
                    ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
                    if (n < 0) {
                        stop_if_exhausted(errno, path);
                        warn(path, "cannot read symlink: " + errstr(errno));
                        return std::nullopt;
                    }
                    if (static_cast<std::size_t>(n) < target.size()) {
                        target.resize(static_cast<std::size_t>(n));
                        break;
                    }
                    target.resize(target.size() * 2);
                }
                e.target = target;
                e.size = target.size();
                e.xattrs = opath_xattrs(dirfd, name);
                break;
            }
            default:  // FIFOs, sockets and devices are recorded, never opened for reading
                e.xattrs = opath_xattrs(dirfd, name);
                break;
        }
        return e;
    }

    std::vector<Xattr> opath_xattrs(int dirfd, const std::string& name) {
        UniqueFd fd(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() < 0) return {};
        return read_xattrs(fd.get(), true);
    }

    bool directory(int dirfd, TreeEntry& e, const std::string& path, const std::string& rel,
                   const TreeEntry* parent, const struct stat& st) {
        // depth_ is the level of this directory's contents (the snapshot root's are level 1).
        if (depth_ + 1 > format::kMaxTreeDepth) {
            warn(path, "nested deeper than " + std::to_string(format::kMaxTreeDepth) +
                           " directories below the snapshot's root: not saved");
            return false;
        }
        ++depth_;
        struct Leave {
            std::size_t& depth;
            ~Leave() { --depth; }
        } leave{depth_};
        walk_point("before-opendir", path);
        UniqueFd fd(
            ::openat(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() < 0) {
            stop_if_exhausted(errno, path);
            warn(path, "cannot open directory: " + errstr(errno));
            return false;
        }
        struct stat now;
        if (::fstat(fd.get(), &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
            warn(path, "was replaced while being read");
            return false;
        }
        e.xattrs = read_xattrs(fd.get(), false);
        std::vector<TreeEntry> children;
        const bool other_fs = opts_.one_file_system && st.st_dev != root_dev_;
        if (!other_fs && !(opts_.exclude_caches && is_cache_dir(fd.get()))) {
            std::vector<TreeEntry> parent_entries;
            if (parent && parent->type == EntryType::Dir && !opts_.force_reread) {
                try {
                    parent_entries = repo_.load_tree(parent->subtree);
                } catch (const StoreError&) {
                    // A damaged parent only costs re-reading; verify reports the damage.
                }
            }
            const std::vector<std::string> names = list_dir(fd.get(), path);
            std::vector<const TreeEntry*> prevs(names.size(), nullptr);
            for (std::size_t i = 0; i < names.size(); ++i) {
                prevs[i] = find_entry(parent_entries, names[i]);
            }
            // Declared after `fd`, so destroyed before it: no read-ahead thread uses a closed fd.
            SourceReadAheadScope ahead(read_ahead_, fd.get());
            const bool warmed = read_ahead_.take_warmed(st.st_dev, st.st_ino);
            std::size_t handed = 0;
            for (std::size_t i = 0; i < names.size(); ++i) {
                if (handed < names.size() && handed <= i + kReadAheadWindow / 2) {  // in batches
                    for (; handed < names.size() && handed <= i + kReadAheadWindow; ++handed)
                        hand_ahead(fd.get(), st.st_dev, names[handed], path, rel, prevs[handed],
                                   warmed);
                    read_ahead_.start();
                }
                const std::string& name = names[i];
                auto child = entry(fd.get(), name, path + "/" + name,
                                   rel.empty() ? name : rel + "/" + name, prevs[i], nullptr);
                if (child) children.push_back(std::move(*child));
                report(false);
            }
        }
        e.subtree = store_dir_tree(children, path);
        return true;
    }

    // A directory's tree. A listing larger than a tree may be (format::kMaxTreeBlobSize) would
    // make an unreadable blob: it is cut to the entries, in name order, that fit, and the cut
    // reported.
    BlobId store_dir_tree(std::vector<TreeEntry>& children, const std::string& path) {
        Bytes tree = encode_tree(children);
        const std::size_t limit =
            walk_tree_size_limit() ? walk_tree_size_limit() : format::kMaxTreeBlobSize;
        if (tree.size() > limit) {
            const std::size_t total = children.size();
            std::size_t keep = 0, size = kTreeHeaderRoom;
            for (; keep < total; ++keep) {
                Encoder one;
                encode_entry(one, children[keep]);
                size += one.size();
                if (size > limit) break;
            }
            children.resize(keep);
            tree = encode_tree(children);
            const std::string most = limit % (1u << 20) == 0 ? std::to_string(limit >> 20) + " MiB"
                                                             : std::to_string(limit) + " bytes";
            warn(path, "its " + std::to_string(total) + " entries need more than the " + most +
                           " one directory may take in a snapshot; stored the first " +
                           std::to_string(keep) + " by name (split it, or exclude part of it)");
        }
        return writer_.put(std::move(tree), format::BlobType::Tree);
    }

    // Tells the read-ahead about an entry the walker will visit soon; see
    // store/ingest/source_read_ahead.h. Excluded entries are not handed over, nor anything on
    // another file system than `dev`, nor files the parent records in a directory the read-ahead
    // has `warmed` already: stat'ing them was all it would do (the walker reads the few that
    // changed itself).
    void hand_ahead(int dirfd, dev_t dev, const std::string& name, const std::string& dir_path,
                    const std::string& dir_rel, const TreeEntry* prev, bool warmed) {
        if (!read_ahead_.enabled()) return;
        if (warmed && prev && prev->type == EntryType::File && !opts_.force_reread) return;
        if (!excludes_.empty()) {
            const std::string rel = dir_rel.empty() ? name : dir_rel + "/" + name;
            const std::string path = dir_path + "/" + name;
            if (excludes_.excluded(rel, path, false) || excludes_.excluded(rel, path, true)) return;
        }
        std::optional<FileStamp> stamp;
        if (prev && prev->type == EntryType::File && !opts_.force_reread)
            stamp = FileStamp{prev->size,      prev->inode,      prev->mtime_sec,
                              prev->ctime_sec, prev->mtime_nsec, prev->ctime_nsec};
        const bool new_subtree = !prev || prev->type != EntryType::Dir || opts_.force_reread;
        read_ahead_.add(dirfd, dev, name, stamp, new_subtree);
    }

    // Calls SourceReadAhead::finish for a directory descriptor when the walker leaves the
    // directory, also by an exception.
    class SourceReadAheadScope {
      public:
        SourceReadAheadScope(SourceReadAhead& ra, int dirfd) : ra_(ra), dirfd_(dirfd) {}
        ~SourceReadAheadScope() { ra_.finish(dirfd_); }
        SourceReadAheadScope(const SourceReadAheadScope&) = delete;
        SourceReadAheadScope& operator=(const SourceReadAheadScope&) = delete;

      private:
        SourceReadAhead& ra_;
        int dirfd_;
    };

    bool is_cache_dir(int dirfd) {
        UniqueFd fd(::openat(dirfd, "CACHEDIR.TAG", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() < 0) return false;
        char buf[43];
        return ::read(fd.get(), buf, sizeof buf) == 43 &&
               std::memcmp(buf, kCacheDirSignature, 43) == 0;
    }

    std::vector<std::string> list_dir(int fd, const std::string& path) {
        std::vector<std::string> names;
        int dup = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
        if (!d) {
            if (dup >= 0) ::close(dup);
            stop_if_exhausted(errno, path);
            warn(path, "cannot list directory: " + errstr(errno));
            return names;
        }
        errno = 0;
        while (dirent* de = ::readdir(d)) {
            if (std::strcmp(de->d_name, ".") && std::strcmp(de->d_name, ".."))
                names.emplace_back(de->d_name);
            errno = 0;
        }
        stop_if_exhausted(errno, path);
        if (errno) warn(path, "listing stopped early: " + errstr(errno));
        ::closedir(d);
        std::sort(names.begin(), names.end());
        return names;
    }

    static bool unchanged(const TreeEntry& prev, const TreeEntry& now) {
        return prev.type == EntryType::File && prev.size == now.size &&
               prev.mtime_sec == now.mtime_sec && prev.mtime_nsec == now.mtime_nsec &&
               prev.ctime_sec == now.ctime_sec && prev.ctime_nsec == now.ctime_nsec &&
               prev.inode == now.inode;
    }

    bool file(int dirfd, TreeEntry& e, const std::string& path, const TreeEntry* parent,
              const struct stat& st) {
        std::pair<std::uint64_t, std::uint64_t> key{st.st_dev, st.st_ino};
        if (st.st_nlink > 1) {
            auto it = links_.find(key);
            if (it != links_.end()) {  // a further name of a file already stored
                e.link_group = it->second.group;
                e.chunks = it->second.chunks;
                e.size = it->second.size;
                e.xattrs = it->second.xattrs;
                return true;
            }
        }
        if (parent && unchanged(*parent, e) && !opts_.force_reread) {
            // Setting or removing an extended attribute changes the ctime, which unchanged()
            // compares: the parent's xattrs are still current, and the file is not even opened.
            e.chunks = parent->chunks;
            e.xattrs = parent->xattrs;
        } else if (!read_file(dirfd, e, path, st)) {
            return false;
        }
        if (st.st_nlink > 1) {
            e.link_group = ++link_groups_;
            links_[key] = {e.link_group, e.chunks, e.size, e.xattrs};
        }
        return true;
    }

    bool read_file(int dirfd, TreeEntry& e, const std::string& path, const struct stat& st) {
        walk_point("before-open", path);
        int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
        int raw = ::openat(dirfd, e.name.c_str(), flags | O_NOATIME);
        if (raw < 0 && errno == EPERM) raw = ::openat(dirfd, e.name.c_str(), flags);
        UniqueFd fd(raw);
        if (fd.get() < 0) {
            stop_if_exhausted(errno, path);
            warn(path, errno == ENOENT ? "vanished before it could be read"
                                       : "cannot open: " + errstr(errno));
            return false;
        }
        struct stat before;
        if (::fstat(fd.get(), &before) != 0 || !S_ISREG(before.st_mode) ||
            before.st_ino != st.st_ino) {
            warn(path, "was replaced while being read");
            return false;
        }
        e.xattrs = read_xattrs(fd.get(), false);
        progress.current = path;
        std::uint64_t end = 0;
        const bool maybe_sparse = static_cast<std::uint64_t>(before.st_blocks) * 512 <
                                  static_cast<std::uint64_t>(before.st_size);
        bool ok = true;
        growth_cut_ = false;
        if (maybe_sparse) {
            off_t off = 0;
            for (;;) {
                off_t data = ::lseek(fd.get(), off, SEEK_DATA);
                if (data < 0) break;  // ENXIO: only a hole remains
                if (static_cast<std::uint64_t>(data) >=
                    static_cast<std::uint64_t>(before.st_size) + kGrowthLimit) {
                    growth_cut_ = true;
                    break;
                }
                off_t hole = ::lseek(fd.get(), data, SEEK_HOLE);
                if (hole < 0) hole = before.st_size;
                ok = read_extent(fd.get(), e, path, static_cast<std::uint64_t>(data),
                                 static_cast<std::uint64_t>(hole), end);
                if (!ok || hole <= data) break;
                off = hole;
            }
        } else {
            ok = read_extent(fd.get(), e, path, 0, UINT64_MAX, end,
                             static_cast<std::uint64_t>(before.st_size));
        }
        if (!ok) return false;
        struct stat after;
        if (::fstat(fd.get(), &after) != 0) after = before;
        e.size = maybe_sparse
                     ? std::max<std::uint64_t>(end, static_cast<std::uint64_t>(after.st_size))
                     : end;
        if (growth_cut_) {
            e.size = end;
            warn(path, "kept growing while being read; stored its first " + std::to_string(end) +
                           " bytes");
        } else if (after.st_size != before.st_size ||
                   after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
                   after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || end > e.size) {
            warn(path, "changed while being read; the stored copy may mix old and new content");
        }
        // Keep the stored metadata consistent with the content we actually read.
        e.mtime_sec = before.st_mtim.tv_sec;
        e.mtime_nsec = static_cast<std::uint32_t>(before.st_mtim.tv_nsec);
        return true;
    }

    // Reads [from, to) (to = UINT64_MAX: until end of file), chunking as it goes. `end` becomes
    // the offset just past the last byte read.
    // `expected_end` is where fstat said the file ends: reads are sized to it (growing the buffer
    // zero-fills it, and 8 MiB of zeroes per small file cost more than reading it), then a small
    // probe finds the real end of a file that grew.
    bool read_extent(int fd, TreeEntry& e, const std::string& path, std::uint64_t from,
                     std::uint64_t to, std::uint64_t& end,
                     std::uint64_t expected_end = UINT64_MAX) {
        buf_.clear();
        std::uint64_t chunk_offset = from, pos = from;
        bool eof = false;
        while (true) {
            while (!eof && buf_.size() < kReadBlock + chunker_.params().max_size) {
                std::size_t want = std::min<std::uint64_t>(kReadBlock, to - pos);
                want = static_cast<std::size_t>(std::min<std::uint64_t>(
                    want, expected_end > pos ? expected_end - pos : kGrowthProbe));
                if (expected_end != UINT64_MAX && pos >= expected_end + kGrowthLimit) {
                    growth_cut_ = true;  // still growing: keep what was read, read_file warns
                    want = 0;
                }
                if (want == 0) {
                    eof = true;
                    break;
                }
                std::size_t old = buf_.size();
                buf_.resize(old + want);
                ssize_t n = ::pread(fd, buf_.data() + old, want, static_cast<off_t>(pos));
                if (n < 0) {
                    if (errno == EINTR) {
                        buf_.resize(old);
                        continue;
                    }
                    stop_if_exhausted(errno, path);
                    warn(path, "read failed at byte " + std::to_string(pos) + ": " + errstr(errno));
                    return false;
                }
                buf_.resize(old + static_cast<std::size_t>(n));
                pos += static_cast<std::uint64_t>(n);
                if (n == 0)
                    eof = true;
                else
                    walk_point("after-read", path);
            }
            std::size_t start = 0;
            while (start < buf_.size()) {
                ByteView rest(buf_.data() + start, buf_.size() - start);
                std::size_t len = chunker_.next_boundary(rest, eof);
                if (len == 0) break;
                Bytes chunk(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(len));
                BlobId id = writer_.put(std::move(chunk), format::BlobType::Data);
                e.chunks.push_back({chunk_offset, id, static_cast<std::uint32_t>(len)});
                chunk_offset += len;
                start += len;
            }
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(start));
            report(false);
            if (eof && buf_.empty()) break;
        }
        end = pos;
        return true;
    }

    struct LinkInfo {
        std::uint64_t group;
        std::vector<ChunkRef> chunks;
        std::uint64_t size;
        std::vector<Xattr> xattrs;
    };

    Repository& repo_;
    const IngestOptions& opts_;
    BlobWriter& writer_;
    Chunker chunker_;
    SourceReadAhead read_ahead_{true};
    ExcludeMatcher excludes_;
    Bytes buf_;
    bool growth_cut_ = false;  // the last read_file stopped at kGrowthLimit past the expected end
    dev_t root_dev_ = 0;
    std::size_t depth_ = 0;  // see directory()
    std::map<std::pair<std::uint64_t, std::uint64_t>, LinkInfo> links_;
    std::uint64_t link_groups_ = 0;
    std::unordered_map<uid_t, std::string> users_;
    std::unordered_map<gid_t, std::string> groups_;
    Clock::time_point started_, last_report_{};
};

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
    if (opts.host.empty()) {
        char h[256] = {};
        ::gethostname(h, sizeof h - 1);
        opts.host = h;
    }
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

    SnapshotRecord rec;
    auto since_epoch = started_wall.time_since_epoch();
    rec.time_sec = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    rec.time_nsec = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() % 1000000000);
    rec.host = opts.host;
    rec.paths = abs;
    rec.tags = sorted(opts.tags);
    rec.note = opts.note;
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
    return {{id, rec}, std::move(walker.warnings)};
}

}  // namespace

// The walk recurses once per directory level: it runs on a stack sized for the deepest tree.
IngestResult ingest(Repository& repo, const IngestOptions& in) {
    return run_with_deep_stack([&] { return ingest_here(repo, in); });
}

}  // namespace strata
