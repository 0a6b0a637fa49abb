#include "store/repo/blob_file_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <tuple>
#include <vector>

#include "store/base/unique_fd.h"

namespace strata {
namespace {

// A temporary file this old was left by a process that died while writing it.
constexpr std::time_t kStaleTemporarySeconds = 600;

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string BlobFileCache::path_of(const BlobId& id) const {
    const std::string hex = id.hex();
    return dir_ + "/" + hex.substr(0, 2) + "/" + hex;
}

std::optional<Bytes> BlobFileCache::get(const BlobId& id) {
    if (capacity_) std::call_once(scanned_, [this] { scan(); });
    UniqueFd fd(::open(path_of(id).c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
        if (capacity_) {
            std::lock_guard lock(mu_);
            forget(id);  // dropped by another process sharing the folder
        }
        return std::nullopt;
    }
    Bytes out(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return std::nullopt;
        done += static_cast<std::size_t>(n);
    }
    if (capacity_) {
        ::futimens(fd.get(), nullptr);  // most recently used, for the next process's scan too
        std::lock_guard lock(mu_);
        add(id, out.size());
    }
    return out;
}

void BlobFileCache::put(const BlobId& id, ByteView stored) noexcept {
    if (capacity_) {
        if (stored.size() > capacity_) return;
        std::call_once(scanned_, [this] { scan(); });
    }
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
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return;
    }
    if (capacity_) {
        std::lock_guard lock(mu_);
        add(id, stored.size());
    }
}

void BlobFileCache::drop(const BlobId& id) noexcept {
    ::unlink(path_of(id).c_str());
    if (capacity_) {
        std::lock_guard lock(mu_);
        forget(id);
    }
}

std::uint64_t BlobFileCache::bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
}

void BlobFileCache::forget(const BlobId& id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    bytes_ -= it->second.size;
    lru_.erase(it->second.lru);
    entries_.erase(it);
}

void BlobFileCache::add(const BlobId& id, std::uint64_t size) {
    if (auto it = entries_.find(id); it != entries_.end()) {
        bytes_ -= it->second.size;
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        it->second.size = size;
    } else {
        lru_.push_front(id);
        entries_.emplace(id, Entry{size, lru_.begin()});
    }
    bytes_ += size;
    evict_past_bound(1);  // the blob just kept stays, however large
}

void BlobFileCache::evict_past_bound(std::size_t keep) {
    while (bytes_ > capacity_ && lru_.size() > keep) {
        const BlobId victim = lru_.back();
        ::unlink(path_of(victim).c_str());
        forget(victim);
    }
}

void BlobFileCache::scan() {
    struct Found {
        std::int64_t mtime_ns;
        BlobId id;
        std::uint64_t size;
    };
    std::vector<Found> found;
    const std::time_t now = std::time(nullptr);
    DIR* top = ::opendir(dir_.c_str());
    if (!top) return;  // nothing kept yet
    while (dirent* d = ::readdir(top)) {
        const std::string sub = d->d_name;
        if (sub.size() != 2) continue;
        const std::string folder = dir_ + "/" + sub;
        DIR* inner = ::opendir(folder.c_str());
        if (!inner) continue;
        while (dirent* f = ::readdir(inner)) {
            const std::string name = f->d_name;
            struct stat st;
            if (::fstatat(::dirfd(inner), f->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                !S_ISREG(st.st_mode))
                continue;
            if (ends_with(name, ".tmp")) {
                if (now - st.st_mtime > kStaleTemporarySeconds)
                    ::unlinkat(::dirfd(inner), f->d_name, 0);
                continue;
            }
            auto id = BlobId::from_hex(name);
            if (!id || name.compare(0, 2, sub) != 0) continue;
            found.push_back({std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, *id,
                             static_cast<std::uint64_t>(st.st_size)});
        }
        ::closedir(inner);
    }
    ::closedir(top);
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
        return std::tie(b.mtime_ns, b.id) < std::tie(a.mtime_ns, a.id);  // newest first
    });
    std::lock_guard lock(mu_);
    for (const auto& f : found) {
        if (entries_.count(f.id)) continue;
        lru_.push_back(f.id);
        entries_.emplace(f.id, Entry{f.size, std::prev(lru_.end())});
        bytes_ += f.size;
    }
    evict_past_bound(0);  // the bound may be smaller than last time
}

}  // namespace strata
