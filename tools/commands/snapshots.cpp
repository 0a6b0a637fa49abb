#include <iomanip>
#include <iostream>

#include "store/repo/repository.h"
#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {

static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

int cmd_snapshots(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata snapshots REPO");
    add_common_options(opts, true);
    add_filter_options(opts);
    std::vector<std::string> pos;
    auto vm = parse(args, opts, pos);
    if (vm.count("help")) {
        io.out << opts;
        return kOk;
    }
    std::string repo_dir = repo_path(vm, pos);
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    auto repo = Repository::open(repo_dir);
    const SnapshotFilter filter = filter_from(vm);
    auto all = filter.select(repo->snapshots());
    if (vm.count("json")) {
        Json j = Json::array();
        for (const auto& s : all) j.push_back(snapshot_json(s));
        io.out << dump(j) << "\n";
        return kOk;
    }
    io.out << std::left << std::setw(10) << "ID" << std::setw(22) << "TIME" << std::setw(14) << "HOST"
           << std::setw(28) << "PATHS" << std::setw(14) << "TAGS" << std::right << std::setw(9) << "FILES"
           << std::setw(12) << "SIZE" << std::setw(12) << "ADDED" << "\n";
    for (const auto& s : all) {
        const auto& r = s.rec;
        io.out << std::left << std::setw(10) << s.id.short_hex() << std::setw(22)
               << format_time_utc(r.time_sec, r.time_nsec, false) << std::setw(14) << printable(r.host)
               << std::setw(28) << printable(join(r.paths)) << std::setw(14) << join(r.tags) << std::right
               << std::setw(9) << r.files << std::setw(12) << format_size(r.bytes) << std::setw(12)
               << format_size(r.bytes_added) << (r.partial ? "  (partial)" : "") << "\n";
    }
    io.out << all.size() << " snapshot" << (all.size() == 1 ? "" : "s") << "\n";
    return kOk;
}

}  // namespace strata::cli
