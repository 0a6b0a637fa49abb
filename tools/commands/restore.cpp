#include "store/restore/restore.h"

#include <iostream>

#include "store/repo/repository.h"
#include "tools/command.h"

namespace strata::cli {

int cmd_restore(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata restore REPO SNAPSHOT TARGET");
    add_common_options(opts, false);
    RestoreOptions ro;
    opts.add_options()("path", po::value<std::string>(&ro.subpath),
                       "restore only this path of the snapshot")(
        "overwrite", po::bool_switch(&ro.overwrite), "replace files that exist in TARGET")(
        "no-owner", "do not set owners (the default when not root)");
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.size() != 2) throw UsageError("need SNAPSHOT and TARGET");
    if (vm.count("no-owner")) ro.owners = false;
    auto repo = Repository::open(repo_dir);
    auto all = repo->snapshots();
    const Snapshot& snap = resolve_snapshot(all, pos[0]);
    ro.on_warning = [&io](const std::string& p, const std::string& why) {
        io.err << "warning: " << printable(p) << ": " << why << "\n";
    };
    RestoreStats st = restore(*repo, snap, pos[1], ro);
    io.err << "restored " << st.files << " files, " << st.dirs << " dirs, " << st.other
           << " other entries, " << format_size(st.bytes) << " from snapshot "
           << snap.id.short_hex() << " into " << pos[1] << "\n";
    return st.warnings ? kPartial : kOk;
}

}  // namespace strata::cli
