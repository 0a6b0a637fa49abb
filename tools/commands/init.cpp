#include <iostream>

#include "store/repo/repository.h"
#include "tools/command.h"

namespace strata::cli {

int cmd_init(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata init REPO");
    add_common_options(opts, false);
    InitOptions init = default_init_options();
    opts.add_options()("compression-level", po::value<int>(&init.zstd_level),
                       "zstd level for new blobs, 1-19 (default 3)");
    auto line = parse_command_line(args, opts, io, false);
    if (!line) return kOk;
    auto& [vm, pos, repo] = *line;
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    Repository::init(repo, init);
    io.out << "created strata repository at " << repo << "\n";
    return kOk;
}

}  // namespace strata::cli
