// The test plays systemd: it listens on a NOTIFY_SOCKET of its own (a unix datagram socket, with
// the sender's credentials attached as systemd asks for them), starts `strata mount` the way a
// Type=notify unit does, and checks what arrives when: STATUS while opening, READY=1 only once
// snapshots/ has been listed through the kernel, WATCHDOG=1 pings when asked for, STOPPING=1 on
// SIGTERM, and the mount gone afterwards. Also: the hand-over to a forked server (no -f), and the
// capability bounding set and no_new_privs of strata-mount@.service.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "tests/e2e/systemd_test_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Notification {
    std::string text;
    pid_t sender = 0;
    Clock::time_point at;
    bool has(const std::string& line) const {
        return ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos;
    }
    std::string field(const std::string& name) const {
        std::istringstream in(text);
        std::string l;
        while (std::getline(in, l))
            if (l.rfind(name + "=", 0) == 0) return l.substr(name.size() + 1);
        return "";
    }
};

// A notification socket bound at `address` (a path, or "@name" in the abstract namespace).
class NotifySocket {
  public:
    explicit NotifySocket(const std::string& address) : address_(address) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, address.data(), address.size());
        if (address[0] == '@') sa.sun_path[0] = '\0';
        socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len) != 0)
            throw std::runtime_error("bind " + address + ": " + std::strerror(errno));
        int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    }
    ~NotifySocket() { ::close(fd_); }
    const std::string& address() const { return address_; }

    std::optional<Notification> receive(std::chrono::milliseconds limit) {
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(limit.count())) != 1) return std::nullopt;
        char buf[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec iov{buf, sizeof buf};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(fd_, &msg, 0);
        if (n < 0) return std::nullopt;
        Notification note{std::string(buf, static_cast<std::size_t>(n)), 0, Clock::now()};
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred cred;
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                note.sender = cred.pid;
            }
        all.push_back(note);
        return note;
    }
    // Receives until a notification holds `line` (e.g. "READY=1"); nullopt after `limit`.
    std::optional<Notification> wait_for(const std::string& line, std::chrono::milliseconds limit) {
        auto deadline = Clock::now() + limit;
        while (Clock::now() < deadline) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            auto note = receive(std::max(left, 1ms));
            if (note && note->has(line)) return note;
        }
        return std::nullopt;
    }
    std::string transcript() const {
        std::string out;
        for (const auto& n : all) out += "[" + std::to_string(n.sender) + "] " + n.text + "\n";
        return out;
    }

    std::vector<Notification> all;

  private:
    std::string address_;
    int fd_ = -1;
};

