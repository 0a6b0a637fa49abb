#include "tests/testlib/tree_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace strata::testing {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw std::runtime_error("scan_tree: " + what + " " + printable_path(path) + ": " +
                             std::strerror(errno));
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

std::string hex(const unsigned char* p, std::size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

std::string sha256_of_fd(int fd, const std::string& path) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 20);
    for (off_t pos = 0;;) {
        ssize_t n = ::pread(fd, buf.data(), buf.size(), pos);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("read", path);
        }
        if (n == 0) break;
        pos += n;
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    return hex(md, len);
}

std::vector<std::pair<std::int64_t, std::int64_t>> extents_of_fd(int fd, std::int64_t size) {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    off_t pos = 0;
    while (pos < size) {
        off_t data = ::lseek(fd, pos, SEEK_DATA);
        if (data < 0) break;  // ENXIO: only a hole remains
        off_t hole = ::lseek(fd, data, SEEK_HOLE);
        if (hole < 0) hole = size;
        out.emplace_back(data, hole);
        pos = hole;
    }
    return out;
}

// Extended attributes of `name` in the current directory (the scanner fchdir()s into each
// directory so that names, not long paths, reach the l*xattr calls).
std::map<std::string, std::string> xattrs_of(const char* name, const std::string& path) {
    std::map<std::string, std::string> out;
    ssize_t n = ::llistxattr(name, nullptr, 0);
    if (n < 0) {
        if (errno == ENOTSUP) return out;
        fail("llistxattr", path);
    }
    std::string names(static_cast<std::size_t>(n), '\0');
    n = ::llistxattr(name, names.data(), names.size());
    if (n < 0) fail("llistxattr", path);
    names.resize(static_cast<std::size_t>(n));
    for (std::size_t pos = 0; pos < names.size();) {
        std::string key = names.c_str() + pos;
        pos += key.size() + 1;
        if (key.empty()) continue;
        ssize_t vn = ::lgetxattr(name, key.c_str(), nullptr, 0);
        if (vn < 0) fail("lgetxattr " + key, path);
        std::string value(static_cast<std::size_t>(vn), '\0');
        vn = ::lgetxattr(name, key.c_str(), value.data(), value.size());
        if (vn < 0) fail("lgetxattr " + key, path);
        value.resize(static_cast<std::size_t>(vn));
        out[key] = value;
    }
    return out;
}

class Scanner {
public:
    TreeScan result;

    // `dirfd`/`name` is the entry; `path` its relative path. For the root, name is "." in `dirfd`.
    void entry(int dirfd, const char* name, const std::string& path) {
        struct stat st;
        if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) fail("stat", path);
        FsEntry e;
        e.path = path;
        e.type = st.st_mode & S_IFMT;
        e.mode = st.st_mode & 07777;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        e.size = st.st_size;
        e.mtime_sec = st.st_mtim.tv_sec;
        e.mtime_nsec = st.st_mtim.tv_nsec;
        e.rdev = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? st.st_rdev : 0;
        e.nlink = st.st_nlink;
        e.dev = st.st_dev;
        e.ino = st.st_ino;
        e.blocks = st.st_blocks;
        if (::fchdir(dirfd) != 0) fail("fchdir to the directory holding", path);
        e.xattrs = xattrs_of(name, path);
        if (S_ISLNK(st.st_mode)) {
            std::string t(static_cast<std::size_t>(st.st_size) + 1, '\0');
            ssize_t n = ::readlinkat(dirfd, name, t.data(), t.size());
            if (n < 0) fail("readlink", path);
            t.resize(static_cast<std::size_t>(n));
            e.target = t;
        } else if (S_ISREG(st.st_mode)) {
            Fd fd(::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (fd.get() < 0) fail("open", path);
            e.extents = extents_of_fd(fd.get(), st.st_size);
            e.sha256 = sha256_of_fd(fd.get(), path);
        }
        result[path] = e;
        if (S_ISDIR(st.st_mode)) {
            Fd fd(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (fd.get() < 0) fail("open directory", path);
            for (const auto& child : list(fd.get(), path))
                entry(fd.get(), child.c_str(), path.empty() ? child : path + "/" + child);
        }
    }

private:
    static std::vector<std::string> list(int fd, const std::string& path) {
        int dup = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup < 0) fail("reopen directory", path);
        DIR* d = ::fdopendir(dup);
        if (!d) {
            ::close(dup);
            fail("fdopendir", path);
        }
        std::vector<std::string> names;
        while (dirent* de = ::readdir(d))
            if (std::strcmp(de->d_name, ".") && std::strcmp(de->d_name, "..")) names.emplace_back(de->d_name);
        ::closedir(d);
        std::sort(names.begin(), names.end());
        return names;
    }
};

const char* type_name(unsigned t) {
    switch (t) {
        case S_IFREG: return "file";
        case S_IFDIR: return "dir";
        case S_IFLNK: return "symlink";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "socket";
        case S_IFCHR: return "chardev";
        case S_IFBLK: return "blockdev";
    }
    return "unknown";
}

std::string octal(unsigned v) {
    std::ostringstream s;
    s << "0" << std::oct << v;
    return s.str();
}

