// Running the strata binary (or any program) as a child process, for end-to-end tests.
#pragma once

#include <string>
#include <vector>

namespace strata::testing {

struct RunResult {
    int exit_code = -1;  // -1 if killed by a signal
    int signal = 0;
    std::string out, err;
};

// Runs `argv` with extra environment entries ("NAME=value"), waits, captures output.
RunResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
// Runs the strata binary built with the tests.
RunResult run_strata(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
std::string strata_binary();

}  // namespace strata::testing
