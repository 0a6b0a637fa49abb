// Running the strata binary (or any program) as a child process, for end-to-end tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace strata::testing {

struct RunResult {
    int exit_code = -1;  // -1 if killed by a signal
    int signal = 0;
    std::string out, err;
};

// A child started without waiting for it, so a test can kill it part-way (crash tests).
// `env` entries are "NAME=value" to set, or "NAME" alone to remove NAME from the environment.
// Standard input is /dev/null; standard output and error are captured into temporary files.
class ChildProcess {
public:
    explicit ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
    ~ChildProcess();  // kills (SIGKILL) and reaps a child still running, removes the captures
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    // True until the child has exited (reaps it when it has).
    bool running();
    void kill(int sig);
    // Waits for the child and returns its exit status and output. Call once.
    RunResult wait();

private:
    void collect(int status);
    pid_t pid_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::string out_path_, err_path_;
};

// Runs `argv` with extra environment entries (as for ChildProcess), waits, captures output.
RunResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
// Runs the strata binary built with the tests.
RunResult run_strata(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
std::string strata_binary();

// Exit status and output of a run, for assertion messages.
std::string describe(const RunResult& r);

}  // namespace strata::testing