std::string escape_value(const std::string& v) {
    std::string s = printable_path(v);
    return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

bool skipped(const std::string& path, const CompareOptions& opts) {
    for (const auto& p : opts.skip_paths)
        if (path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/'))
            return true;
    return false;
}

// For each regular file, the sorted names of every file in the same tree sharing its inode.
std::map<std::string, std::vector<std::string>> link_groups(const TreeScan& t, const CompareOptions& opts) {
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<std::string>> by_inode;
    for (const auto& [path, e] : t)
        if (e.type == S_IFREG && !skipped(path, opts)) by_inode[{e.dev, e.ino}].push_back(path);
    std::map<std::string, std::vector<std::string>> out;
    for (auto& [key, paths] : by_inode) {
        std::sort(paths.begin(), paths.end());
        for (const auto& p : paths) out[p] = paths;
    }
    return out;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + printable_path(x);
    return "{" + s + "}";
}

}  // namespace

std::string printable_path(const std::string& p) {
    std::string out;
    for (unsigned char c : p) {
        if (c == '\\') out += "\\\\";
        else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else out += static_cast<char>(c);
    }
    return out.size() > 300 ? out.substr(0, 150) + "…(" + std::to_string(p.size()) + " bytes)…" +
                                  out.substr(out.size() - 100)
                            : out;
}

TreeScan scan_tree(const std::string& root) {
    Fd cwd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    Fd top(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (top.get() < 0) fail("open", root);
    Scanner s;
    try {
        s.entry(top.get(), ".", "");
    } catch (...) {
        if (cwd.get() >= 0 && ::fchdir(cwd.get()) != 0) {
        }
        throw;
    }
    if (cwd.get() >= 0 && ::fchdir(cwd.get()) != 0) fail("return to the working directory", ".");
    return std::move(s.result);
}

std::vector<std::string> compare_trees(const TreeScan& expected, const TreeScan& actual,
                                       const CompareOptions& opts) {
    std::vector<std::string> diffs;
    for (const auto& [path, e] : expected) {
        if (skipped(path, opts)) continue;
        const std::string where = path.empty() ? "<root>" : printable_path(path);
        auto it = actual.find(path);
        if (it == actual.end()) {
            diffs.push_back(where + ": missing (" + type_name(e.type) + ")");
            continue;
        }
        const FsEntry& a = it->second;
        auto differ = [&](const std::string& what, const std::string& want, const std::string& got) {
            diffs.push_back(where + ": " + what + " is " + got + ", expected " + want);
        };
        if (e.type != a.type) {
            differ("type", type_name(e.type), type_name(a.type));
            continue;
        }
        const bool meta = !path.empty() || opts.root_metadata;
        if (meta && e.mode != a.mode) differ("mode", octal(e.mode), octal(a.mode));
        if (meta && opts.owners && (e.uid != a.uid || e.gid != a.gid))
            differ("owner", std::to_string(e.uid) + ":" + std::to_string(e.gid),
                   std::to_string(a.uid) + ":" + std::to_string(a.gid));
        if (meta && (e.mtime_sec != a.mtime_sec || e.mtime_nsec != a.mtime_nsec))
            differ("mtime", std::to_string(e.mtime_sec) + "." + std::to_string(e.mtime_nsec),
                   std::to_string(a.mtime_sec) + "." + std::to_string(a.mtime_nsec));
        if (meta && e.xattrs != a.xattrs) {
            for (const auto& [k, v] : e.xattrs) {
                auto x = a.xattrs.find(k);
                if (x == a.xattrs.end()) diffs.push_back(where + ": xattr " + k + " missing");
                else if (x->second != v)
                    differ("xattr " + k, escape_value(v), escape_value(x->second));
            }
            for (const auto& [k, v] : a.xattrs)
                if (!e.xattrs.count(k)) diffs.push_back(where + ": unexpected xattr " + k);
        }
        if (e.type == S_IFREG) {
            if (e.size != a.size) differ("size", std::to_string(e.size), std::to_string(a.size));
            if (e.sha256 != a.sha256) differ("content (sha256)", e.sha256, a.sha256);
            if (e.extents != a.extents) {
                auto fmt = [](const FsEntry& f) {
                    std::string s;
                    for (const auto& [b, x] : f.extents) s += "[" + std::to_string(b) + "," + std::to_string(x) + ")";
                    return s.empty() ? std::string("none") : s;
                };
                differ("data extents (holes)", fmt(e), fmt(a));
            }
            if (e.sparse() && e.blocks != a.blocks)
                differ("st_blocks of a sparse file", std::to_string(e.blocks), std::to_string(a.blocks));
            if (e.nlink != a.nlink) differ("link count", std::to_string(e.nlink), std::to_string(a.nlink));
        }
        if (e.type == S_IFLNK && e.target != a.target)
            differ("symlink target", printable_path(e.target), printable_path(a.target));
        if ((e.type == S_IFCHR || e.type == S_IFBLK) && e.rdev != a.rdev)
            differ("device number", std::to_string(e.rdev), std::to_string(a.rdev));
    }
    for (const auto& [path, a] : actual)
        if (!skipped(path, opts) && !expected.count(path))
            diffs.push_back(printable_path(path) + ": unexpected entry (" + type_name(a.type) + ")");
    auto eg = link_groups(expected, opts), ag = link_groups(actual, opts);
    for (const auto& [path, group] : eg) {
        auto it = ag.find(path);
        if (it != ag.end() && it->second != group)
            diffs.push_back(printable_path(path) + ": hard links " + join(it->second) + ", expected " +
                            join(group));
    }
    return diffs;
}

std::string tree_differences(const std::string& expected_root, const std::string& actual_root,
                             const CompareOptions& opts) {
    auto diffs = compare_trees(scan_tree(expected_root), scan_tree(actual_root), opts);
    std::string s;
    for (std::size_t i = 0; i < diffs.size() && i < 50; ++i) s += diffs[i] + "\n";
    if (diffs.size() > 50) s += "... and " + std::to_string(diffs.size() - 50) + " more\n";
    return s;
}

}  // namespace strata::testing
