#include "store/ingest/copy.h"

#include <cstdlib>
#include <filesystem>

#include "store/repo/repository.h"
#include "tools/command.h"
#include "tools/json.h"
#include "tools/password.h"

namespace strata::cli {

int cmd_copy(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts(
        "strata copy SRC DST [SNAPSHOT...]\n"
        "Copies snapshots (all, those named, or those the filters select) from the repository\n"
        "SRC into DST, either of them local or s3:...; only the data DST lacks is sent, and a\n"
        "copied snapshot keeps its id (between repositories with different keys, or from a\n"
        "plain one into an encrypted one, it is encrypted again and gets a new id). "
        "--password-file\n"
        "and STRATA_PASSWORD_* give DST's password; --from-password-file and\n"
        "STRATA_FROM_PASSWORD_* SRC's (default: the same as DST's)");
    add_common_options(opts, true);
    add_filter_options(opts);
    double lock_wait = 0;
    opts.add_options()("lock-wait", po::value<double>(&lock_wait),
                       "wait up to SECONDS for DST's writer lock")(
        "from-password-file", po::value<std::string>(),
        "SRC's password: the first line of FILE (default: $STRATA_FROM_PASSWORD_FILE, "
        "$STRATA_FROM_PASSWORD_COMMAND, $STRATA_FROM_PASSWORD, else DST's)");
    auto line = parse_command_line(args, opts, io, /*repo_must_exist=*/false);
    if (!line) return kOk;
    auto& [vm, pos, source_location] = *line;
    if (pos.empty()) throw UsageError("no destination: strata copy SRC DST [SNAPSHOT...]");
    const std::string destination_location = pos.front();
    const std::vector<std::string> names(pos.begin() + 1, pos.end());
    const bool json = vm.count("json") > 0;
    const SnapshotFilter filter = filter_from(vm);

    // SRC is opened with its own password sources, if it has any, then DST with the usual ones.
    const StorageOptions usual = storage_options();
    PasswordPlace from{"", "--from-password-file", "STRATA_FROM_"};
    if (vm.count("from-password-file"))
        from.file = std::filesystem::absolute(vm["from-password-file"].as<std::string>()).string();
    if (!from.file.empty() || std::getenv("STRATA_FROM_PASSWORD_FILE") ||
        std::getenv("STRATA_FROM_PASSWORD_COMMAND") || std::getenv("STRATA_FROM_PASSWORD")) {
        StorageOptions for_source = usual;
        for_source.password = password_source(from);
        set_storage_options(for_source);
    }
    auto source = Repository::open(source_location);
    set_storage_options(usual);
    auto destination = open_rebuilding_index(destination_location, "copy", lock_wait, io,
                                             Repository::CacheSync::AtWriterLock);
    if (source->config().id == destination->config().id)
        throw UsageError(source->location() + " and " + destination->location() +
                         " are the same repository (the same id); copy needs two");
    const auto all = source->snapshots();
    std::vector<Snapshot> chosen;
    if (names.empty()) {
        chosen = filter.select(all);
    } else {
        if (!filter.empty())
            throw UsageError("name snapshots or filter them (--host, --tag, --path), not both");
        for (const auto& n : names) chosen.push_back(resolve_snapshot(all, n));
    }
    CopyOptions o;
    o.lock_wait_seconds = lock_wait;
    auto copied = copy_snapshots(*source, *destination, chosen, o);

    std::uint64_t bytes = 0, blobs = 0, fresh = 0;
    Json j = Json::array();
    for (const auto& c : copied) {
        bytes += c.bytes_sent;
        blobs += c.blobs_sent;
        fresh += c.already_there ? 0 : 1;
        if (json) {
            Json s = snapshot_json(c.snapshot);
            s["source_id"] = c.source_id.hex();
            s["already_there"] = c.already_there;
            s["blobs_sent"] = c.blobs_sent;
            s["bytes_sent"] = c.bytes_sent;
            j.push_back(s);
        } else {
            io.err << "snapshot " << c.source_id.short_hex()
                   << (c.source_id == c.snapshot.id ? ""
                                                    : " (" + c.snapshot.id.short_hex() + " in " +
                                                          destination->location() + ")")
                   << (c.already_there ? " is in " + destination->location() + " already"
                                       : " copied: " + std::to_string(c.blobs_sent) + " blobs, " +
                                             format_size(c.bytes_sent) + " sent")
                   << "\n";
        }
    }
    if (json) {
        io.out << dump(j) << "\n";
    } else {
        io.err << fresh << " of " << copied.size() << " snapshot(s) copied to "
               << destination->location() << ", " << format_size(bytes) << " sent\n";
    }
    compact_index(*destination, io);
    return kOk;
}

}  // namespace strata::cli
