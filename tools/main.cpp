// The `strata` program: raises the descriptor limit (deep trees are walked with one descriptor per
// level) and hands over to strata::cli::run.
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>

#include "tools/cli.h"

int main(int argc, char** argv) {
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::ios::sync_with_stdio(false);
    std::vector<std::string> args(argv + 1, argv + argc);
    strata::cli::CliIo io{std::cout, std::cerr, ::isatty(2) == 1, 1};
    int rc;
    try {
        rc = strata::cli::run(args, io);
    } catch (...) {
        std::cerr << "strata: unexpected internal error\n";
        rc = strata::cli::kFailure;
    }
    std::cout.flush();
    return rc;
}
