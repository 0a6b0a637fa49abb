// `strata find REPO PATTERN`: which snapshots hold the files a glob matches, and each version of
// them (store/browse/snapshot_finder.h).
#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "store/base/deep_stack.h"
#include "store/browse/snapshot_finder.h"
#include "store/repo/repository.h"
#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {
namespace {

using Version = SnapshotFinder::Version;

void print_text(CliIo& io, const std::vector<const Version*>& versions,
                const std::vector<Snapshot>& searched) {
    const std::string* last_path = nullptr;
    for (const Version* v : versions) {
        if (!last_path || *last_path != v->path) io.out << printable(v->path) << "\n";
        last_path = &v->path;
        const TreeEntry& e = v->entry;
        io.out << "  " << type_name(e.type) << "  " << format_mode(e) << "  " << format_size(e.size)
               << "  " << format_time_utc(e.mtime_sec, e.mtime_nsec, false) << "  in "
               << v->snapshots.size() << (v->snapshots.size() == 1 ? " snapshot:" : " snapshots:");
        for (std::size_t i = 0; i < v->snapshots.size(); i++) {
            const Snapshot& s = searched[v->snapshots[i]];
            io.out << (i ? ", " : " ") << s.id.short_hex() << " ("
                   << format_time_utc(s.rec.time_sec, s.rec.time_nsec, false) << ")";
        }
        io.out << "\n";
    }
}

Json version_json(const Version& v, const std::vector<Snapshot>& searched) {
    Json j = entry_json(v.entry, v.path);
    j["snapshots"] = Json::array();
    for (std::size_t i : v.snapshots) {
        const Snapshot& s = searched[i];
        j["snapshots"].push_back(
            {{"id", s.id.hex()},
             {"short_id", s.id.short_hex()},
             {"time", format_time_utc(s.rec.time_sec, s.rec.time_nsec, true)}});
    }
    return j;
}

}  // namespace

int cmd_find(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata find REPO PATTERN");
    add_common_options(opts, true);
    opts.add_options()("path", po::value<std::string>(), "search only below this path")(
        "snapshot", po::value<std::vector<std::string>>(),
        "search only this snapshot (repeatable; default: every one)")(
        "newest", "show only the newest version of each path")(
        "oldest", "show only the oldest version of each path");
    auto line = parse_command_line(
        args, opts, io, true,
        "\nPATTERN is a glob (* ? [...], \\ escapes). One holding '/' matches the whole path from\n"
        "the snapshot root ('*' stops at '/'), any other the base name: quote it for the shell.\n"
        "Prints each version of each matching path (same content and metadata = one version)\n"
        "and the snapshots holding it. Exit status 1 when nothing matches.\n");
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.empty()) throw UsageError("no PATTERN given");
    if (pos.size() > 1) throw UsageError("unexpected argument \"" + pos[1] + "\"");
    if (vm.count("newest") && vm.count("oldest"))
        throw UsageError("--newest and --oldest exclude each other");
    const std::string& pattern = pos[0];
    if (std::string why = glob_pattern_error(pattern); !why.empty())
        throw UsageError("bad PATTERN \"" + pattern + "\": " + why);
    std::string subpath = vm.count("path") ? vm["path"].as<std::string>() : "";
    while (!subpath.empty() && subpath.front() == '/') subpath.erase(0, 1);
    while (!subpath.empty() && subpath.back() == '/') subpath.pop_back();

    auto repo = Repository::open(repo_dir);
    const auto all = repo->snapshots();
    if (all.empty()) throw_not_found("the repository has no snapshots yet");
    std::vector<Snapshot> searched;  // oldest first, as snapshots() gives them
    if (vm.count("snapshot")) {
        std::set<BlobId> named;
        for (const auto& name : vm["snapshot"].as<std::vector<std::string>>())
            named.insert(resolve_snapshot(all, name).id);
        for (const auto& s : all)
            if (named.count(s.id)) searched.push_back(s);
    } else {
        searched = all;
    }

    GlobMatcher matcher(pattern);
    SnapshotFinder finder(*repo, matcher);
    std::size_t holding_path = 0;
    run_with_deep_stack([&] {  // one level of recursion per directory level
        for (std::size_t i = 0; i < searched.size(); i++) {
            std::optional<TreeEntry> start;
            try {
                start = find_path(*repo, searched[i], subpath);
            } catch (const StoreError& e) {
                if (e.kind() != StoreError::Kind::NotFound) throw;
                continue;  // this snapshot lacks the path; others may have it
            }
            holding_path++;
            finder.add(i, *start, subpath);
        }
        return 0;
    });
    const std::string among = std::to_string(searched.size()) +
                              (searched.size() == 1 ? " snapshot" : " snapshots") + " searched";
    if (holding_path == 0) {
        io.err << "strata find: " << subpath << " is in none of the " << among << "\n";
        return kFailure;
    }
    if (finder.versions().empty()) {
        io.err << "strata find: nothing matches \"" << pattern << "\""
               << (subpath.empty() ? "" : " below " + subpath) << " in the " << among << "\n";
        return kFailure;
    }

    // By path, then by the first snapshot holding each version (the oldest first).
    std::vector<const Version*> versions;
    for (const auto& v : finder.versions()) versions.push_back(&v);
    std::sort(versions.begin(), versions.end(), [](const Version* x, const Version* y) {
        if (x->path != y->path) return x->path < y->path;
        return x->snapshots.front() < y->snapshots.front();
    });
    if (vm.count("newest") || vm.count("oldest")) {
        // Per path, the version the newest (oldest) snapshot holding the path has.
        const bool newest = vm.count("newest") > 0;
        std::vector<const Version*> kept;
        for (const Version* v : versions) {
            if (!kept.empty() && kept.back()->path == v->path) {
                if (newest && v->snapshots.back() > kept.back()->snapshots.back()) kept.back() = v;
                continue;  // oldest: the first of the path's versions is it, by the sort
            }
            kept.push_back(v);
        }
        versions = std::move(kept);
    }
    if (vm.count("json")) {
        for (const Version* v : versions) io.out << dump(version_json(*v, searched)) << "\n";
    } else {
        print_text(io, versions, searched);
    }
    return kOk;
}

}  // namespace strata::cli
