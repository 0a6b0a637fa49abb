#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "store/format/format.h"
#include "store/repo/repository.h"
#include "store/repo/storage.h"

namespace strata {

RepositoryStorage local_storage(const std::string& path, std::unique_ptr<ObjectStore> objects) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            throw_not_found("repository " + path + " does not exist; create it with `strata init " +
                            path + "`");
        throw_repository_unreadable(path, path, errno);
    }
    if (!S_ISDIR(st.st_mode))
        throw StoreError(
            StoreError::Kind::Format,
            "repository " + path +
                (S_ISREG(st.st_mode) ? " is a file, not a directory" : " is not a directory") +
                "; a repository is the directory `strata init` made");
    // Files inside are out of reach without search permission: say so about the directory, not
    // about the config the store would fail to read.
    if (::access(path.c_str(), X_OK) != 0 && (errno == EACCES || errno == EPERM))
        throw_repository_unreadable(path, path, errno);
    RepositoryStorage s;
    s.location = path;
    s.objects = objects ? std::move(objects) : open_local_store(path);
    s.index_dir = path + "/" + format::kIndexDir;
    s.locks = open_local_writer_lock(path);
    s.free_space_dir = path;
    return s;
}

std::optional<LockHolder> read_lock_holder(const std::string& repo_path) {
    return open_local_writer_lock(repo_path)->holder();
}

}  // namespace strata
