#include <algorithm>
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
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
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
    // Each column as wide as its widest cell, two spaces between columns: a long host name or
    // path list pushes the columns after it right instead of running into them.
    const std::vector<std::string> header = {"ID",   "TIME",  "HOST", "PATHS",
                                             "TAGS", "FILES", "SIZE", "ADDED"};
    const std::size_t first_right = 5;  // FILES, SIZE and ADDED are numbers: right-aligned
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : all) {
        const auto& r = s.rec;
        rows.push_back({s.id.short_hex(), format_time_utc(r.time_sec, r.time_nsec, false),
                        printable(r.host), printable(join(r.paths)), printable(join(r.tags)),
                        std::to_string(r.files), format_size(r.bytes), format_size(r.bytes_added)});
    }
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
        width[c] = display_width(header[c]);
        for (const auto& row : rows) width[c] = std::max(width[c], display_width(row[c]));
    }
    auto print_row = [&](const std::vector<std::string>& cells, const char* suffix) {
        std::string line;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            const std::string pad(width[c] - display_width(cells[c]), ' ');
            if (c) line += "  ";
            line += c < first_right ? cells[c] + (c + 1 < cells.size() ? pad : "") : pad + cells[c];
        }
        io.out << line << suffix << "\n";
    };
    print_row(header, "");
    for (std::size_t i = 0; i < rows.size(); ++i)
        print_row(rows[i], all[i].rec.partial ? "  (partial)" : "");
    io.out << all.size() << " snapshot" << (all.size() == 1 ? "" : "s")
           << (repo->config().unlocked ? "" : " (the repository is not encrypted)") << "\n";
    return kOk;
}

}  // namespace strata::cli
