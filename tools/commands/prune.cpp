#include <cstdio>
#include <ctime>
#include <iostream>

#include "tools/commands/prune_report.h"
#include "tools/metrics.h"

namespace strata::cli {
namespace {

// "5%", "5" (percent) or "unlimited" -> a fraction.
double parse_max_unused(const std::string& text) {
    if (text == "unlimited") return 1;
    std::string num = !text.empty() && text.back() == '%' ? text.substr(0, text.size() - 1) : text;
    try {
        std::size_t used = 0;
        double v = std::stod(num, &used);
        if (used == num.size() && v >= 0 && v <= 100) return v / 100;
    } catch (const std::logic_error&) {
    }
    throw UsageError("--max-unused takes a percentage from 0% to 100% or \"unlimited\", not \"" +
                     text + "\"");
}

// "0", "90" (seconds), "90s", "30min", "1h", "2d" -> seconds.
std::int64_t parse_grace(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') digits++;
    const std::string unit = text.substr(digits);
    std::int64_t scale = unit.empty() || unit == "s" ? 1
                         : unit == "min"             ? 60
                         : unit == "h"               ? 3600
                         : unit == "d"               ? 86400
                                                     : 0;
    if (digits == 0 || digits > 9 || scale == 0)
        throw UsageError("--grace takes a duration like 0, 90s, 30min, 1h or 2d, not \"" + text +
                         "\"");
    return std::stoll(text.substr(0, digits)) * scale;
}

std::string format_seconds(std::int64_t s) {
    if (s % 86400 == 0 && s) return std::to_string(s / 86400) + "d";
    if (s % 3600 == 0 && s) return std::to_string(s / 3600) + "h";
    if (s % 60 == 0 && s) return std::to_string(s / 60) + "min";
    return std::to_string(s) + "s";
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%",
                  whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
    return buf;
}

std::string count(std::uint64_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::string fraction_percent(double f) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100 * f);
    return buf;
}

void print_plan(const PrunePlan& p, const PruneOptions& o, std::ostream& out) {
    out << (p.locked ? "plan:\n" : "plan (dry run, estimated without the writer lock):\n");
    out << "  snapshots          " << p.snapshots << ", using " << p.used_blobs << " blobs\n";
    out << "  packs              " << p.packs << " (" << format_size(p.pack_bytes) << "), "
        << format_size(p.unused_bytes) << " unused (" << percent(p.unused_bytes, p.pack_bytes)
        << ")\n";
    out << "  keep               " << count(p.keep_packs, "pack") << " ("
        << format_size(p.keep_bytes) << ")\n";
    out << "  delete             " << count(p.delete_packs, "pack") << " ("
        << format_size(p.delete_bytes) << "), nothing in them is used\n";
    out << "  repack             " << count(p.repack_packs, "pack") << " ("
        << format_size(p.repack_bytes) << "), " << format_size(p.repack_copy_bytes)
        << " still used to copy\n";
    out << "  unused afterwards  " << format_size(p.unused_after) << " (limit "
        << (o.max_unused >= 1 ? std::string("unlimited") : fraction_percent(o.max_unused)) << ")\n";
    if (p.unindexed_packs)
        out << "  unindexed packs    " << p.unindexed_packs << " ("
            << format_size(p.unindexed_bytes) << "), left by an interrupted writer\n";
    if (p.pending_packs)
        out << "  awaiting deletion  " << count(p.pending_packs, "pack") << " ("
            << format_size(p.pending_bytes) << ") from earlier prunes, " << p.expired_packs
            << " past the grace period\n";
    out << "  frees              " << format_size(p.freed_bytes()) << " once the grace period ("
        << format_seconds(o.grace_seconds) << ") has passed";
    if (p.expired_packs) out << ", plus " << format_size(p.expired_bytes) << " now";
    out << "\n";
}

Json plan_json(const PrunePlan& p) {
    return {{"locked", p.locked},
            {"snapshots", p.snapshots},
            {"used_blobs", p.used_blobs},
            {"packs", p.packs},
            {"pack_bytes", p.pack_bytes},
            {"used_bytes", p.used_bytes},
            {"unused_bytes", p.unused_bytes},
            {"keep_packs", p.keep_packs},
            {"keep_bytes", p.keep_bytes},
            {"delete_packs", p.delete_packs},
            {"delete_bytes", p.delete_bytes},
            {"repack_packs", p.repack_packs},
            {"repack_bytes", p.repack_bytes},
            {"repack_copy_bytes", p.repack_copy_bytes},
            {"unused_after", p.unused_after},
            {"unindexed_packs", p.unindexed_packs},
            {"unindexed_bytes", p.unindexed_bytes},
            {"pending_packs", p.pending_packs},
            {"pending_bytes", p.pending_bytes},
            {"expired_packs", p.expired_packs},
            {"expired_bytes", p.expired_bytes},
            {"freed_bytes", p.freed_bytes()}};
}

}  // namespace

void add_prune_options(po::options_description& opts) {
    opts.add_options()("max-unused", po::value<std::string>()->default_value("5%"),
                       "leave up to this share of the repository unused rather than rewrite packs "
                       "(percent, or \"unlimited\")")(
        "grace", po::value<std::string>()->default_value("1h"),
        "keep removed pack files this long for mounts and readers still using them "
        "(0, 90s, 30min, 1h, 2d)")("lock-wait", po::value<double>()->default_value(0),
                                   "wait up to SECONDS for another writer to finish");
}

