// Real FUSE mounts in tests: whether they can run here, whether a strata mount is in place, and
// unmounting that never leaves one behind. Shared by every test that mounts (fs/, e2e/).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace strata::testing {

// True if `program` is an executable in a directory of $PATH.
bool on_path(const std::string& program);

// Why real mounts cannot run here ("/dev/fuse is missing …", "fusermount3 is not installed"),
// or "" if they can.
std::string why_no_fuse();

// Skips the current test, printing the reason, where real mounts cannot run.
#define SKIP_WITHOUT_FUSE()                                                                          \
    do {                                                                                             \
        std::string strata_why_no_fuse = ::strata::testing::why_no_fuse();                           \
        if (!strata_why_no_fuse.empty()) GTEST_SKIP() << "real-mount test skipped: " << strata_why_no_fuse; \
    } while (0)

// The kernel's mount table line for `mountpoint` if a strata mount (fuse.strata) is there, else "".
std::string strata_mount_line(const std::string& mountpoint);
inline bool is_mounted(const std::string& mountpoint) { return !strata_mount_line(mountpoint).empty(); }

// Unmounts the strata mount at `mountpoint` if there is one: `fusermount3 -u` a few times (a busy
// mount may need a moment), then lazily, so nothing is left behind.
void unmount(const std::string& mountpoint);

// Starts `argv` with standard output and error to `log_path` and standard input from /dev/null.
pid_t spawn_with_log(const std::vector<std::string>& argv, const std::string& log_path);

// Waits up to `limit` for `pid` to exit; returns its wait status, or -1 if it is still running.
int wait_for_exit(pid_t pid, std::chrono::milliseconds limit);

// `strata mount -f REPO MOUNTPOINT [extra...]` for the lifetime of the object: the constructor
// returns once the filesystem answers (throws std::runtime_error, with the mount's log, if it
// exits first or is not mounted within 15 s); the destructor unmounts and reaps the process,
// killing it if it does not end within 10 s. Its output goes to MOUNTPOINT.log.
class MountProcess {
public:
    MountProcess(const std::string& repo, const std::string& mountpoint, std::vector<std::string> extra = {});
    ~MountProcess();
    MountProcess(const MountProcess&) = delete;
    MountProcess& operator=(const MountProcess&) = delete;

    // Unmounts and waits for the process to end; returns its wait status (-1 if it had to be killed).
    int stop();
    // Waits up to `limit` for the process to end by itself; returns its wait status, or -1.
    int wait(std::chrono::milliseconds limit);
    pid_t pid() const { return pid_; }
    std::string log() const;

private:
    std::string mountpoint_, log_path_;
    pid_t pid_ = -1;
    int exit_status_ = -1;
};

}  // namespace strata::testing
