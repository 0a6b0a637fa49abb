#include "store/restore/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "store/base/deep_stack.h"
#include "store/base/unique_fd.h"
#include "store/format/format.h"

namespace strata {
namespace {

bool is_empty_dir(int fd) {
    int dup = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
    if (!d) return false;
    bool empty = true;
    while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) empty = false;
    ::closedir(d);
    return empty;
}

void write_all(int fd, const Bytes& b, std::uint64_t off, const std::string& path) {
    std::size_t done = 0;
    while (done < b.size()) {
        ssize_t n = ::pwrite(fd, b.data() + done, b.size() - done, static_cast<off_t>(off + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io("write " + path, errno);
        }
        done += static_cast<std::size_t>(n);
    }
}

class Restorer {
  public:
    Restorer(RepositoryReader& repo, const RestoreOptions& opts) : repo_(repo), opts_(opts) {}

    // Creates `e` as `name` inside `dirfd`. Directories recurse; their metadata is applied after
    // their contents, so their mtimes survive. `path` names `e` in messages; it is one buffer
    // shared by the whole walk (contents() appends and trims it), so a deep tree costs memory
    // linear in its depth, not quadratic.
    void entry(int dirfd, const TreeEntry& e, std::string& path) {
        if (!valid_entry_name(e.name)) throw_corruption(path + ": invalid name in tree");
        if (opts_.overwrite) remove_existing(dirfd, e);
        switch (e.type) {
            case EntryType::Dir: {
                if (::mkdirat(dirfd, e.name.c_str(), 0700) != 0 && errno != EEXIST)
                    throw_io("create directory " + path, errno);
                UniqueFd fd(::openat(dirfd, e.name.c_str(),
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (fd.get() < 0) throw_io("open directory " + path, errno);
                contents(fd.get(), e, path);
                metadata(fd.get(), dirfd, e, path);
                stats.dirs++;
                return;
            }
            case EntryType::File:
                file(dirfd, e, path);
                return;
            case EntryType::Symlink:
                if (::symlinkat(e.target.c_str(), dirfd, e.name.c_str()) != 0)
                    throw_io("create symlink " + path, errno);
                break;
            case EntryType::Fifo:
                if (::mkfifoat(dirfd, e.name.c_str(), 0600) != 0)
                    throw_io("create fifo " + path, errno);
                break;
            case EntryType::Socket:
            case EntryType::CharDev:
            case EntryType::BlockDev: {
                mode_t kind = e.type == EntryType::Socket    ? S_IFSOCK
                              : e.type == EntryType::CharDev ? S_IFCHR
                                                             : S_IFBLK;
                if (::mknodat(dirfd, e.name.c_str(), kind | 0600, static_cast<dev_t>(e.rdev)) !=
                    0) {
                    warn(path, std::string("cannot create special file: ") + std::strerror(errno));
                    return;
                }
                break;
            }
        }
        stats.other++;
        UniqueFd fd(::openat(dirfd, e.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() < 0) throw_io("open " + path, errno);
        metadata(fd.get(), dirfd, e, path, true);
    }

    void contents(int fd, const TreeEntry& dir, std::string& path) {
        if (++depth_ > format::kMaxTreeDepth)
            throw_corruption(path + ": directories nested deeper than " +
                             std::to_string(format::kMaxTreeDepth) +
                             " levels (damaged or crafted tree)");
        const std::size_t base = path.size();
        for (const auto& child : repo_.load_tree(dir.subtree)) {
            path.resize(base);
            path += '/';
            path += child.name;
            entry(fd, child, path);
        }
        path.resize(base);
        --depth_;
    }

    // Applies ownership, mode, xattrs and times. `fd` refers to the object itself; for symlinks
    // and special files it is an O_PATH descriptor and the name-based calls on `dirfd` are used.
    void metadata(int fd, int dirfd, const TreeEntry& e, const std::string& path,
                  bool opath = false) {
        const std::string proc = "/proc/self/fd/" + std::to_string(fd);
        if (opts_.owners) {
            int rc = opath ? ::fchownat(dirfd, e.name.c_str(), e.uid, e.gid, AT_SYMLINK_NOFOLLOW)
                           : ::fchown(fd, e.uid, e.gid);
            if (rc != 0) warn(path, std::string("cannot set owner: ") + std::strerror(errno));
        }
        for (const auto& x : e.xattrs) {
            int rc =
                opath ? ::lsetxattr(proc.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0)
                      : ::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0);
            if (rc != 0 && opath && errno == ENOTSUP)  // lsetxattr hit the proc link itself
                rc = ::setxattr(proc.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0);
            if (rc != 0) warn(path, "cannot set xattr " + x.name + ": " + std::strerror(errno));
        }
        // After chown (which clears setuid/setgid) and after ACLs (which set group bits).
        if (e.type != EntryType::Symlink) {
            int rc = opath ? ::fchmodat(dirfd, e.name.c_str(), e.mode, 0) : ::fchmod(fd, e.mode);
            if (rc != 0) warn(path, std::string("cannot set mode: ") + std::strerror(errno));
        }
        struct timespec ts[2];
        ts[0].tv_sec = e.mtime_sec;
        ts[0].tv_nsec = e.mtime_nsec;
        ts[1] = ts[0];
        int rc = opath ? ::utimensat(dirfd, e.name.c_str(), ts, AT_SYMLINK_NOFOLLOW)
                       : ::futimens(fd, ts);
        if (rc != 0) warn(path, std::string("cannot set times: ") + std::strerror(errno));
    }

    RestoreStats stats;

  private:
    void warn(const std::string& path, const std::string& why) {
        stats.warnings++;
        if (opts_.on_warning) opts_.on_warning(path, why);
    }

    void remove_existing(int dirfd, const TreeEntry& e) {
        struct stat st;
        if (::fstatat(dirfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
        if (S_ISDIR(st.st_mode)) {
            if (e.type == EntryType::Dir) return;  // merge into it
            throw_usage("cannot overwrite directory " + e.name + " with a non-directory");
        }
        ::unlinkat(dirfd, e.name.c_str(), 0);
    }

    void file(int dirfd, const TreeEntry& e, const std::string& path) {
        if (e.link_group) {
            auto it = links_.find(e.link_group);
            if (it != links_.end()) {
                if (::linkat(it->second.first, it->second.second.c_str(), dirfd, e.name.c_str(),
                             0) == 0) {
                    stats.files++;
                    return;
                }
                // Hard links across different restored roots can fail; fall back to a copy.
            }
        }
        UniqueFd fd(::openat(dirfd, e.name.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (fd.get() < 0) throw_io("create " + path, errno);
        for (const auto& c : e.chunks) {
            Bytes data = repo_.load_data(c.id);
            if (data.size() != c.size)
                throw_corruption(path + ": chunk " + c.id.short_hex() + " has the wrong size");
            write_all(fd.get(), data, c.offset, path);
            stats.bytes += data.size();
        }
        if (::ftruncate(fd.get(), static_cast<off_t>(e.size)) != 0)
            throw_io("set size of " + path, errno);
        metadata(fd.get(), dirfd, e, path);
        stats.files++;
        if (e.link_group) {
            // Keep a descriptor of the directory so later names can be linked to this one.
            int keep = ::openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (keep >= 0) {
                dir_fds_.emplace_back(keep);
                links_[e.link_group] = {keep, e.name};
            }
        }
    }

    RepositoryReader& repo_;
    const RestoreOptions& opts_;
    std::unordered_map<std::uint64_t, std::pair<int, std::string>> links_;
    std::vector<UniqueFd> dir_fds_;
    std::size_t depth_ = 0;
};

}  // namespace

RestoreOptions::RestoreOptions() : owners(::geteuid() == 0) {}

namespace {

RestoreStats restore_here(RepositoryReader& repo, const Snapshot& snap, const std::string& target,
                          const RestoreOptions& opts) {
    TreeEntry what = find_path(repo, snap, opts.subpath);
    if (::mkdir(target.c_str(), 0700) != 0 && errno != EEXIST) throw_io("create " + target, errno);
    UniqueFd root(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0) {
        if (errno == ENOTDIR) throw_usage(target + " exists and is not a directory");
        throw_io("open " + target, errno);
    }
    if (!opts.overwrite && !is_empty_dir(root.get()))
        throw_usage(target +
                    " is not empty; restore into a new or empty directory, or pass --overwrite");
    Restorer r(repo, opts);
    if (what.type == EntryType::Dir) {
        // The directory's contents go into target; its own metadata is applied to target last.
        std::string path = target;
        r.contents(root.get(), what, path);
        r.metadata(root.get(), -1, what, target);
    } else {
        std::string path = target + "/" + what.name;
        r.entry(root.get(), what, path);
    }
    return r.stats;
}

}  // namespace

// The walk recurses once per directory level: it runs on a stack sized for the deepest tree.
RestoreStats restore(RepositoryReader& repo, const Snapshot& snap, const std::string& target,
                     const RestoreOptions& opts) {
    return run_with_deep_stack([&] { return restore_here(repo, snap, target, opts); });
}

}  // namespace strata
