#include <algorithm>
#include <iostream>

#include "store/maintenance/annotate.h"
#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {

int cmd_tag(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata tag REPO SNAPSHOT... --add TAG --remove TAG");
    add_common_options(opts, true);
    std::vector<std::string> add, remove;
    double lock_wait = 0;
    opts.add_options()("add", po::value<std::vector<std::string>>(&add), "add TAG (repeatable)")(
        "remove", po::value<std::vector<std::string>>(&remove), "remove TAG (repeatable)")(
        "lock-wait", po::value<double>(&lock_wait),
        "wait up to SECONDS for another writer to finish");
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.empty()) throw UsageError("no SNAPSHOT given");
    if (add.empty() && remove.empty())
        throw UsageError("nothing to do: pass --add TAG or --remove TAG");
    for (const auto& t : add)
        if (t.empty() || t.find(',') != std::string::npos)
            throw UsageError("a tag cannot be empty or contain a comma: \"" + t + "\"");
    auto repo = open_rebuilding_index(repo_dir, "tag", lock_wait, io);
    Json j = Json::array();
    tag_snapshots(*repo, pos, add, remove, lock_wait, [&](const Annotated& a) {
        const Snapshot& old = a.old;
        if (vm.count("json")) {
            Json e = snapshot_json({a.id, a.rec});
            e["replaces"] = old.id.hex();
            j.push_back(e);
            return;
        }
        std::string tags;
        for (const auto& t : a.rec.tags) tags += (tags.empty() ? "" : ",") + t;
        if (a.id == old.id)
            io.out << "snapshot " << old.id.short_hex() << " unchanged (tags: " << tags << ")\n";
        else
            io.out << "snapshot " << old.id.short_hex() << " is now " << a.id.short_hex()
                   << " (tags: " << (tags.empty() ? "none" : tags) << ")\n";
    });
    if (vm.count("json")) io.out << dump(j) << "\n";
    return kOk;
}

}  // namespace strata::cli