PruneOptions prune_options(const po::variables_map& vm, CliIo& io, bool json) {
    PruneOptions o;
    o.max_unused = parse_max_unused(vm["max-unused"].as<std::string>());
    o.grace_seconds = parse_grace(vm["grace"].as<std::string>());
    o.lock_wait_seconds = vm["lock-wait"].as<double>();
    if (json) return o;
    if (io.err_is_tty) {
        o.on_progress = [&io](const PruneProgress& p) {
            io.err << "\r\033[K[" << p.phase << "] " << p.done << "/" << p.total
                   << (std::string(p.phase) == "mark"
                           ? " snapshots, " + std::to_string(p.trees) + " trees"
                           : std::string(" packs"))
                   << std::flush;
        };
    }
    // The options object is copied into the plan callback: it must not refer to a local.
    const double max_unused = o.max_unused;
    const std::int64_t grace = o.grace_seconds;
    o.on_plan = [&io, max_unused, grace](const PrunePlan& p) {
        if (io.err_is_tty) io.err << "\r\033[K" << std::flush;
        PruneOptions shown;
        shown.max_unused = max_unused;
        shown.grace_seconds = grace;
        print_plan(p, shown, io.out);
        io.out << std::flush;  // seen before the deletions, which may take long
    };
    return o;
}

void print_prune_result(const PruneResult& r, const PruneOptions& o, std::ostream& out) {
    if (o.dry_run) {
        out << "dry run: nothing was changed\n";
        return;
    }
    if (r.packs_written)
        out << "repacked " << count(r.plan.repack_packs, "pack") << " into " << r.packs_written
            << " (" << format_size(r.bytes_written) << " written)\n";
    out << "deleted " << count(r.packs_deleted, "pack file") << " (" << format_size(r.bytes_deleted)
        << ")\n";
    if (r.packs_waiting) {
        std::time_t t = static_cast<std::time_t>(r.next_deletion);
        std::tm tm{};
        localtime_r(&t, &tm);
        char when[64];
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        out << count(r.packs_waiting, "pack file") << " (" << format_size(r.bytes_waiting)
            << ") kept for the grace period; the first may be deleted from " << when
            << " by the next prune\n";
    }
    if (r.packs_held_by_writers)
        out << count(r.packs_held_by_writers, "pack file")
            << " of those also wait for a backup running on another host, which started before "
               "they were retired (an hour at most if that host died)\n";
    if (r.retire_postponed)
        out << "a snapshot was saved on another host while prune ran, so nothing was retired "
               "this time; run prune again\n";
}

Json prune_json(const PruneResult& r, const PruneOptions& o) {
    Json j;
    j["plan"] = plan_json(r.plan);
    j["dry_run"] = o.dry_run;
    j["max_unused"] = o.max_unused;
    j["grace_seconds"] = o.grace_seconds;
    j["packs_written"] = r.packs_written;
    j["bytes_written"] = r.bytes_written;
    j["packs_deleted"] = r.packs_deleted;
    j["bytes_deleted"] = r.bytes_deleted;
    j["packs_waiting"] = r.packs_waiting;
    j["bytes_waiting"] = r.bytes_waiting;
    j["next_deletion"] = r.next_deletion;
    j["packs_held_by_writers"] = r.packs_held_by_writers;
    j["retire_postponed"] = r.retire_postponed;
    j["index_objects_merged"] = r.index_objects_merged;
    return j;
}

int cmd_prune(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata prune REPO");
    add_common_options(opts, true);
    add_prune_options(opts);
    opts.add_options()("dry-run,n", "print the plan and stop");
    add_metrics_option(opts);
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    MetricsFile metrics(vm.count("metrics-file") ? vm["metrics-file"].as<std::string>() : "",
                        "prune", io);
    metrics.set_repository(repo_dir);
    if (!pos.empty()) throw UsageError("unexpected argument \"" + pos[0] + "\"");
    const bool json = vm.count("json") > 0;
    PruneOptions o = prune_options(vm, io, json);
    o.dry_run = vm.count("dry-run") > 0;
    // A dry run writes nothing, the index included.
    auto repo = o.dry_run ? Repository::open(repo_dir)
                          : open_rebuilding_index(repo_dir, "prune", o.lock_wait_seconds, io);
    PruneResult r = prune(*repo, o);
    if (io.err_is_tty && !json) io.err << "\r\033[K" << std::flush;
    if (json)
        io.out << dump(prune_json(r, o)) << "\n";
    else
        print_prune_result(r, o, io.out);
    if (!o.dry_run) compact_index(*repo, io);
    metrics.set("bytes_deleted", static_cast<double>(r.bytes_deleted), "Bytes of packs deleted.");
    metrics.set("bytes_waiting", static_cast<double>(r.bytes_waiting),
                "Bytes of packs retired and waiting for their grace period to end.");
    metrics.set_repository_totals(*repo);
    metrics.finish(true, 0);
    return kOk;
}

}  // namespace strata::cli
