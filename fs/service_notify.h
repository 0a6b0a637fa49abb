// Telling a service manager how the mount is doing, through systemd's notification protocol
// ($NOTIFY_SOCKET, sent with libsystemd's sd_notify), so that a Type=notify unit is "active"
// exactly while the mount serves (docs/systemd.md):
//
//   STATUS=opening REPO ...           while the repository is opened and the kernel mount made
//   READY=1                           once the kernel mount answers and MOUNTPOINT/snapshots/ has
//                                     been listed through it
//   WATCHDOG=1                        every half of WATCHDOG_USEC (WatchdogSec=), each after a
//                                     statfs of the mount was answered, so a hung mount stops
//                                     the pings and systemd restarts it
//   STOPPING=1                        when the FUSE loop ends (SIGTERM, unmount), before the
//                                     kernel mount is removed
//
// Everything is a no-op when $NOTIFY_SOCKET is unset (strata run by hand, by mount(8), by a
// .mount unit), so callers need not check.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace strata::fs {

// Watchdog pings go out at this fraction of the interval the manager asked for: the usual margin
// (sd_watchdog_enabled(3)), so one late ping on a loaded machine does not get a healthy mount
// killed.
inline constexpr std::uint64_t kWatchdogPingsPerInterval = 2;

class ServiceNotifier {
  public:
    // Reads $NOTIFY_SOCKET and the watchdog request ($WATCHDOG_USEC, which applies only when
    // $WATCHDOG_PID is unset or this process) once. `mountpoint` must be absolute.
    explicit ServiceNotifier(std::string mountpoint);
    // Stops and joins the readiness/watchdog thread, sending nothing. Destroy only after the
    // kernel mount is gone: the thread may be waiting for an answer from the mount, which ends
    // only with the mount.
    ~ServiceNotifier();
    ServiceNotifier(const ServiceNotifier&) = delete;
    ServiceNotifier& operator=(const ServiceNotifier&) = delete;

    bool enabled() const { return enabled_; }
    std::uint64_t watchdog_usec() const { return watchdog_usec_; }

    // STATUS=text (what `systemctl status` shows). Any thread.
    void status(const std::string& text);

    // The kernel's INIT request has been answered. Called from inside that request, so it does
    // not touch the mount itself: it starts a thread that lists MOUNTPOINT/snapshots/ through the
    // kernel, then sends READY=1 (with a STATUS), then the watchdog pings if asked for. If the
    // listing fails, it sends a STATUS saying why and no READY=1 (the unit's start times out).
    // At most once.
    void mount_answered();

    // For `strata mount` without -f under a Type=notify unit: run by the process that forked the
    // serving one, once that one reports the mount ready. Lists MOUNTPOINT/snapshots/ and sends
    // READY=1 with MAINPID=serving_pid, so the manager follows the serving process. Returns false
    // (and sends a STATUS) if the listing fails.
    bool ready_handed_over(pid_t serving_pid);

    // STOPPING=1 and no more pings. Any thread; idempotent.
    void stopping();

  private:
    // Lists MOUNTPOINT/snapshots/ through the kernel; "" on success, else what failed.
    std::string list_snapshots() const;
    void run_after_init();
    bool send(const std::string& message);

    const std::string mountpoint_;
    bool enabled_ = false;
    std::uint64_t watchdog_usec_ = 0;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace strata::fs
