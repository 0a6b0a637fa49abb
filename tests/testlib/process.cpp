#include "tests/testlib/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "tests/testlib/temp_dir.h"

namespace strata::testing {

std::string strata_binary() { return STRATA_BINARY; }

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    const char* base = std::getenv("TMPDIR");
    std::string dir = base && *base ? base : "/tmp";
    std::string out_tmpl = dir + "/strata-out-XXXXXX", err_tmpl = dir + "/strata-err-XXXXXX";
    int out_fd = ::mkstemp(out_tmpl.data());
    int err_fd = ::mkstemp(err_tmpl.data());
    if (out_fd < 0 || err_fd < 0) throw std::runtime_error("mkstemp failed: " + std::string(std::strerror(errno)));
    out_path_ = out_tmpl;
    err_path_ = err_tmpl;
    // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
    if (pid_ == 0) {
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        // Nothing else the test process (or whatever started it) holds open reaches the child:
        // programs run as they would from a clean shell, and descriptor-limit tests count right.
        ::close_range(3, ~0u, 0);
        // putenv("NAME") without '=' removes NAME (glibc).
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        int status;
        ::waitpid(pid_, &status, 0);
    }
    if (!out_path_.empty()) ::unlink(out_path_.c_str());
    if (!err_path_.empty()) ::unlink(err_path_.c_str());
}

bool ChildProcess::running() {
    if (reaped_) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        reaped_ = true;
        status_ = status;
        return false;
    }
    return true;
}

void ChildProcess::kill(int sig) {
    if (!reaped_) ::kill(pid_, sig);
}

RunResult ChildProcess::wait() {
    if (!reaped_) {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
        status_ = status;
    }
    RunResult r;
    if (WIFEXITED(status_)) r.exit_code = WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) r.signal = WTERMSIG(status_);
    r.out = read_file(out_path_);
    r.err = read_file(err_path_);
    return r;
}

RunResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    ChildProcess child(argv, env);
    return child.wait();
}

RunResult run_strata(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<std::string> argv{strata_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, env);
}

std::string describe(const RunResult& r) {
    std::string s = r.signal ? "killed by signal " + std::to_string(r.signal)
                             : "exit code " + std::to_string(r.exit_code);
    return s + "\n--- stdout:\n" + r.out.substr(0, 4000) + "\n--- stderr:\n" + r.err.substr(0, 4000);
}

}  // namespace strata::testing
