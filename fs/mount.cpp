#include "fs/mount.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "fs/chunk_cache.h"
#include "fs/fuse_ops.h"
#include "fs/layout.h"
#include "fs/mount_log.h"
#include "fs/page_cache_fill.h"
#include "fs/read_ahead.h"
#include "fs/service_notify.h"
#include "store/base/directory.h"
#include "store/repo/reader.h"
#include "store/repo/repo_keys.h"
#include "store/repo/storage.h"

namespace strata::fs {

namespace {

std::string absolute(const std::string& path) {
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf))
        throw MountError("cannot resolve " + path + ": " + std::strerror(errno));
    return buf;
}

// Runs `tick` every `seconds` on a thread of its own (signals blocked) until destroyed; what
// `tick` throws is its own business (it must not throw).
class Periodic {
  public:
    Periodic(double seconds, std::function<void()> tick)
        : seconds_(seconds), tick_(std::move(tick)) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        thread_ = std::thread([this] { run(); });
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
    ~Periodic() {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

  private:
    void run() {
        std::unique_lock lock(mu_);
        while (!wake_.wait_for(lock, std::chrono::duration<double>(seconds_),
                               [this] { return stop_; })) {
            lock.unlock();
            tick_();
            lock.lock();
        }
    }

    const double seconds_;
    std::function<void()> tick_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

// Runs `work` at each tick; a failure is logged as "cannot <what>: <why>" once, not at every
// tick while it lasts, and the mount keeps serving what it has.
std::function<void()> logging_failures_once(MountLog& log, std::string what,
                                            std::function<void()> work) {
    return [&log, what = std::move(what), work = std::move(work),
            last_error = std::string()]() mutable {
        try {
            work();
            last_error.clear();
        } catch (const std::exception& e) {
            if (last_error != e.what()) log.error("cannot " + what + ": " + e.what());
            last_error = e.what();
        }
    };
}

// Follows ingests and forgets: reads the snapshot list again when its generation changed.
std::function<void()> snapshot_refresh(MountLayout& layout, MountLog& log) {
    return logging_failures_once(log, "refresh the snapshot list", [&layout] { layout.refresh(); });
}

// A mount of a repository in an object store: what other hosts wrote, into this host's cache;
// the snapshot poller then sees the new generation.
std::function<void()> store_refresh(RepositoryReader& repo, MountLog& log) {
    return logging_failures_once(log, "look for other hosts' snapshots",
                                 [&repo] { repo.refresh_from_store(); });
}

// Keeps the inode table bounded (fs/inode_table.h): past kMaxLiveNodes, asks the kernel to drop
// the names of the least recently used nodes; unused, their inodes go and the kernel's forgets
// remove them from the table. A name still in use (an open file, a working directory) stays.
std::function<void()> inode_trim(MountLayout& layout, fuse_session* se) {
    return [&layout, se, release = false]() mutable {
        try {
            // The forgets for the names dropped last time have arrived by now: hand the freed
            // nodes' memory back, so the resident size follows the table, not its peak.
            if (release) ::malloc_trim(0);
            release = false;
            const std::size_t live = layout.inodes().size();
            if (live <= kMaxLiveNodes) return;
            for (const NodePtr& n : layout.inodes().least_recent(live - kTrimmedLiveNodes)) {
                if (!n->parent || n->name.empty()) continue;
                fuse_lowlevel_notify_inval_entry(se, n->parent->ino, n->name.c_str(),
                                                 n->name.size());
            }
            release = true;
        } catch (...) {
            // Out of memory while listing: the next tick tries again.
        }
    };
}

// The device number ("0:53") of the FUSE filesystem mounted last at `mountpoint`, from
// /proc/self/mountinfo, so nothing inside the mount is touched before it serves.
std::string mounted_device(const std::string& mountpoint) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        fields >> id >> parent >> device >> root >> point;
        std::string unescaped;  // mountinfo writes space, tab, newline and backslash as \ooo
        for (std::size_t i = 0; i < point.size(); ++i) {
            if (point[i] == '\\' && i + 3 < point.size()) {
                unescaped +=
                    static_cast<char>(std::strtol(point.substr(i + 1, 3).c_str(), nullptr, 8));
                i += 3;
            } else {
                unescaped += point[i];
            }
        }
        auto dash = line.find(" - ");
        if (unescaped == mountpoint && dash != std::string::npos &&
            line.compare(dash + 3, 4, "fuse") == 0)
            found = device;
    }
    return found;
}

void raise_read_ahead(const std::string& mountpoint, MountLog& log) {
    std::string device = mounted_device(mountpoint);
    if (device.empty()) return;
    const std::string knob = "/sys/class/bdi/" + device + "/read_ahead_kb";
    std::ofstream out(knob);
    out << kBdiReadAheadKb << "\n";
    out.close();
    if (!out)
        log.info("could not raise " + knob + " (sequential reads will be slower; needs root)");
}

