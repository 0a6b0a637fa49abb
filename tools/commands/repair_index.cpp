#include <iostream>

#include "store/maintenance/repair.h"
#include "tools/command.h"

namespace strata::cli {

int cmd_repair_index(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata repair-index REPO");
    add_common_options(opts, false);
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    auto repo = Repository::open_for_repair(repo_dir);
    auto r = rebuild_index(*repo);
    compact_index(*repo, io);
    for (const auto& p : r.problems) io.err << "problem: " << p << "\n";
    io.out << "index rebuilt: " << r.packs << " packs, " << r.blobs << " blobs, " << r.snapshots
           << " snapshots\n";
    return r.problems.empty() ? kOk : kFailure;
}

}  // namespace strata::cli
