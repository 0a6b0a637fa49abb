#include "tests/testlib/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "tests/testlib/temp_dir.h"

extern char** environ;

namespace strata::testing {

std::string strata_binary() { return STRATA_BINARY; }

RunResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    char out_tmpl[] = "/tmp/strata-out-XXXXXX";
    char err_tmpl[] = "/tmp/strata-err-XXXXXX";
    int out_fd = ::mkstemp(out_tmpl), err_fd = ::mkstemp(err_tmpl);
    if (out_fd < 0 || err_fd < 0) throw std::runtime_error("mkstemp failed");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    RunResult r;
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    ::close(out_fd);
    ::close(err_fd);
    r.out = read_file(out_tmpl);
    r.err = read_file(err_tmpl);
    ::unlink(out_tmpl);
    ::unlink(err_tmpl);
    return r;
}

RunResult run_strata(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::vector<std::string> argv{strata_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, env);
}

}  // namespace strata::testing
