#include "store/base/directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "store/base/errors.h"
#include "store/base/unique_fd.h"

namespace strata {

std::optional<bool> directory_is_empty(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return std::nullopt;
    bool empty = true;
    while (dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) {
            empty = false;
            break;
        }
    }
    ::closedir(d);
    return empty;
}

namespace {

// Empties the directory open as `dir` (named `path` in messages), depth first.
void empty_directory(int dir, const std::string& path) {
    const int fd = ::dup(dir);
    if (fd < 0) throw_io("remove " + path, errno);
    DIR* d = ::fdopendir(fd);
    if (!d) {
        const int err = errno;
        ::close(fd);
        throw_io("remove " + path, err);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.push_back(e->d_name);
    ::closedir(d);
    for (const auto& name : names) {
        const std::string child = path + "/" + name;
        struct stat st;
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;
            throw_io("remove " + child, errno);
        }
        if (S_ISDIR(st.st_mode)) {
            if ((st.st_mode & 0700) != 0700) ::fchmodat(dir, name.c_str(), st.st_mode | 0700, 0);
            UniqueFd sub(
                ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (sub.get() < 0) throw_io("remove " + child, errno);
            empty_directory(sub.get(), child);
            if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
                throw_io("remove " + child, errno);
        } else if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT) {
            throw_io("remove " + child, errno);
        }
    }
}

}  // namespace

void remove_tree(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw_io("remove " + path, errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_io("remove " + path, errno);
        return;
    }
    if ((st.st_mode & 0700) != 0700) ::chmod(path.c_str(), st.st_mode | 0700);
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) throw_io("remove " + path, errno);
    empty_directory(dir.get(), path);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) throw_io("remove " + path, errno);
}

}  // namespace strata
