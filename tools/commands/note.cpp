#include <iostream>

#include "store/maintenance/annotate.h"
#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {

int cmd_note(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata note REPO SNAPSHOT TEXT");
    add_common_options(opts, true);
    double lock_wait = 0;
    opts.add_options()("lock-wait", po::value<double>(&lock_wait),
                       "wait up to SECONDS for another writer to finish");
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.size() != 2) throw UsageError("need SNAPSHOT and TEXT (\"\" clears the note)");
    auto repo = open_rebuilding_index(repo_dir, "note", lock_wait, io);
    const Annotated a = set_snapshot_note(*repo, pos[0], pos[1], lock_wait);
    const Snapshot& old = a.old;
    const BlobId& id = a.id;
    const SnapshotRecord& rec = a.rec;
    if (vm.count("json")) {
        Json j = snapshot_json({id, rec});
        j["replaces"] = old.id.hex();
        io.out << dump(j) << "\n";
    } else if (id == old.id) {
        io.out << "snapshot " << old.id.short_hex() << " unchanged\n";
    } else {
        io.out << "snapshot " << old.id.short_hex() << " is now " << id.short_hex() << "\n";
    }
    return kOk;
}

}  // namespace strata::cli