std::string escape_option(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == ',' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// Serves until unmounted. `on_ready` runs once the kernel's INIT has been answered; `notifier`
// hears when the mount is made and when the loop ends.
void serve(const MountOptions& o, MountLog& log, ServiceNotifier& notifier,
           std::function<void()> on_ready) {
    // Chunks are large, short-lived buffers allocated by many threads; with glibc's default of
    // one arena per thread, each arena keeps its own peak of freed chunks and the resident size
    // grows far past the chunk cache. Two arenas keep it near what is live.
    ::mallopt(M_ARENA_MAX, kMallocArenas);
    auto repo = open_repository_reader(o.repository);
    if (std::string caveat = repo->concurrent_writer_caveat(); !caveat.empty())
        log.error("warning: " + caveat);
    MountLayout layout(*repo, {static_cast<std::uint32_t>(::getuid()),
                               static_cast<std::uint32_t>(::getgid()), kDefaultTreeCacheBytes});
    RepositoryReader& reader = *repo;
    ChunkCache chunks([&reader](const BlobId& id) { return load_chunk(reader, id); },
                      o.cache_bytes);
    ReadAhead read_ahead(chunks, kReadAheadWorkers);
    PageCacheFill fill(layout, chunks);
    FuseFilesystem fs(layout, chunks, read_ahead, fill, log, std::move(on_ready));

    std::string opts = "ro,default_permissions,nosuid,nodev,subtype=strata,fsname=strata:" +
                       escape_option(o.repository);
    if (o.allow_other) opts += ",allow_other";
    std::vector<std::string> argv = {"strata", "-o", opts};
    if (o.debug) argv.push_back("-d");
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(cargv.size()), cargv.data());
    fuse_session* se =
        fuse_session_new(&args, &FuseFilesystem::operations(), sizeof(fuse_lowlevel_ops), &fs);
    fuse_opt_free_args(&args);
    if (!se)
        throw MountError("cannot start a FUSE session (libfuse refused the options; see above)");
    if (fuse_set_signal_handlers(se) != 0) {
        fuse_session_destroy(se);
        throw MountError("cannot install signal handlers");
    }
    notifier.status("mounting " + o.repository + " at " + o.mountpoint);
    if (fuse_session_mount(se, o.mountpoint.c_str()) != 0) {
        fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        throw MountError("cannot mount on " + o.mountpoint +
                         " (see libfuse's message above; non-root users need fusermount3)");
    }
    raise_read_ahead(o.mountpoint, log);
    fill.start([se](std::uint64_t ino, const std::uint8_t* data, std::size_t size) {
        fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
        buf.buf[0].mem = const_cast<std::uint8_t*>(data);
        return fuse_lowlevel_notify_store(se, ino, 0, &buf, fuse_buf_copy_flags{});
    });
    {
        Periodic poller(kPollSeconds, snapshot_refresh(layout, log));
        std::optional<Periodic> store_poller;
        if (!is_local_location(o.repository) && o.refresh_seconds > 0)
            store_poller.emplace(o.refresh_seconds, store_refresh(*repo, log));
        Periodic trimmer(kTrimSeconds, inode_trim(layout, se));
        fuse_loop_config config{};
        config.clone_fd = 0;
        config.max_idle_threads = 10;
        fuse_session_loop_mt(se, &config);
        notifier.stopping();
    }
    fill.stop();  // no store after the session is gone
    fuse_session_unmount(se);
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
}

// The mount options for remote repositories, over what the command line set: paths made
// absolute (the daemon leaves the current directory); the credentials file and profile as the
// AWS variables that store/backend/s3/aws_credentials.h reads.
void apply_storage_options(const MountOptions& o) {
    StorageOptions s = storage_options();
    auto absolute_path = [](const std::string& p) {
        return std::filesystem::absolute(p).lexically_normal().string();
    };
    if (!o.cache_dir.empty()) s.cache_dir = absolute_path(o.cache_dir);
    if (!o.ca_file.empty()) s.ca_file = absolute_path(o.ca_file);
    if (o.s3_virtual_host) s.s3_virtual_host = true;
    s.chunk_cache_bytes = o.disk_cache_bytes;
    s.pack_window_bytes = kMountPackWindowBytes;
    if (!o.credentials_file.empty()) {
        const std::string file = absolute_path(o.credentials_file);
        if (::access(file.c_str(), R_OK) != 0)
            throw MountError("credentials_file=" + file + ": " + std::strerror(errno));
        ::setenv("AWS_SHARED_CREDENTIALS_FILE", file.c_str(), 1);
        // The file, not variables inherited from whoever ran mount(8).
        ::unsetenv("AWS_ACCESS_KEY_ID");
        ::unsetenv("AWS_SECRET_ACCESS_KEY");
        ::unsetenv("AWS_SESSION_TOKEN");
    }
    if (!o.aws_profile.empty()) ::setenv("AWS_PROFILE", o.aws_profile.c_str(), 1);
    if (!o.password_file.empty()) {
        const std::string file = absolute_path(o.password_file);
        s.password = [file](const std::string&) {
            return read_password_file(file, "password_file=");
        };
    }
    set_storage_options(std::move(s));
}

