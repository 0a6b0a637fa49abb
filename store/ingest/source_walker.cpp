#include "store/ingest/source_walker.h"

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

// Entries of a directory handed to the read-ahead ahead of the one the walker is on: enough to
// keep its threads busy, few enough that what it warms is still cached when the walker arrives.
constexpr std::size_t kReadAheadWindow = 32;
constexpr auto kProgressInterval = std::chrono::milliseconds(200);
// Bytes of a tree blob before its first entry: magic, version and the entry count's varint.
constexpr std::size_t kTreeHeaderRoom = 16;
constexpr const char* kCacheDirSignature = "Signature: 8a477f597d28d172789f06886806bc55";

EntryType type_of(mode_t m) {
    if (S_ISREG(m)) return EntryType::File;
    if (S_ISDIR(m)) return EntryType::Dir;
    if (S_ISLNK(m)) return EntryType::Symlink;
    if (S_ISFIFO(m)) return EntryType::Fifo;
    if (S_ISSOCK(m)) return EntryType::Socket;
    if (S_ISCHR(m)) return EntryType::CharDev;
    return EntryType::BlockDev;
}

}  // namespace

std::string errstr(int e) { return std::strerror(e); }

std::string base_name(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto pos = p.rfind('/');
    return pos == std::string::npos ? p : p.substr(pos + 1);
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

std::optional<TreeEntry> Walker::top(const std::string& path, const std::string& rel,
                                     const TreeEntry* parent) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) throw_io("cannot read " + path, errno);
    root_dev_ = st.st_dev;
    depth_ = rel.empty() ? 0 : 1;  // a path under a made-up root is itself at level 1
    UniqueFd dirfd(::open(parent_dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirfd.get() < 0) throw_io("cannot open the directory holding " + path, errno);
    return entry(dirfd.get(), base_name(path), path, rel, parent, &st);
}

void Walker::report(bool force) {
    auto now = Clock::now();
    if (!opts_.on_progress || (!force && now - last_report_ < kProgressInterval)) return;
    last_report_ = now;
    progress.elapsed_seconds = std::chrono::duration<double>(now - started_).count();
    opts_.on_progress(progress);
}

BlobId Walker::store_tree(const std::vector<TreeEntry>& entries) {
    return writer_.put(encode_tree(entries), format::BlobType::Tree);
}

std::string Walker::parent_dir_of(const std::string& p) {
    std::string s = p;
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    auto pos = s.rfind('/');
    if (pos == std::string::npos) return ".";
    return pos == 0 ? "/" : s.substr(0, pos);
}

void Walker::stop_if_exhausted(int e, const std::string& path) {
    if (e == EMFILE || e == ENFILE || e == ENOMEM)
        throw_io(
            "ingest stopped at " + path + " (raise the limit, e.g. `ulimit -n`, and run it again)",
            e);
}

void Walker::warn(const std::string& path, const std::string& reason) {
    IngestWarning w{path, reason};
    if (opts_.on_warning) opts_.on_warning(w);
    warnings.push_back(std::move(w));
}

const std::string& Walker::user_name(uid_t uid) {
    auto it = users_.find(uid);
    if (it != users_.end()) return it->second;
    return users_[uid] = owner_user_name(uid);
}

const std::string& Walker::group_name(gid_t gid) {
    auto it = groups_.find(gid);
    if (it != groups_.end()) return it->second;
    return groups_[gid] = owner_group_name(gid);
}

std::optional<TreeEntry> Walker::entry(int dirfd, const std::string& name, const std::string& path,
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

std::vector<Xattr> Walker::opath_xattrs(int dirfd, const std::string& name) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return {};
    return read_xattrs(fd.get(), true);
}

bool Walker::directory(int dirfd, TreeEntry& e, const std::string& path, const std::string& rel,
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
    UniqueFd fd(::openat(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
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

BlobId Walker::store_dir_tree(std::vector<TreeEntry>& children, const std::string& path) {
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

void Walker::hand_ahead(int dirfd, dev_t dev, const std::string& name, const std::string& dir_path,
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

bool Walker::is_cache_dir(int dirfd) {
    UniqueFd fd(::openat(dirfd, "CACHEDIR.TAG", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) return false;
    char buf[43];
    return ::read(fd.get(), buf, sizeof buf) == 43 && std::memcmp(buf, kCacheDirSignature, 43) == 0;
}

std::vector<std::string> Walker::list_dir(int fd, const std::string& path) {
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

}  // namespace strata
