// The `strata` command as a function: tests run it in-process with captured streams; main() is a
// thin wrapper.
#pragma once

#include <string>
#include <vector>

#include "tools/cli_io.h"

namespace strata::cli {

// Runs `strata <args...>` (args excludes the program name). Never throws.
int run(const std::vector<std::string>& args, CliIo& io);

}  // namespace strata::cli
