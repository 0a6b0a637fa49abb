#include <ctime>
#include <iomanip>
#include <iostream>

#include "store/maintenance/retention.h"
#include "tools/commands/prune_report.h"
#include "tools/metrics.h"

namespace strata::cli {

namespace {

// "7", "all" or "unlimited" (-1 also works as --keep-last=-1, restic's spelling).
int parse_count(const std::string& flag, const std::string& text) {
    if (text == "all" || text == "unlimited" || text == "-1") return RetentionPolicy::kAll;
    try {
        std::size_t used = 0;
        long v = std::stol(text, &used);
        if (used == text.size() && v >= 0 && v <= 1000000000) return static_cast<int>(v);
    } catch (const std::logic_error&) {
    }
    throw UsageError("--" + flag + " takes a number of snapshots or \"all\", not \"" + text + "\"");
}

std::string local_time(std::int64_t sec) {
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %a", &tm);
    return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
    return s;
}

std::string group_title(const RetentionGroup& g, const GroupBy& by) {
    std::vector<std::string> parts;
    if (by.host) parts.push_back("host " + printable(g.host));
    if (by.paths) parts.push_back("paths " + printable(join(g.paths, ",")));
    if (by.tags)
        parts.push_back("tags " + (g.tags.empty() ? std::string("(none)") : join(g.tags, ",")));
    return parts.empty() ? "all snapshots" : join(parts, ", ");
}

// The order retention uses (newest first): time, then id for equal times.
bool newer(const Snapshot& a, const Snapshot& b) {
    return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) >
           std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
}

void print_line(std::ostream& out, const char* verdict, const Snapshot& s, const std::string& why) {
    out << "  " << std::left << std::setw(8) << verdict << std::setw(10) << s.id.short_hex()
        << std::setw(26) << local_time(s.rec.time_sec) << std::setw(16)
        << (s.rec.tags.empty() ? std::string("") : join(s.rec.tags, ",")) << why << std::right
        << "\n";
}

}  // namespace

