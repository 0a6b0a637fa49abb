#include "store/repo/tree_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "store/base/unique_fd.h"

namespace strata {

std::string TreeCache::path_of(const BlobId& id) const {
    const std::string hex = id.hex();
    return dir_ + "/" + hex.substr(0, 2) + "/" + hex;
}

std::optional<Bytes> TreeCache::get(const BlobId& id) const {
    UniqueFd fd(::open(path_of(id).c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return std::nullopt;
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return std::nullopt;
    Bytes out(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        done += static_cast<std::size_t>(n);
    }
    return out;
}

void TreeCache::put(const BlobId& id, ByteView stored) const noexcept {
    static std::atomic<unsigned> counter{0};
    const std::string path = path_of(id);
    const std::string folder = path.substr(0, path.rfind('/'));
    ::mkdir(dir_.c_str(), 0700);
    ::mkdir(folder.c_str(), 0700);
    const std::string tmp =
        path + "." + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".tmp";
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) return;
    std::size_t done = 0;
    while (done < stored.size()) {
        ssize_t n = ::write(fd.get(), stored.data() + done, stored.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::unlink(tmp.c_str());
            return;
        }
        done += static_cast<std::size_t>(n);
    }
    // No fsync: after a crash a cut-short file fails the codec's check and is fetched again.
    if (::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

void TreeCache::drop(const BlobId& id) const noexcept { ::unlink(path_of(id).c_str()); }

}  // namespace strata
