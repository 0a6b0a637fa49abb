// Read-ahead for the ingest walk. The walker works one entry at a time, so on a cold disk every
// stat, directory listing and small-file read is one synchronous request, and the disk idles while
// the walker hashes. SourceReadAhead lets a few threads warm the kernel's caches for the entries
// the walker is about to visit: it stats them (inode cache), lists directories and stats their
// entries, and asks the kernel (posix_fadvise WILLNEED) to start reading the head of every regular
// file that the walker will read: new files, and files that differ from the parent snapshot's
// record. Files that match the parent's record are stat'ed only, never opened: an unchanged
// re-ingest must not touch their contents.
//
// It changes no result: everything it does is a cache hint, and every failure is ignored.
//
// Descriptors: each thread holds at most one descriptor at a time, only for the moment of an open,
// a listing or a hint. It stays off entirely under a low RLIMIT_NOFILE, and skips opening anything
// when the walker's own descriptors come near the limit, so it never is what makes a walk run out.
//
// Threads: add() and finish() are called from the walker's thread only.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace strata {

// What the parent snapshot recorded of a file, enough to tell whether the walker will read it.
struct FileStamp {
    std::uint64_t size = 0, inode = 0;
    std::int64_t mtime_sec = 0, ctime_sec = 0;
    std::uint32_t mtime_nsec = 0, ctime_nsec = 0;

    bool matches(const struct stat& st) const {
        return S_ISREG(st.st_mode) && size == static_cast<std::uint64_t>(st.st_size) &&
               inode == st.st_ino && mtime_sec == st.st_mtim.tv_sec &&
               mtime_nsec == static_cast<std::uint32_t>(st.st_mtim.tv_nsec) &&
               ctime_sec == st.st_ctim.tv_sec &&
               ctime_nsec == static_cast<std::uint32_t>(st.st_ctim.tv_nsec);
    }
};

class SourceReadAhead {
  public:
    // Threads that wait on the disk: enough requests in flight for a virtual or SSD disk to
    // overlap them; they use almost no CPU (bench/ingest_bench.sh chose 4 over 2 and 8).
    static constexpr unsigned kThreads = 4;
    // Bytes of each file asked for ahead of the walker: all of a small file, the head of a big
    // one (the kernel's own readahead follows the walker's sequential reads from there).
    static constexpr std::uint64_t kFileBytes = 1u << 20;
    // Entries of a directory listed and stat'ed ahead when warming a subdirectory: a bound on the
    // work done for one entry of the window, however large that directory is.
    static constexpr std::size_t kDirEntries = 256;
    // Below this RLIMIT_NOFILE the read-ahead stays off: such a limit is someone's deliberate
    // choice, and the walk needs every descriptor for itself.
    static constexpr rlim_t kMinDescriptorLimit = 256;
    // Opening stops while the walker's newest directory descriptor is this close to the limit
    // (descriptors are numbered lowest-free first, so its number approximates how many are open).
    static constexpr int kDescriptorHeadroom = 64;
    // Warmed directories remembered for take_warmed: a few windows' worth.
    static constexpr std::size_t kMaxWarmed = 256;

