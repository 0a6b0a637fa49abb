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
#include "store/ingest/source_walker.h"
#include "store/ingest/walk_hook.h"

namespace strata {
namespace {

// Bytes read from a file at a time; a few maximum-size chunks so the chunker rarely waits.
constexpr std::size_t kReadBlock = 8u << 20;
// Read past the size fstat gave in steps this large, to find the end of a file that grew.
constexpr std::size_t kGrowthProbe = 64u << 10;
// Read at most this far past the size fstat gave when a file was opened: room for files whose size
// is unknown in advance (procfs reports 0), bounded so a file written faster than it is read
// cannot keep an ingest going forever.
constexpr std::uint64_t kGrowthLimit = 16u << 20;

}  // namespace

bool Walker::unchanged(const TreeEntry& prev, const TreeEntry& now) {
    return prev.type == EntryType::File && prev.size == now.size &&
           prev.mtime_sec == now.mtime_sec && prev.mtime_nsec == now.mtime_nsec &&
           prev.ctime_sec == now.ctime_sec && prev.ctime_nsec == now.ctime_nsec &&
           prev.inode == now.inode;
}

// After a prune on another host retired packs (Repository::some_packs_retired), the last
// snapshot's chunks may lie in one of them, which this cache left out: reusing them would make
// the new snapshot depend on a pack about to be deleted, so such a file is read again.
bool Walker::still_indexed(const std::vector<ChunkRef>& chunks) const {
    if (!repo_.some_packs_retired()) return true;
    for (const auto& c : chunks)
        if (!repo_.index().contains(c.id)) return false;
    return true;
}

bool Walker::file(int dirfd, TreeEntry& e, const std::string& path, const TreeEntry* parent,
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
    if (parent && unchanged(*parent, e) && !opts_.force_reread && still_indexed(parent->chunks)) {
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

bool Walker::read_file(int dirfd, TreeEntry& e, const std::string& path, const struct stat& st) {
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
    if (::fstat(fd.get(), &before) != 0 || !S_ISREG(before.st_mode) || before.st_ino != st.st_ino) {
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
    e.size = maybe_sparse ? std::max<std::uint64_t>(end, static_cast<std::uint64_t>(after.st_size))
                          : end;
    if (growth_cut_) {
        e.size = end;
        warn(path,
             "kept growing while being read; stored its first " + std::to_string(end) + " bytes");
    } else if (after.st_size != before.st_size || after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
               after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || end > e.size) {
        warn(path, "changed while being read; the stored copy may mix old and new content");
    }
    // Keep the stored metadata consistent with the content we actually read.
    e.mtime_sec = before.st_mtim.tv_sec;
    e.mtime_nsec = static_cast<std::uint32_t>(before.st_mtim.tv_nsec);
    return true;
}

bool Walker::read_extent(int fd, TreeEntry& e, const std::string& path, std::uint64_t from,
                         std::uint64_t to, std::uint64_t& end, std::uint64_t expected_end) {
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
            progress.bytes_read += static_cast<std::uint64_t>(n);
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

}  // namespace strata
