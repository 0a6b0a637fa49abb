#include "store/base/directory.h"

#include <dirent.h>

#include <cstring>

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

}  // namespace strata
