#include "tests/testlib/mount_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/testlib/process.h"
#include "tests/testlib/temp_dir.h"

namespace strata::testing {

using namespace std::chrono_literals;

bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':'))
        if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    return false;
}

std::string why_no_fuse() {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) return "/dev/fuse is missing or not accessible";
    if (!on_path("fusermount3")) return "fusermount3 is not installed";
    return "";
}

std::string strata_mount_line(const std::string& mountpoint) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string id, parent, dev, root, point;
        f >> id >> parent >> dev >> root >> point;
        if (point == mountpoint && line.find(" - fuse.strata ") != std::string::npos) return line;
    }
    return "";
}

void unmount(const std::string& mountpoint) {
    for (int i = 0; i < 10 && is_mounted(mountpoint); ++i) {
        run_process({"fusermount3", "-u", mountpoint});
        if (is_mounted(mountpoint)) std::this_thread::sleep_for(200ms);
    }
    if (is_mounted(mountpoint)) run_process({"fusermount3", "-u", "-z", mountpoint});
}

int wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(20ms);
    }
}

pid_t spawn_with_log(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

MountProcess::MountProcess(const std::string& repo, const std::string& mountpoint,
                           std::vector<std::string> extra)
    : mountpoint_(mountpoint), log_path_(mountpoint + ".log") {
    std::vector<std::string> argv{strata_binary(), "mount", "-f", repo, mountpoint};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = spawn_with_log(argv, log_path_);
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!is_mounted(mountpoint_)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("strata mount exited before mounting: " + log());
        }
        if (std::chrono::steady_clock::now() > deadline) {
            stop();
            throw std::runtime_error("not mounted after 15 s: " + log());
        }
        std::this_thread::sleep_for(20ms);
    }
    struct stat st;
    ::stat(mountpoint_.c_str(), &st);  // returns once the filesystem answers
}

MountProcess::~MountProcess() { stop(); }

int MountProcess::stop() {
    if (pid_ < 0) return exit_status_;
    unmount(mountpoint_);
    exit_status_ = wait_for_exit(pid_, 10s);
    if (exit_status_ == -1) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    return exit_status_;
}

int MountProcess::wait(std::chrono::milliseconds limit) {
    if (pid_ < 0) return exit_status_;
    int status = wait_for_exit(pid_, limit);
    if (status != -1) {
        exit_status_ = status;
        pid_ = -1;
    }
    return status;
}

std::string MountProcess::log() const { return read_file(log_path_); }

}  // namespace strata::testing
