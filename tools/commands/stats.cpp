#include "store/maintenance/stats.h"

#include <cstdio>
#include <iomanip>
#include <iostream>

#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {
namespace {

std::string ratio(double r) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", r);
    return buf;
}

Json snapshot_stats_json(const SnapshotStats& s, bool with_refs) {
    Json j = snapshot_json(s.snapshot);
    j["logical_bytes"] = s.logical_bytes;
    j["exclusive_blobs"] = s.exclusive_blobs;
    j["exclusive_raw_bytes"] = s.exclusive_raw_bytes;
    j["exclusive_stored_bytes"] = s.exclusive_stored_bytes;
    if (with_refs) {
        j["referenced_blobs"] = s.blobs;
        j["referenced_raw_bytes"] = s.raw_bytes;
        j["referenced_stored_bytes"] = s.stored_bytes;
    }
    return j;
}

}  // namespace

int cmd_stats(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata stats REPO [SNAPSHOT]");
    add_common_options(opts, true);
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.size() > 1) throw UsageError("unexpected argument \"" + pos[1] + "\"");
    const bool json = vm.count("json") > 0;
    auto repo = Repository::open(repo_dir);
    StatsOptions so;
    if (!pos.empty()) so.only = resolve_snapshot(repo->snapshots(), pos[0]).id;
    if (io.err_is_tty && !json) {
        so.on_progress = [&io](const StatsProgress& p) {
            io.err << "\r\033[K" << p.snapshots_done << "/" << p.snapshots_total << " snapshots, "
                   << p.trees << " trees" << std::flush;
        };
    }
    RepositoryStats st = compute_stats(*repo, so);
    if (io.err_is_tty && !json) io.err << "\r\033[K" << std::flush;

    if (json) {
        Json j;
        j["encryption"] = repo->config().encryption();
        j["snapshots"] = st.snapshots;
        j["files"] = st.files;
        j["logical_bytes"] = st.logical_bytes;
        j["blobs"] = st.blobs;
        j["raw_bytes"] = st.raw_bytes;
        j["data_raw_bytes"] = st.data_raw_bytes;
        j["stored_bytes"] = st.stored_bytes;
        j["packs"] = st.packs;
        j["pack_bytes"] = st.pack_bytes;
        j["unreferenced_blobs"] = st.unreferenced_blobs;
        j["unreferenced_stored_bytes"] = st.unreferenced_stored_bytes;
        j["missing_blobs"] = st.missing_blobs;
        j["dedup_ratio"] = st.dedup_ratio();
        j["compression_ratio"] = st.compression_ratio();
        j["per_snapshot"] = Json::array();
        for (const auto& s : st.per_snapshot)
            j["per_snapshot"].push_back(snapshot_stats_json(s, so.only.has_value()));
        io.out << dump(j) << "\n";
        return kOk;
    }
    io.out << "encryption         "
           << (repo->config().unlocked ? repo->config().encryption()
                                       : std::string("none: stored in the clear"))
           << "\n"
           << "snapshots          " << st.snapshots << " (" << st.files << " files in all)\n"
           << "logical size       " << format_size(st.logical_bytes)
           << "  (every snapshot's files, as a restore of each would write them)\n"
           << "unique content     " << format_size(st.raw_bytes) << " in " << st.blobs
           << " blobs  (after deduplication, before compression)\n"
           << "stored             " << format_size(st.stored_bytes) << " in blobs, "
           << format_size(st.pack_bytes) << " in " << st.packs << " pack files\n"
           << "dedup ratio        " << ratio(st.dedup_ratio()) << "\n"
           << "compression ratio  " << ratio(st.compression_ratio()) << "\n"
           << "unreferenced       " << format_size(st.unreferenced_stored_bytes) << " in "
           << st.unreferenced_blobs << " blobs  (`strata prune` frees these)\n";
    if (st.missing_blobs)
        io.out << "missing            " << st.missing_blobs
               << " referenced blobs are not in the index "
               << "(run `strata verify`)\n";
    if (so.only) {
        const auto& s = st.per_snapshot.front();
        io.out << "\nsnapshot " << s.snapshot.id.short_hex() << "\n"
               << "  logical size     " << format_size(s.logical_bytes) << " (" << s.files
               << " files)\n"
               << "  references       " << format_size(s.stored_bytes) << " stored ("
               << format_size(s.raw_bytes) << " raw) in " << s.blobs << " blobs\n"
               << "  only it holds    " << format_size(s.exclusive_stored_bytes) << " stored in "
               << s.exclusive_blobs << " blobs  (what forgetting it and pruning frees)\n";
        return kOk;
    }
    io.out << "\nper snapshot (ONLY IT = stored bytes no other snapshot uses: what forgetting it "
              "frees):\n"
           << std::left << std::setw(10) << "ID" << std::setw(22) << "TIME" << std::right
           << std::setw(12) << "LOGICAL" << std::setw(12) << "ONLY IT"
           << "\n";
    for (const auto& s : st.per_snapshot)
        io.out << std::left << std::setw(10) << s.snapshot.id.short_hex() << std::setw(22)
               << format_time_utc(s.snapshot.rec.time_sec, s.snapshot.rec.time_nsec, false)
               << std::right << std::setw(12) << format_size(s.logical_bytes) << std::setw(12)
               << format_size(s.exclusive_stored_bytes) << "\n";
    return kOk;
}

}  // namespace strata::cli