    // `enabled` false (or a low descriptor limit): add() and finish() do nothing.
    explicit SourceReadAhead(bool enabled) {
        struct rlimit rl {};
        if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < kMinDescriptorLimit)
            enabled = false;
        limit_ = rl.rlim_cur == RLIM_INFINITY
                     ? 1 << 30
                     : static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 30));
        if (!enabled) return;
        for (unsigned i = 0; i < kThreads; ++i) threads_.emplace_back([this] { loop(); });
    }
    ~SourceReadAhead() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
            stack_.clear();
        }
        work_cv_.notify_all();
        for (auto& t : threads_) t.join();
    }
    SourceReadAhead(const SourceReadAhead&) = delete;
    SourceReadAhead& operator=(const SourceReadAhead&) = delete;

    bool enabled() const { return !threads_.empty(); }

    // Queues the entry `name` of the directory `dirfd`, which must stay open until finish(dirfd);
    // start() sets the threads to work on what was queued (one wake-up per batch, not per entry).
    // `parent`: the parent snapshot's record of a regular file of this name, if any. `new_subtree`:
    // when `name` is a directory, whether the walker will read all of its files (no parent record
    // of it), so that their heads are worth reading ahead too.
    // Nothing on another file system than `dev` (the directory's) is opened.
    void add(int dirfd, dev_t dev, std::string name, const std::optional<FileStamp>& parent,
             bool new_subtree) {
        if (threads_.empty()) return;
        {
            std::lock_guard lock(mu_);
            if (stack_.empty() || stack_.back()->dirfd != dirfd)
                stack_.push_back(std::make_shared<Directory>(dirfd));
            stack_.back()->tasks.push_back({std::move(name), parent, dev, new_subtree});
        }
    }
    void start() {
        if (!threads_.empty()) work_cv_.notify_all();
    }

    // Whether the directory (`dev`, `ino`) was listed and its first kDirEntries entries stat'ed
    // ahead of the walker (asked once, when the walker enters it): its files that the parent
    // snapshot records need not be handed over again.
    bool take_warmed(dev_t dev, ino_t ino) {
        if (threads_.empty()) return false;
        std::lock_guard lock(mu_);
        auto it = std::find(warmed_.begin(), warmed_.end(), std::pair{dev, ino});
        if (it == warmed_.end()) return false;
        warmed_.erase(it);
        return true;
    }

    // The walker is done with `dirfd`: drops what is still queued for it and waits for the
    // threads to stop using it, so that it may be closed.
    void finish(int dirfd) {
        if (threads_.empty()) return;
        std::unique_lock lock(mu_);
        auto it = std::find_if(stack_.begin(), stack_.end(),
                               [&](const auto& d) { return d->dirfd == dirfd; });
        if (it == stack_.end()) return;
        std::shared_ptr<Directory> dir = *it;
        stack_.erase(it);
        dir->tasks.clear();
        idle_cv_.wait(lock, [&] { return dir->busy == 0; });
    }

  private:
    struct Task {
        std::string name;
        std::optional<FileStamp> parent;
        dev_t dev;
        bool new_subtree;
    };
    struct Directory {
        explicit Directory(int fd) : dirfd(fd) {}
        int dirfd;
        std::deque<Task> tasks;
        unsigned busy = 0;
    };

    void loop() {
        for (;;) {
            std::shared_ptr<Directory> dir;
            Task task;
            {
                std::unique_lock lock(mu_);
                // The deepest directory first: it is where the walker is now.
                auto ready = [&] {
                    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
                        if (!(*it)->tasks.empty()) return *it;
                    return std::shared_ptr<Directory>();
                };
                work_cv_.wait(lock, [&] { return stop_ || ready(); });
                if (stop_) return;
                dir = ready();
                task = std::move(dir->tasks.front());
                dir->tasks.pop_front();
                dir->busy++;
            }
            warm(dir->dirfd, task);
            {
                std::lock_guard lock(mu_);
                dir->busy--;
            }
            idle_cv_.notify_all();
        }
    }

    bool may_open(int dirfd) const { return dirfd + kDescriptorHeadroom < limit_; }

    void warm(int dirfd, const Task& task) {
        struct stat st;
        if (::fstatat(dirfd, task.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            st.st_dev != task.dev)
            return;
        if (S_ISREG(st.st_mode)) {
            if (!task.parent || !task.parent->matches(st)) read_head(dirfd, task.name.c_str(), st);
        } else if (S_ISDIR(st.st_mode) && may_open(dirfd)) {
            warm_directory(dirfd, task.name.c_str(), task.dev, task.new_subtree);
        }
    }

    void read_head(int dirfd, const char* name, const struct stat& st) {
        if (st.st_size == 0 || !may_open(dirfd)) return;
        const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
        int fd = ::openat(dirfd, name, flags | O_NOATIME);
        if (fd < 0 && errno == EPERM) fd = ::openat(dirfd, name, flags);
        if (fd < 0) return;
        struct stat now;
        if (::fstat(fd, &now) == 0 && S_ISREG(now.st_mode) && now.st_ino == st.st_ino)
            ::posix_fadvise(fd, 0,
                            static_cast<off_t>(std::min<std::uint64_t>(st.st_size, kFileBytes)),
                            POSIX_FADV_WILLNEED);
        ::close(fd);
    }

    // Lists a subdirectory the walker will enter soon and stats its first entries (its directory
    // blocks and inode table blocks come in now, in parallel with the walk); in a new subtree,
    // also starts reading its files.
    void warm_directory(int dirfd, const char* name, dev_t dev, bool new_subtree) {
        int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return;
        DIR* d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            return;
        }
        std::vector<std::string> names;
        while (names.size() < kDirEntries) {
            const dirent* de = ::readdir(d);
            if (!de) break;
            if (std::strcmp(de->d_name, ".") && std::strcmp(de->d_name, ".."))
                names.emplace_back(de->d_name);
        }
        for (const auto& n : names) {
            if (stop_requested()) break;
            struct stat st;
            if (::fstatat(fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != dev)
                continue;
            if (new_subtree && S_ISREG(st.st_mode)) read_head(fd, n.c_str(), st);
        }
        struct stat self;
        if (names.size() < kDirEntries && ::fstat(fd, &self) == 0) {
            std::lock_guard lock(mu_);
            // Directories warmed but never entered (excluded, or the walk failed) must not pile up.
            if (warmed_.size() >= kMaxWarmed) warmed_.pop_front();
            warmed_.emplace_back(self.st_dev, self.st_ino);
        }
        ::closedir(d);
    }

    bool stop_requested() {
        std::lock_guard lock(mu_);
        return stop_;
    }

    int limit_ = 0;
    std::mutex mu_;
    std::condition_variable work_cv_, idle_cv_;
    std::vector<std::shared_ptr<Directory>>
        stack_;                                   // directories the walker is in, outermost first
    std::deque<std::pair<dev_t, ino_t>> warmed_;  // see take_warmed
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace strata
