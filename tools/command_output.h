// A program run with its standard output on a pipe that strata reads: `strata ingest
// --stdin-from-command -- pg_dump mydb`. No shell: the arguments are the program's argv.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace strata::cli {

class CommandOutput {
  public:
    // Starts argv[0] (searched in $PATH) with `argv`, its standard output a pipe, standard input
    // and error those of strata. Throws StoreError (Io) when it cannot be started.
    explicit CommandOutput(std::vector<std::string> argv);
    // A command still running (the ingest failed before its end) gets its pipe closed and
    // SIGTERM, SIGKILL if it is still there 5 s later, and is reaped.
    ~CommandOutput();
    CommandOutput(const CommandOutput&) = delete;
    CommandOutput& operator=(const CommandOutput&) = delete;

    // The read end of the command's standard output.
    int fd() const { return read_fd_; }
    // Closes the pipe, waits for the command and throws StoreError (Io) unless it exited with
    // status 0: "NAME exited with status 3", "NAME was killed by signal 9 (Killed)".
    void wait_for_success();

  private:
    std::vector<std::string> argv_;
    pid_t pid_ = -1;
    int read_fd_ = -1;
};

}  // namespace strata::cli
