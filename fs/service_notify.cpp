#include "fs/service_notify.h"

#include <dirent.h>
#include <sys/statvfs.h>
#include <systemd/sd-daemon.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace strata::fs {

ServiceNotifier::ServiceNotifier(std::string mountpoint) : mountpoint_(std::move(mountpoint)) {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket && *socket;
    std::uint64_t usec = 0;
    // > 0 only if WATCHDOG_USEC is set and WATCHDOG_PID is unset or names this process (a forked
    // child must not ping for its parent).
    if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_usec_ = usec;
}

ServiceNotifier::~ServiceNotifier() {
    // Quietly: a process that handed the service over to another (ready_handed_over) or failed
    // before mounting has nothing to announce.
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool ServiceNotifier::send(const std::string& message) {
    if (!enabled_) return false;
    return sd_notify(0, message.c_str()) > 0;
}

void ServiceNotifier::status(const std::string& text) { send("STATUS=" + text); }

std::string ServiceNotifier::list_snapshots() const {
    const std::string dir = mountpoint_ + "/snapshots";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return "cannot open " + dir + ": " + std::strerror(errno);
    errno = 0;
    while (::readdir(d)) {
    }
    int err = errno;
    ::closedir(d);
    if (err) return "cannot list " + dir + ": " + std::strerror(err);
    return "";
}

void ServiceNotifier::mount_answered() {
    if (!enabled_ || thread_.joinable()) return;
    thread_ = std::thread([this] { run_after_init(); });
}

void ServiceNotifier::run_after_init() {
    // The INIT reply goes out after mount_answered() returns; the listing waits for it in the
    // kernel and then goes through the whole path a user's `ls` takes.
    std::string failure = list_snapshots();
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
    }
    if (!failure.empty()) {
        status("mounted at " + mountpoint_ + " but not serving: " + failure);
        return;
    }
    send("READY=1\nSTATUS=serving at " + mountpoint_);
    if (watchdog_usec_ == 0) return;

    const auto interval = std::chrono::microseconds(watchdog_usec_ / kWatchdogPingsPerInterval);
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
        lock.unlock();
        // statfs always reaches the filesystem (the kernel caches no answer), so a ping means a
        // FUSE worker answered just now.
        struct statvfs st;
        bool answered = ::statvfs(mountpoint_.c_str(), &st) == 0;
        lock.lock();
        if (stopping_) break;
        if (answered) {
            lock.unlock();
            send("WATCHDOG=1");
            lock.lock();
        }
    }
}

bool ServiceNotifier::ready_handed_over(pid_t serving_pid) {
    if (!enabled_) return true;
    std::string failure = list_snapshots();
    if (!failure.empty()) {
        status("mounted at " + mountpoint_ + " but not serving: " + failure);
        return false;
    }
    send("READY=1\nMAINPID=" + std::to_string(serving_pid) + "\nSTATUS=serving at " + mountpoint_);
    return true;
}

void ServiceNotifier::stopping() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_all();
    send("STOPPING=1\nSTATUS=unmounting " + mountpoint_);
}

}  // namespace strata::fs