int cmd_forget(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata forget REPO [SNAPSHOT...]");
    add_common_options(opts, true);
    std::vector<std::string> tag_lists;
    opts.add_options()("keep-last,l", po::value<std::string>(),
                       "keep the newest N snapshots (N or \"all\")")(
        "keep-hourly,H", po::value<std::string>(),
        "keep the newest snapshot of each of the last N hours that have one")(
        "keep-daily,d", po::value<std::string>(), "... of each of the last N days")(
        "keep-weekly,w", po::value<std::string>(), "... of each of the last N ISO weeks")(
        "keep-monthly,m", po::value<std::string>(), "... of each of the last N months")(
        "keep-yearly,y", po::value<std::string>(), "... of each of the last N years")(
        "keep-within", po::value<std::string>(),
        "keep every snapshot within SPAN (30d, 2w, 1y6m, 12h) of the newest")(
        "keep-within-hourly", po::value<std::string>(),
        "keep the newest of each hour within SPAN of the newest")(
        "keep-within-daily", po::value<std::string>(),
        "keep the newest of each day within SPAN (e.g. 30d: a daily snapshot for 30 days)")(
        "keep-within-weekly", po::value<std::string>(), "keep the newest of each week within SPAN")(
        "keep-within-monthly", po::value<std::string>(),
        "keep the newest of each month within SPAN")("keep-within-yearly", po::value<std::string>(),
                                                     "keep the newest of each year within SPAN")(
        "keep-tag", po::value<std::vector<std::string>>(&tag_lists),
        "keep snapshots with this tag (a,b: with both; repeatable: with any)")(
        "keep-all", "keep every snapshot (the same as --keep-last all)")(
        "group-by,g", po::value<std::string>()->default_value("host,paths"),
        "apply the policy per group of host, paths, tags (comma-separated; \"\" for one group)")(
        "dry-run,n", "print what would be kept and removed, change nothing")(
        "prune",
        "run prune afterwards (if snapshots were removed, or deletions an earlier prune left are "
        "due)");
    add_filter_options(opts);  // the policy applies only to the snapshots they select
    add_prune_options(opts);
    add_metrics_option(opts);
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    MetricsFile metrics(vm.count("metrics-file") ? vm["metrics-file"].as<std::string>() : "",
                        "forget", io);
    metrics.set_repository(repo_dir);
    const bool json = vm.count("json") > 0;
    const bool dry_run = vm.count("dry-run") > 0;

    RetentionPolicy policy;
    struct CountFlag {
        const char* name;
        int* target;
    } counts[] = {{"keep-last", &policy.last},       {"keep-hourly", &policy.hourly},
                  {"keep-daily", &policy.daily},     {"keep-weekly", &policy.weekly},
                  {"keep-monthly", &policy.monthly}, {"keep-yearly", &policy.yearly}};
    for (auto& c : counts)
        if (vm.count(c.name)) *c.target = parse_count(c.name, vm[c.name].as<std::string>());
    if (vm.count("keep-all")) policy.last = RetentionPolicy::kAll;
    struct SpanFlag {
        const char* name;
        CalendarSpan* target;
    } spans[] = {{"keep-within", &policy.within},
                 {"keep-within-hourly", &policy.within_hourly},
                 {"keep-within-daily", &policy.within_daily},
                 {"keep-within-weekly", &policy.within_weekly},
                 {"keep-within-monthly", &policy.within_monthly},
                 {"keep-within-yearly", &policy.within_yearly}};
    for (auto& s : spans) {
        if (!vm.count(s.name)) continue;
        *s.target = parse_calendar_span(vm[s.name].as<std::string>());
        if (s.target->empty())
            throw UsageError(std::string("--") + s.name + " needs a span above zero");
    }
    for (const auto& t : tag_lists) {
        std::vector<std::string> list = split_commas(t);
        if (list.empty()) throw UsageError("--keep-tag needs a tag");
        policy.tags.push_back(list);
    }
    GroupBy group_by = parse_group_by(vm["group-by"].as<std::string>());
    const bool explicit_ids = !pos.empty();
    if (explicit_ids && !policy.empty())
        throw UsageError("give either SNAPSHOTs to forget or a --keep policy, not both");
    const SnapshotFilter filter = filter_from(vm);
    if (explicit_ids && !filter.empty())
        throw UsageError(
            "--host, --tag and --path select the snapshots a --keep policy applies to; "
            "they do not go with SNAPSHOT ids");
    if (!explicit_ids && policy.empty())
        throw UsageError(
            "no policy given, so nothing would be removed: pass --keep-* options "
            "(or SNAPSHOT ids to forget)");
    PruneOptions prune_opts = prune_options(vm, io, json);

    // A dry run writes nothing, the index included.
    auto repo = dry_run
                    ? Repository::open(repo_dir)
                    : open_rebuilding_index(repo_dir, "forget", prune_opts.lock_wait_seconds, io);
    ForgetRequest req;
    if (explicit_ids) {
        req.names = pos;
    } else {
        req.policy = policy;
        req.group_by = group_by;
        req.select = [&filter](const std::vector<Snapshot>& all) { return filter.select(all); };
        req.now = static_cast<std::int64_t>(std::time(nullptr));
    }
    req.dry_run = dry_run;
    req.lock_wait_seconds = prune_opts.lock_wait_seconds;
    if (explicit_ids) group_by = {false, false, false};
    Json j;
    std::vector<BlobId> doomed;
    req.on_plan = [&](const std::vector<RetentionGroup>& groups) {
        for (const auto& g : groups)
            for (const auto& s : g.remove) doomed.push_back(s.id);

        if (json) {
            j["dry_run"] = dry_run;
            j["policy"] = explicit_ids ? "explicit" : policy.describe();
            j["groups"] = Json::array();
            for (const auto& g : groups) {
                Json jg;
                jg["host"] = g.host;
                jg["paths"] = g.paths;
                jg["tags"] = g.tags;
                jg["keep"] = Json::array();
                for (const auto& k : g.keep) {
                    Json e = snapshot_json(k.snapshot);
                    e["reasons"] = k.reasons;
                    jg["keep"].push_back(e);
                }
                jg["remove"] = Json::array();
                for (const auto& r : g.remove) jg["remove"].push_back(snapshot_json(r));
                j["groups"].push_back(jg);
            }
        } else {
            if (!explicit_ids) io.out << policy.describe() << " (local time)\n";
            for (const auto& g : groups) {
                io.out << "\n"
                       << group_title(g, group_by) << ": " << g.keep.size() + g.remove.size()
                       << " snapshots, keep " << g.keep.size() << ", remove " << g.remove.size()
                       << "\n";
                // Newest first, kept and removed interleaved, as they lie on the time line.
                std::size_t k = 0, r = 0;
                while (k < g.keep.size() || r < g.remove.size()) {
                    bool take_keep = r == g.remove.size() ||
                                     (k < g.keep.size() && newer(g.keep[k].snapshot, g.remove[r]));
                    if (take_keep) {
                        print_line(io.out, "keep", g.keep[k].snapshot,
                                   join(g.keep[k].reasons, ", "));
                        k++;
                    } else {
                        print_line(io.out, "remove", g.remove[r], "");
                        r++;
                    }
                }
            }
            io.out << "\n";
        }
    };
    forget(*repo, req);
    if (!json)
        io.out << (dry_run ? "would remove " : "removed ") << doomed.size() << " snapshot"
               << (doomed.size() == 1 ? "" : "s")
               << (dry_run || vm.count("prune") || doomed.empty()
                       ? ""
                       : "; run `strata prune` to free their data")
               << "\n";
    j["removed"] = dry_run ? 0 : doomed.size();

    // A dry run removed nothing, so prune's plan would not show what this forget frees. Without
    // removed snapshots the prune still runs when an earlier, interrupted prune left pack files
    // whose grace period is over: their deletion is due, and `--prune` promises the space back.
    const bool prune_due =
        vm.count("prune") && !dry_run &&
        (!doomed.empty() || pending_deletions_due(repo->objects(), prune_opts.grace_seconds,
                                                  static_cast<std::int64_t>(std::time(nullptr))));
    if (prune_due) {
        if (!json) io.out << "\n";
        PruneResult r = prune(*repo, prune_opts);
        metrics.set("bytes_deleted", static_cast<double>(r.bytes_deleted),
                    "Bytes of packs the prune of `forget --prune` deleted.");
        if (io.err_is_tty && !json) io.err << "\r\033[K" << std::flush;
        if (json)
            j["prune"] = prune_json(r, prune_opts);
        else
            print_prune_result(r, prune_opts, io.out);
    }
    if (json) io.out << dump(j) << "\n";
    if (!dry_run && (!doomed.empty() || prune_due)) compact_index(*repo, io);
    metrics.set("snapshots_removed", dry_run ? 0 : static_cast<double>(doomed.size()),
                "Snapshots the command removed.");
    metrics.set_repository_totals(*repo);
    metrics.finish(true, 0);
    return kOk;
}

}  // namespace strata::cli
