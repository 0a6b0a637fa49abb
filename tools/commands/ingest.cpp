#include "store/ingest/ingest.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "store/ingest/stream_ingest.h"
#include "tools/command.h"
#include "tools/command_output.h"
#include "tools/json.h"
#include "tools/metrics.h"

namespace strata::cli {

static std::string format_duration(double s) {
    char buf[32];
    int t = static_cast<int>(s + 0.5);
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    return buf;
}

// What --stdin and --stdin-from-command ingest: standard input, or a command's output.
struct StreamChoice {
    bool from_stdin = false;
    bool from_command = false;
    std::string name = "stdin";
    bool any() const { return from_stdin || from_command; }
};

static IngestResult ingest_stream_from(Repository& repo, const IngestOptions& in,
                                       const StreamChoice& choice,
                                       const std::vector<std::string>& command) {
    StreamSource src;
    src.name = choice.name;
    if (choice.from_stdin) {
        src.description = "standard input";
        src.open = [] { return STDIN_FILENO; };
        return ingest_stream(repo, in, src);
    }
    std::optional<CommandOutput> child;
    src.description = "the output of " + command[0];
    src.open = [&] { return child.emplace(command).fd(); };
    src.finish = [&] { child->wait_for_success(); };
    return ingest_stream(repo, in, src);
}

int cmd_ingest(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts(
        "strata ingest REPO PATH...\n"
        "strata ingest REPO --stdin [--stdin-name NAME]\n"
        "strata ingest REPO --stdin-from-command [--stdin-name NAME] -- COMMAND [ARG...]");
    add_common_options(opts, true);
    IngestOptions in;
    StreamChoice stream;
    opts.add_options()("tag", po::value<std::vector<std::string>>(&in.tags),
                       "tag the snapshot (a,b: two tags; repeatable)")(
        "host", po::value<std::string>(&in.host), "host name to record (default: this machine's)")(
        "note", po::value<std::string>(&in.note), "free-form note to record")(
        "exclude,e", po::value<std::vector<std::string>>(&in.excludes),
        "skip entries matching PATTERN (gitignore-like; repeatable)")(
        "exclude-file", po::value<std::vector<std::string>>(&in.exclude_files),
        "read exclude patterns from FILE (repeatable)")("one-file-system,x",
                                                        po::bool_switch(&in.one_file_system),
                                                        "do not descend into other filesystems")(
        "exclude-caches", po::bool_switch(&in.exclude_caches),
        "skip directories holding a CACHEDIR.TAG")(
        "force-reread", po::bool_switch(&in.force_reread),
        "read every file, even those unchanged since the parent snapshot")(
        "lock-wait", po::value<double>(&in.lock_wait_seconds),
        "wait up to SECONDS for another writer to finish")(
        "stdin", po::bool_switch(&stream.from_stdin), "store standard input as one file (no PATH)")(
        "stdin-from-command", po::bool_switch(&stream.from_command),
        "run COMMAND (no shell) and store its standard output as one file; its failure fails "
        "the ingest")("stdin-name", po::value<std::string>(&stream.name),
                      "the file's name in the snapshot (default: stdin)");
    add_metrics_option(opts);
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    MetricsFile metrics(vm.count("metrics-file") ? vm["metrics-file"].as<std::string>() : "",
                        "ingest", io);
    metrics.set_repository(repo_dir);
    if (stream.from_stdin && stream.from_command)
        throw UsageError("--stdin and --stdin-from-command exclude each other");
    if (vm.count("stdin-name") && !stream.any())
        throw UsageError("--stdin-name needs --stdin or --stdin-from-command");
    if (stream.from_stdin && !pos.empty())
        throw UsageError("--stdin takes no PATH (use --stdin-name to name the file)");
    if (stream.from_command && pos.empty())
        throw UsageError("--stdin-from-command needs a COMMAND (after --)");
    if (stream.from_stdin && ::isatty(STDIN_FILENO))
        throw UsageError("standard input is a terminal; pipe the data to store into strata");
    if (!stream.any() && pos.empty()) throw UsageError("no PATH to ingest");
    if (!stream.any()) in.paths = pos;
    // --tag a,b gives the snapshot two tags, as in restic; a tag never holds a comma.
    std::vector<std::string> tags;
    for (const auto& t : in.tags) {
        auto list = split_commas(t);
        if (list.empty()) throw UsageError("--tag needs a tag");
        tags.insert(tags.end(), list.begin(), list.end());
    }
    in.tags = tags;
    const bool json = vm.count("json") > 0;
    if (io.err_is_tty && !json) {
        in.on_progress = [&io](const IngestProgress& p) {
            double rate =
                p.elapsed_seconds > 0 ? static_cast<double>(p.bytes) / p.elapsed_seconds : 0;
            std::string eta;
            if (p.expected_bytes > p.bytes && rate > 0)
                eta = ", ETA " +
                      format_duration(static_cast<double>(p.expected_bytes - p.bytes) / rate);
            io.err << "\r\033[K[" << format_duration(p.elapsed_seconds) << "] " << p.files
                   << " files, " << format_size(p.bytes) << ", "
                   << format_size(static_cast<std::uint64_t>(rate)) << "/s" << eta << std::flush;
        };
    }
    in.on_warning = [&io](const IngestWarning& w) {
        io.err << (io.err_is_tty ? "\r\033[K" : "") << "warning: " << printable(w.path) << ": "
               << w.reason << "\n";
    };
    auto repo = open_rebuilding_index(repo_dir, "ingest", in.lock_wait_seconds, io,
                                      Repository::CacheSync::AtWriterLock);
    IngestResult r = stream.any() ? ingest_stream_from(*repo, in, stream, pos) : ingest(*repo, in);
    if (io.err_is_tty && !json) io.err << "\r\033[K";
    const auto& rec = r.snapshot.rec;
    if (json) {
        Json j = snapshot_json(r.snapshot);
        j["warnings"] = Json::array();
        for (const auto& w : r.warnings)
            j["warnings"].push_back({{"path", w.path}, {"reason", w.reason}});
        io.out << dump(j) << "\n";
    } else {
        io.err << "snapshot " << r.snapshot.id.short_hex() << " saved: " << rec.files << " files, "
               << rec.dirs << " dirs, " << format_size(rec.bytes) << " ("
               << format_size(rec.bytes_added) << " added) in "
               << format_duration(static_cast<double>(rec.duration_ns) / 1e9) << "\n";
        if (!r.warnings.empty())
            io.err << r.warnings.size() << " file(s) could not be read completely; the snapshot is "
                   << "marked partial\n";
        io.out << r.snapshot.id.hex() << "\n";
    }
    compact_index(*repo, io);
    metrics.set("files", static_cast<double>(rec.files), "Files in the snapshot saved.");
    metrics.set("dirs", static_cast<double>(rec.dirs), "Directories in the snapshot saved.");
    metrics.set("snapshot_bytes", static_cast<double>(rec.bytes),
                "Bytes of the files in the snapshot saved.");
    metrics.set("bytes_read", static_cast<double>(r.bytes_read),
                "Bytes read from the source (files unchanged since the parent snapshot are not "
                "read).");
    metrics.set("bytes_added", static_cast<double>(rec.bytes_added),
                "Bytes the snapshot added to the repository, as stored.");
    metrics.set_repository_totals(*repo);
    metrics.finish(true, r.warnings.size());
    return r.warnings.empty() ? kOk : kPartial;
}

}  // namespace strata::cli
