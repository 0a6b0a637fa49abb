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
    std::vector<std::string> pos;
    auto vm = parse(args, opts, pos);
    if (vm.count("help")) {
        io.out << opts;
        return kOk;
    }
    std::string repo = repo_path(vm, pos, false);
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    Repository::init(repo, init);
    io.out << "created strata repository at " << repo << "\n";
    return kOk;
}

}  // namespace strata::cli
