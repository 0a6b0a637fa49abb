#include "tools/command_output.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "store/base/errors.h"

extern char** environ;

namespace strata::cli {
namespace {

// How long a command the ingest no longer reads gets to end after SIGTERM (a database dump
// closing its connection) before SIGKILL.
constexpr std::chrono::seconds kTermGrace{5};

}  // namespace

CommandOutput::CommandOutput(std::vector<std::string> argv) : argv_(std::move(argv)) {
    if (argv_.empty()) throw_usage("no command to run");
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw_io("cannot make a pipe for " + argv_[0], errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears close-on-exec on the copy; the pipe's own two ends close at exec.
    posix_spawn_file_actions_adddup2(&actions, p[1], STDOUT_FILENO);
    std::vector<char*> args;
    for (auto& a : argv_) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, argv_[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(p[1]);
    if (rc != 0) {
        ::close(p[0]);
        pid_ = -1;
        throw_io("cannot run " + argv_[0], rc);
    }
    read_fd_ = p[0];
}

CommandOutput::~CommandOutput() {
    if (read_fd_ >= 0) ::close(read_fd_);
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    const auto until = std::chrono::steady_clock::now() + kTermGrace;
    while (std::chrono::steady_clock::now() < until) {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
}

void CommandOutput::wait_for_success() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    const int err = errno;
    pid_ = -1;
    if (r < 0) throw_io("cannot wait for " + argv_[0], err);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    std::string what = WIFEXITED(status)
                           ? "exited with status " + std::to_string(WEXITSTATUS(status))
                           : "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                 ::strsignal(WTERMSIG(status)) + ")";
    throw StoreError(StoreError::Kind::Io, argv_[0] + " " + what + "; no snapshot was saved");
}

}  // namespace strata::cli