void write_all(int fd, const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

void check_mountpoint(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        int err = errno;
        if (err == ENOENT)
            throw MountError("mountpoint " + path + " does not exist; create it with `mkdir -p " +
                             path + "`");
        if (err == ENOTCONN)
            throw MountError("mountpoint " + path +
                             " is a FUSE mount whose process has died; "
                             "run `fusermount3 -u " +
                             path + "` first");
        throw MountError("cannot use mountpoint " + path + ": " + std::strerror(err));
    }
    if (!S_ISDIR(st.st_mode)) throw MountError("mountpoint " + path + " is not a directory");
    std::optional<bool> empty = directory_is_empty(path);
    if (!empty) throw MountError("cannot list mountpoint " + path + ": " + std::strerror(errno));
    if (!*empty)
        throw MountError("mountpoint " + path +
                         " is not empty (already mounted?); mount on an empty "
                         "directory so nothing is hidden");
}

void check_fuse_device() {
    if (::access("/dev/fuse", F_OK) != 0)
        throw MountError(
            "/dev/fuse is missing: load the kernel module (`modprobe fuse`), or in a "
            "container pass the device (e.g. --device /dev/fuse)");
    if (::access("/dev/fuse", R_OK | W_OK) != 0)
        throw MountError("no permission to open /dev/fuse (" + std::string(std::strerror(errno)) +
                         "); mount as root, or install fuse3 so fusermount3 can mount for you");
}

int mount_repository(MountOptions o) {
    if (o.debug) o.foreground = true;
    check_mountpoint(o.mountpoint);
    // Absolute paths: the daemon leaves the current directory, and the mount table should name
    // them.
    o.mountpoint = absolute(o.mountpoint);
    apply_storage_options(o);
    // Outlives serve(): its thread may wait on the mount until serve() has unmounted.
    ServiceNotifier notifier(o.mountpoint);
    notifier.status("opening " + o.repository);
    // Open once here, by the name given, so repository errors reach the caller before anything is
    // mounted and read as every other command's (a missing one: "does not exist; create it with
    // `strata init`").
    open_repository_reader(o.repository).reset();
    check_fuse_device();
    if (is_local_location(o.repository)) o.repository = absolute(o.repository);

    MountLog log;
    if (o.foreground) {
        serve(o, log, notifier, [&] {
            log.info("serving " + o.repository + " at " + o.mountpoint +
                     "; stop with `fusermount3 -u " + o.mountpoint + "` or Ctrl-C");
            notifier.mount_answered();
        });
        return 0;
    }

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0)
        throw MountError(std::string("pipe: ") + std::strerror(errno));
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) throw MountError(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        ::close(pipefd[0]);
        if (::chdir("/") != 0) {
        }
        int ready_fd = pipefd[1];
        int code = 0;
        try {
            serve(o, log, notifier, [&] {
                write_all(ready_fd, "ready\n");
                ::close(ready_fd);
                ready_fd = -1;
                // Only now, with the kernel mount made: under an automount the kernel lets only
                // the automounter's process group (which mount(8) and this process belong to)
                // reach the mountpoint while the mount is pending; from a session of our own,
                // mounting would wait for the automount we are making.
                ::setsid();
                log.use_syslog();
                int null = ::open("/dev/null", O_RDWR);
                if (null >= 0) {
                    ::dup2(null, 0);
                    ::dup2(null, 1);
                    ::dup2(null, 2);
                    if (null > 2) ::close(null);
                }
            });
        } catch (const std::exception& e) {
            if (ready_fd >= 0)
                write_all(ready_fd, std::string("error ") + e.what() + "\n");
            else
                log.error(e.what());
            code = 1;
        }
        ::_exit(code);
    }
    ::close(pipefd[1]);
    std::string reply;
    char buf[512];
    for (;;) {
        ssize_t n = ::read(pipefd[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    if (reply.rfind("ready", 0) == 0) {
        notifier.ready_handed_over(pid);  // a Type=notify unit follows the serving process
        return 0;
    }
    if (reply.rfind("error ", 0) == 0) {
        ::waitpid(pid, nullptr, 0);
        std::string msg = reply.substr(6);
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        throw MountError(msg);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw MountError("the mount process ended before the mount was ready (" +
                     (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exit code " + std::to_string(WEXITSTATUS(status))) +
                     ")");
}

}  // namespace strata::fs
