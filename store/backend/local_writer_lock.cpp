#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>

#include "store/backend/writer_lock.h"
#include "store/base/errors.h"
#include "store/base/host_name.h"
#include "store/format/format.h"

namespace strata {
namespace {

class FlockWriterLock final : public WriterLock {
  public:
    explicit FlockWriterLock(int fd) : fd_(fd) {}
    ~FlockWriterLock() override { ::close(fd_); }  // releases the flock

  private:
    int fd_;
};

class LocalWriterLockProvider final : public WriterLockProvider {
  public:
    explicit LocalWriterLockProvider(const std::string& root)
        : dir_(root + "/" + format::kLockDir), file_(dir_ + "/writer") {}

    std::unique_ptr<WriterLock> try_lock(const std::string& purpose) override {
        if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) throw_io("create " + dir_, errno);
        int fd = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) throw_io("open lock file " + file_, errno);
        while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd);
            if (e == EWOULDBLOCK) return nullptr;
            throw_io("lock " + file_, e);
        }
        std::ostringstream rec;
        rec << "pid " << ::getpid() << "\nhost " << host_name() << "\nsince "
            << std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()
            << "\npurpose " << purpose << "\n";
        const std::string s = rec.str();
        if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, s.data(), s.size(), 0) < 0) {
            const int e = errno;
            ::close(fd);
            throw_io("write lock file " + file_, e);
        }
        return std::make_unique<FlockWriterLock>(fd);
    }

    std::optional<LockHolder> holder() override {
        std::ifstream f(file_);
        std::stringstream ss;
        ss << f.rdbuf();
        return parse_lock_holder(ss.str());
    }

  private:
    std::string dir_, file_;
};

}  // namespace

std::unique_ptr<WriterLockProvider> open_local_writer_lock(const std::string& root) {
    return std::make_unique<LocalWriterLockProvider>(root);
}

std::optional<LockHolder> parse_lock_holder(const std::string& text) {
    if (text.empty()) return std::nullopt;
    LockHolder h;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {  // "key value", the value running to the end of the line
        auto space = line.find(' ');
        if (space == std::string::npos) continue;
        std::string key = line.substr(0, space), value = line.substr(space + 1);
        try {
            if (key == "pid")
                h.pid = std::stol(value);
            else if (key == "since")
                h.since = std::stoll(value);
        } catch (const std::exception&) {
            // A half-written lock file: show what can be read.
        }
        if (key == "host")
            h.host = value;
        else if (key == "purpose")
            h.purpose = value;
    }
    return h;
}

}  // namespace strata
