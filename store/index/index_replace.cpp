#include "store/index/index_replace.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace strata {
namespace {

void remove_tree(const std::string& p) {
    DIR* d = ::opendir(p.c_str());
    if (!d) {
        ::unlink(p.c_str());
        return;
    }
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        std::string c = p + "/" + n;
        struct stat st;
        if (::lstat(c.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(c);
        else
            ::unlink(c.c_str());
    }
    ::closedir(d);
    ::rmdir(p.c_str());
}

}  // namespace

void replace_index_dir(const std::string& dir, const std::function<void(BlobIndex&)>& fill,
                       const BlobCodec* records) {
    const std::string fresh = dir + ".new";
    remove_tree(fresh);
    {
        BlobIndex idx(fresh, BlobIndex::Access::Create, records);
        fill(idx);
    }
    const std::string old = dir + ".old";
    remove_tree(old);
    if (::rename(dir.c_str(), old.c_str()) != 0 && errno != ENOENT)
        throw_io("move old index", errno);
    if (::rename(fresh.c_str(), dir.c_str()) != 0) throw_io("install new index", errno);
    remove_tree(old);
}

}  // namespace strata
