#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <list>
#include <mutex>
#include <random>
#include <unordered_map>

#include "store/backend/object_store.h"
#include "store/base/unique_fd.h"
#include "store/format/format.h"

namespace strata {
namespace {

void fsync_dir(const std::string& dir) {
    UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.get() < 0) throw_io("open directory " + dir, errno);
    if (::fsync(d.get()) != 0) throw_io("fsync directory " + dir, errno);
}

std::string parent_of(const std::string& path) {
    auto pos = path.rfind('/');
    return pos == std::string::npos ? "." : path.substr(0, pos);
}

// Creates `dir` (0700) and its missing parents, fsyncing each parent whose entries changed.
void make_dirs(const std::string& dir) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) return;
    make_dirs(parent_of(dir));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_io("create " + dir, errno);
    fsync_dir(parent_of(dir));
}

void write_all(int fd, ByteView data, const std::string& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io("write " + path, errno);
        }
        done += static_cast<std::size_t>(n);
    }
}

std::string unique_name() {
    static std::atomic<std::uint64_t> counter{0};
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(rng() & 0xffffffff) + ".tmp";
}

// Writes into <root>/tmp/<unique>; commit fsyncs, renames into place and fsyncs the directory.
class LocalObjectWriter final : public ObjectWriter {
  public:
    explicit LocalObjectWriter(std::string root) : root_(std::move(root)) {
        const std::string tmpdir = root_ + "/" + format::kTmpDir;
        make_dirs(tmpdir);
        tmp_ = tmpdir + "/" + unique_name();
        fd_ = UniqueFd(::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (fd_.get() < 0) throw_io("create " + tmp_, errno);
    }
    ~LocalObjectWriter() override {
        if (!committed_) ::unlink(tmp_.c_str());
    }
    void append(ByteView data) override {
        write_all(fd_.get(), data, tmp_);
        size_ += data.size();
    }
    std::uint64_t size() const override { return size_; }
    void commit(const std::string& name) override {
        const std::string target = root_ + "/" + name;
        make_dirs(parent_of(target));
        if (::fsync(fd_.get()) != 0) throw_io("fsync " + tmp_, errno);
        if (::rename(tmp_.c_str(), target.c_str()) != 0) throw_io("rename into " + target, errno);
        committed_ = true;
        fsync_dir(parent_of(target));
    }

  private:
    std::string root_, tmp_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    bool committed_ = false;
};

class LocalStore final : public ObjectStore {
  public:
    explicit LocalStore(std::string root) : root_(std::move(root)) {}

    std::unique_ptr<ObjectWriter> create() override {
        return std::make_unique<LocalObjectWriter>(root_);
    }

    void put(const std::string& name, ByteView data) override {
        auto w = create();
        w->append(data);
        w->commit(name);
        drop_cached_fd(name);  // it would go on reading the object this one replaced
    }

    Bytes read(const std::string& name, std::uint64_t offset, std::size_t len) override {
        auto fd = open_cached(name);
        Bytes out(len);
        std::size_t done = 0;
        while (done < len) {
            ssize_t n = ::pread(fd->get(), out.data() + done, len - done,
                                static_cast<off_t>(offset + done));
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_io("read " + path(name), errno);
            }
            if (n == 0) throw_corruption(path(name) + ": shorter than expected (truncated?)");
            done += static_cast<std::size_t>(n);
        }
        return out;
    }

    Bytes read_all(const std::string& name) override {
        return read(name, 0, static_cast<std::size_t>(size(name)));
    }

    std::uint64_t size(const std::string& name) override {
        struct stat st;
        if (::stat(path(name).c_str(), &st) != 0) {
            if (errno == ENOENT) throw_not_found(path(name) + " is missing");
            throw_io("stat " + path(name), errno);
        }
        return static_cast<std::uint64_t>(st.st_size);
    }

    bool exists(const std::string& name) override {
        return ::access(path(name).c_str(), F_OK) == 0;
    }

    std::vector<ObjectInfo> list(const std::string& prefix) override {
        std::vector<ObjectInfo> out;
        walk(prefix, out);
        std::sort(out.begin(), out.end(),
                  [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
        return out;
    }

    void remove(const std::string& name) override {
        drop_cached_fd(name);
        if (::unlink(path(name).c_str()) != 0 && errno != ENOENT)
            throw_io("delete " + path(name), errno);
        fsync_dir(parent_of(path(name)));
    }

    void discard_partial_writes() override {
        for (const auto& object : list(format::kTmpDir)) remove(object.name);
    }

  private:
    std::string path(const std::string& name) const { return root_ + "/" + name; }

    void walk(const std::string& rel, std::vector<ObjectInfo>& out) {
        DIR* d = ::opendir(path(rel).c_str());
        if (!d) {
            if (errno == ENOENT) return;
            throw_io("list " + path(rel), errno);
        }
        while (dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n == "." || n == "..") continue;
            std::string child = rel + "/" + n;
            if (e->d_type == DT_DIR) {
                walk(child, out);
                continue;
            }
            if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
            struct stat st;
            if (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0) {
                if (errno == ENOENT) continue;  // removed since readdir saw it
                const int err = errno;
                ::closedir(d);
                throw_io("stat " + path(child), err);
            }
            out.push_back({child, static_cast<std::uint64_t>(st.st_size),
                           static_cast<std::int64_t>(st.st_mtim.tv_sec)});
        }
        ::closedir(d);
    }

    void drop_cached_fd(const std::string& name) {
        std::lock_guard lock(mu_);
        auto it = fds_.find(name);
        if (it == fds_.end()) return;
        lru_.erase(it->second.second);
        fds_.erase(it);
    }

    std::shared_ptr<UniqueFd> open_cached(const std::string& name) {
        std::lock_guard lock(mu_);
        auto it = fds_.find(name);
        if (it != fds_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.second);
            return it->second.first;
        }
        auto fd = std::make_shared<UniqueFd>(::open(path(name).c_str(), O_RDONLY | O_CLOEXEC));
        if (fd->get() < 0) {
            if (errno == ENOENT) throw_not_found(path(name) + " is missing");
            throw_io("open " + path(name), errno);
        }
        lru_.push_front(name);
        fds_[name] = {fd, lru_.begin()};
        if (fds_.size() > kOpenFds) {
            fds_.erase(lru_.back());
            lru_.pop_back();
        }
        return fd;
    }

    // Enough open packs for a few concurrent sequential readers without approaching fd limits.
    static constexpr std::size_t kOpenFds = 64;
    std::string root_;
    std::mutex mu_;
    std::list<std::string> lru_;
    std::unordered_map<std::string,
                       std::pair<std::shared_ptr<UniqueFd>, std::list<std::string>::iterator>>
        fds_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_local_store(const std::string& root) {
    return std::make_unique<LocalStore>(root);
}

}  // namespace strata
