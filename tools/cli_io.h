// What every subcommand writes to and how it ends: the output streams and the exit codes
// (docs/cli.md): 0 ok, 1 failure, 2 usage error, 3 snapshot saved but some files could not be read.
#pragma once

#include <iosfwd>

namespace strata::cli {

enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2, kPartial = 3 };

struct CliIo {
    std::ostream& out;
    std::ostream& err;
    bool err_is_tty = false;  // progress lines only on a terminal
    int out_fd = 1;           // where `cat` writes file contents
};

}  // namespace strata::cli