// `sh -c SCRIPT` with NOTIFY_SOCKET set; standard error to `log`.
pid_t spawn_shell(const std::string& script, const std::vector<std::string>& env) {
    pid_t pid = ::fork();
    if (pid == 0) {
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return pid;
}

int wait_status(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        if (Clock::now() > deadline) return -1;
        std::this_thread::sleep_for(10ms);
    }
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

class SystemdNotify : public ::testing::Test {
  protected:
    void SetUp() override {
        SKIP_IF_REASON(why_no_system_mount());
        ASSERT_FALSE(sample.snapshot_id.empty());
        log = sample.dir / "mount.log";
    }
    void TearDown() override {
        unmount(sample.mnt);
        for (pid_t p : started)
            if (::waitpid(p, nullptr, WNOHANG) == 0) {
                ::kill(p, SIGKILL);
                ::waitpid(p, nullptr, 0);
            }
    }
    // `strata mount ARGS REPO MNT` as a unit's ExecStart would run it.
    pid_t start(const std::string& args, const std::vector<std::string>& env) {
        std::string script = "exec " + strata_binary() + " mount " + args + " '" + sample.repo +
                             "' '" + sample.mnt + "' 2>'" + log + "'";
        pid_t pid = spawn_shell(script, env);
        started.push_back(pid);
        return pid;
    }

    SampleRepository sample;
    std::string log;
    std::vector<pid_t> started;
};

TEST_F(SystemdNotify, ReadyOnlyAfterSnapshotsListedThenStoppingOnSigterm) {
    NotifySocket notify(sample.dir / "notify");
    // -d: libfuse traces every request, so the test can see what the mount was asked before READY.
    pid_t pid = start("-d", {"NOTIFY_SOCKET=" + notify.address()});

    auto ready = notify.wait_for("READY=1", 20s);
    // The trace as it was when READY=1 arrived, before this test touched the mount.
    std::string trace = read_file(log);
    ASSERT_TRUE(ready) << "no READY=1; got:\n" << notify.transcript() << trace;
    // At READY=1, with no retrying: mounted, and snapshots/ lists.
    EXPECT_FALSE(strata_mount_line(sample.mnt).empty());
    std::vector<std::string> names = list_dir(sample.mnt + "/snapshots");
    EXPECT_EQ(names.size(), 2u) << notify.transcript();
    EXPECT_EQ(ready->sender, pid);
    EXPECT_NE(ready->field("STATUS").find("serving at " + sample.mnt), std::string::npos)
        << ready->text;

    // Before READY=1 the mount listed snapshots/ through the kernel itself: nobody else had
    // touched the mount, and the trace already holds OPENDIR and READDIR(PLUS) requests.
    bool opendir = false, readdir = false;
    std::istringstream lines(trace);
    for (std::string l; std::getline(lines, l);) {
        opendir = opendir || l.find("opcode: OPENDIR") != std::string::npos;
        readdir = readdir || l.find("opcode: READDIR") != std::string::npos;
    }
    EXPECT_TRUE(opendir && readdir) << "READY=1 came before the mount listed snapshots/ itself:\n"
                                    << trace;

    // STATUS came first, while opening.
    ASSERT_FALSE(notify.all.empty());
    EXPECT_FALSE(notify.all.front().field("STATUS").empty()) << notify.transcript();
    EXPECT_FALSE(notify.all.front().has("READY=1")) << notify.transcript();

    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    auto stopping = notify.wait_for("STOPPING=1", 10s);
    EXPECT_TRUE(stopping) << notify.transcript();
    int status = wait_status(pid, 10s);
    ASSERT_NE(status, -1) << "still running 10 s after SIGTERM";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log);
    EXPECT_TRUE(strata_mount_line(sample.mnt).empty()) << "still mounted after the process ended";
}

// A directory still open when SIGTERM comes: its RELEASEDIR reaches a session that has ended, so
// the mount frees the handle itself (the sanitizer build's leak check fails this test otherwise).
TEST_F(SystemdNotify, StopsCleanlyOnSigtermWithADirectoryStillOpen) {
    NotifySocket notify(sample.dir / "notify");
    pid_t pid = start("-f", {"NOTIFY_SOCKET=" + notify.address()});
    ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << notify.transcript() << read_file(log);
    DIR* open_dirs[2] = {::opendir((sample.mnt + "/snapshots").c_str()),
                         ::opendir((sample.mnt + "/history").c_str())};
    for (DIR* d : open_dirs) {
        ASSERT_NE(d, nullptr) << std::strerror(errno);
        ASSERT_NE(::readdir(d), nullptr);
    }
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    int status = wait_status(pid, 10s);
    ASSERT_NE(status, -1) << "still running 10 s after SIGTERM";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "status " << status << "\n" << read_file(log);
    for (DIR* d : open_dirs) ::closedir(d);
    EXPECT_TRUE(strata_mount_line(sample.mnt).empty()) << "still mounted after the process ended";
}

TEST_F(SystemdNotify, WatchdogPingsWhenAskedAndOnlyForItsOwnPid) {
    NotifySocket notify("@strata-notify-test-" + std::to_string(::getpid()));  // abstract address
    // WATCHDOG_PID must be the process itself: the shell exports its own pid, then execs strata.
    pid_t pid = spawn_shell("export WATCHDOG_PID=$$; exec " + strata_binary() + " mount -f '" +
                                sample.repo + "' '" + sample.mnt + "' 2>'" + log + "'",
                            {"NOTIFY_SOCKET=" + notify.address(), "WATCHDOG_USEC=200000"});
    started.push_back(pid);
    ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << notify.transcript() << read_file(log);
    int pings = 0;
    auto until = Clock::now() + 1s;
    while (Clock::now() < until)
        if (auto n = notify.receive(100ms); n && n->has("WATCHDOG=1")) ++pings;
    // Every 100 ms (half of 200 ms): about 10 in a second; at least 4 even on a loaded machine.
    EXPECT_GE(pings, 4) << notify.transcript();
    ::kill(pid, SIGTERM);
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 10s)) << notify.transcript();
    EXPECT_NE(wait_status(pid, 10s), -1);
    // Nothing after STOPPING=1.
    std::size_t after = 0;
    bool seen_stop = false;
    for (const auto& n : notify.all) {
        if (seen_stop && n.has("WATCHDOG=1")) ++after;
        seen_stop = seen_stop || n.has("STOPPING=1");
    }
    EXPECT_EQ(after, 0u) << notify.transcript();

    // A watchdog meant for another process (WATCHDOG_PID) is not ours to feed.
    NotifySocket other(sample.dir / "notify2");
    pid_t pid2 =
        start("-f", {"NOTIFY_SOCKET=" + other.address(), "WATCHDOG_USEC=200000", "WATCHDOG_PID=1"});
    ASSERT_TRUE(other.wait_for("READY=1", 20s)) << other.transcript() << read_file(log);
    EXPECT_FALSE(other.wait_for("WATCHDOG=1", 700ms)) << other.transcript();
    ::kill(pid2, SIGTERM);
    EXPECT_NE(wait_status(pid2, 10s), -1);
}

