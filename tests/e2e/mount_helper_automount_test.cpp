// An fstab line with x-systemd.automount, with the test playing systemd's part: systemd mounts an
// autofs "direct" mount at the mountpoint whose daemon process group is its own, and runs mount
// helpers in that same process group (so the kernel does not hold the helper's own accesses to
// the mountpoint hostage to the mount it is making). A process elsewhere touches the mountpoint,
// the kernel holds it and sends a request, the helper runs, and once it returns systemd tells the
// kernel (AUTOFS_IOC_READY) and the held process continues into the new mount.
//
// This is where a mount helper can deadlock: if the mount's process leaves the process group
// (setsid) before the kernel mount exists, its own mount(2) waits for the pending automount,
// which waits for the helper, which waits for the mount to be ready.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/auto_fs.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e/systemd_test_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

// How long the helper may take before the test calls it a deadlock (it takes ~50 ms here).
constexpr auto kHelperLimit = 10s;

std::string why_no_autofs() {
    std::ifstream in("/proc/filesystems");
    std::string line;
    while (std::getline(in, line))
        if (line.find("\tautofs") != std::string::npos) return "";
    return "the kernel has no autofs (modprobe autofs4)";
}

// The autofs direct mount at `where`, as systemd's automount unit sets it up, undone in the
// destructor (with anything mounted over it).
class DirectAutomount {
  public:
    explicit DirectAutomount(const std::string& where) : where_(where) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        requests_ = p[0];
        std::string opts = "fd=" + std::to_string(p[1]) + ",pgrp=" + std::to_string(::getpgrp()) +
                           ",minproto=5,maxproto=5,direct";
        if (::mount("strata-test-automount", where.c_str(), "autofs", 0, opts.c_str()) != 0) {
            int err = errno;
            ::close(p[1]);
            throw std::runtime_error("cannot mount autofs at " + where + ": " + std::strerror(err));
        }
        ::close(p[1]);  // the kernel holds its own reference
        // We are in the daemon's process group, so opening the mountpoint does not trigger it.
        ioctl_fd_ = ::open(where.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ioctl_fd_ < 0) throw std::runtime_error("cannot open the autofs mount at " + where);
    }
    ~DirectAutomount() {
        unmount(where_);
        release_waiters();
        if (ioctl_fd_ >= 0) ::close(ioctl_fd_);
        ::umount2(where_.c_str(), MNT_DETACH);
        ::close(requests_);
    }

    // Waits up to `limit` for the kernel's request; returns its token, or -1.
    long next_request(std::chrono::milliseconds limit, int* type) {
        pollfd pfd{requests_, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(limit.count())) != 1) return -1;
        autofs_v5_packet_union packet{};
        ssize_t n = ::read(requests_, &packet, sizeof packet);
        if (n < static_cast<ssize_t>(sizeof packet.v5_packet)) return -1;
        *type = packet.hdr.type;
        return packet.v5_packet.wait_queue_token;
    }
    bool ready(long token) { return ::ioctl(ioctl_fd_, AUTOFS_IOC_READY, token) == 0; }
    // Catatonic mode: every held process gets an error and no more requests come.
    void release_waiters() {
        if (ioctl_fd_ >= 0) ::ioctl(ioctl_fd_, AUTOFS_IOC_CATATONIC, 0);
    }

  private:
    std::string where_;
    int requests_ = -1;
    int ioctl_fd_ = -1;
};

// `argv` in a process group of its own (an ordinary user of the mountpoint), output to `out`.
pid_t spawn_elsewhere(const std::vector<std::string>& argv, const std::string& out) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

int wait_status(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(10ms);
    }
}

TEST(MountHelperAutomount, FirstAccessMountsThroughTheHelperAndWaitsForIt) {
    SKIP_IF_REASON(why_no_system_mount());
    SKIP_IF_REASON(why_no_autofs());
    InstalledTree tree;
    ASSERT_INSTALLED(tree);
    SampleRepository sample;
    const std::string where = sample.mnt;

    DirectAutomount automount(where);
    const std::string listing = sample.dir / "listing.txt";
    pid_t user = spawn_elsewhere({"ls", where + "/snapshots"}, listing);

    int type = 0;
    long token = automount.next_request(10s, &type);
    ASSERT_GE(token, 0) << "no automount request after touching " << where;
    EXPECT_EQ(type, autofs_ptype_missing_direct);

    // What systemd's mount unit runs (fstab options included), in our process group.
    ChildProcess helper({tree.mount_helper(), sample.repo, where, "-o",
                         "ro,noauto,x-systemd.automount,x-systemd.idle-timeout=10min,allow_other"});
    auto deadline = std::chrono::steady_clock::now() + kHelperLimit;
    while (helper.running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    if (helper.running()) {
        automount.release_waiters();
        helper.kill(SIGKILL);
        RunResult r = helper.wait();
        ::kill(user, SIGKILL);
        ::waitpid(user, nullptr, 0);
        FAIL() << "mount.strata did not return within " << kHelperLimit.count()
               << " s under an automount: its mount process waited for the automount it was "
                  "making (it must stay in the helper's process group until the kernel mount "
                  "exists). stderr: "
               << r.err;
    }
    RunResult r = helper.wait();
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_FALSE(strata_mount_line(where).empty());
    ASSERT_TRUE(automount.ready(token)) << std::strerror(errno);

    int status = wait_status(user, 10s);
    ASSERT_NE(status, -1) << "the process that touched the mountpoint is still held";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(listing);
    std::string out = read_file(listing);
    EXPECT_NE(out.find("latest"), std::string::npos) << out;

    // Mounted now: another user goes straight in, with no new request.
    pid_t second =
        spawn_elsewhere({"cat", where + "/snapshots/latest/hello.txt"}, sample.dir / "cat.txt");
    EXPECT_EQ(automount.next_request(300ms, &type), -1) << "a second request for a mounted path";
    ASSERT_NE(wait_status(second, 10s), -1);
    EXPECT_EQ(read_file(sample.dir / "cat.txt"), "hello from strata\n");

    // What the idle timeout does: unmount. The mount process ends; the automount stays armed.
    RunResult umount = run_process({"umount", where});
    EXPECT_EQ(umount.exit_code, 0) << describe(umount);
    EXPECT_TRUE(strata_mount_line(where).empty());
}

}  // namespace
}  // namespace strata::testing