TEST_F(SystemdNotify, WithoutForegroundTheServingProcessIsHandedOver) {
    NotifySocket notify(sample.dir / "notify");
    pid_t pid = start("", {"NOTIFY_SOCKET=" + notify.address()});
    auto ready = notify.wait_for("READY=1", 20s);
    ASSERT_TRUE(ready) << notify.transcript() << read_file(log);
    // Sent by the process systemd started, naming the forked one that serves.
    EXPECT_EQ(ready->sender, pid);
    pid_t server = static_cast<pid_t>(std::stol("0" + ready->field("MAINPID")));
    ASSERT_GT(server, 0) << ready->text;
    EXPECT_NE(server, pid);
    int status = wait_status(pid, 10s);
    EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_TRUE(alive(server));
    EXPECT_EQ(list_dir(sample.mnt + "/snapshots").size(), 2u);

    ASSERT_EQ(::kill(server, SIGTERM), 0);
    auto stopping = notify.wait_for("STOPPING=1", 10s);
    ASSERT_TRUE(stopping) << notify.transcript();
    EXPECT_EQ(stopping->sender, server);
    for (int i = 0; i < 200 && alive(server); ++i) std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(alive(server));
    EXPECT_TRUE(strata_mount_line(sample.mnt).empty());
}

TEST_F(SystemdNotify, NoSocketNoMessagesAndTheMountStillWorks) {
    // With NOTIFY_SOCKET unset nothing is sent anywhere and nothing waits for a listener.
    NotifySocket notify(sample.dir / "notify");
    pid_t pid = start("-f", {"NOTIFY_SOCKET"});
    for (int i = 0; i < 300 && strata_mount_line(sample.mnt).empty(); ++i)
        std::this_thread::sleep_for(20ms);
    EXPECT_EQ(list_dir(sample.mnt + "/snapshots").size(), 2u);
    EXPECT_FALSE(notify.receive(300ms)) << notify.transcript();
    ::kill(pid, SIGTERM);
    int status = wait_status(pid, 10s);
    EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(SystemdNotify, ServesUnderTheUnitsCapabilitiesAndNoNewPrivileges) {
    SKIP_IF_REASON(on_path("setpriv") ? "" : "setpriv (util-linux) is not installed");
    InstalledTree tree;
    ASSERT_INSTALLED(tree);
    std::string caps = bounding_set_of(tree.unit_dir() + "/strata-mount@.service");
    ASSERT_NE(caps, "-all") << "no CapabilityBoundingSet= in the unit";
    NotifySocket notify(sample.dir / "notify");
    pid_t pid = spawn_shell("exec setpriv --no-new-privs --inh-caps=-all --bounding-set=" + caps +
                                " " + tree.strata() + " mount -f '" + sample.repo + "' '" +
                                sample.mnt + "' -o allow_other 2>'" + log + "'",
                            {"NOTIFY_SOCKET=" + notify.address()});
    started.push_back(pid);
    ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << caps << "\n"
                                                 << notify.transcript() << read_file(log);
    EXPECT_EQ(read_file(sample.mnt + "/snapshots/latest/hello.txt"), "hello from strata\n");
    std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
    ::kill(pid, SIGTERM);
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 10s)) << notify.transcript();
    int st = wait_status(pid, 10s);
    EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << read_file(log);
    EXPECT_TRUE(strata_mount_line(sample.mnt).empty());
}

}  // namespace
}  // namespace strata::testing
