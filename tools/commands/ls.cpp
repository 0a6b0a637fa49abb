#include <sys/sysmacros.h>

#include <iomanip>
#include <iostream>

#include "store/base/deep_stack.h"
#include "store/repo/repository.h"
#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {
namespace {

struct Lister {
    RepositoryReader& repo;
    CliIo& io;
    bool json, long_format, recursive;

    void print(const TreeEntry& e, const std::string& path) {
        if (json) {
            io.out << dump(entry_json(e, path)) << "\n";
            return;
        }
        if (!long_format) {
            io.out << printable(path) << "\n";
            return;
        }
        std::string owner = e.user.empty() ? std::to_string(e.uid) : printable(e.user);
        std::string group = e.group.empty() ? std::to_string(e.gid) : printable(e.group);
        std::string size =
            (e.type == EntryType::CharDev || e.type == EntryType::BlockDev)
                ? std::to_string(major(e.rdev)) + ", " + std::to_string(minor(e.rdev))
                : std::to_string(e.size);
        io.out << format_mode(e) << " " << std::setw(3) << e.nlink << " " << std::left
               << std::setw(8) << owner << " " << std::setw(8) << group << std::right << " "
               << std::setw(12) << size << " " << format_time_utc(e.mtime_sec, e.mtime_nsec, false)
               << " " << printable(path);
        if (e.type == EntryType::Symlink) io.out << " -> " << printable(e.target);
        io.out << "\n";
    }

    // `path` names `dir` ("" for the root); one buffer shared by the whole walk, appended to and
    // trimmed, so a deep tree costs memory linear in its depth.
    void list(const TreeEntry& dir, std::string& path, std::size_t depth = 1) {
        if (depth > format::kMaxTreeDepth)
            throw_corruption(path + ": directories nested deeper than " +
                             std::to_string(format::kMaxTreeDepth) +
                             " levels (damaged or crafted tree)");
        const std::size_t base = path.size();
        for (const auto& e : repo.load_tree(dir.subtree)) {
            path.resize(base);
            if (base) path += '/';
            path += e.name;
            print(e, path);
            if (recursive && e.type == EntryType::Dir) list(e, path, depth + 1);
        }
        path.resize(base);
    }
};

}  // namespace

int cmd_ls(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata ls REPO SNAPSHOT [PATH]");
    add_common_options(opts, true);
    opts.add_options()("long,l", "long listing: mode, links, owner, size, mtime")(
        "recursive,R", "list subdirectories too");
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.empty()) throw UsageError("no SNAPSHOT given");
    if (pos.size() > 2) throw UsageError("unexpected argument \"" + pos[2] + "\"");
    auto repo = Repository::open(repo_dir);
    auto all = repo->snapshots();
    const Snapshot& snap = resolve_snapshot(all, pos[0]);
    std::string path = pos.size() > 1 ? pos[1] : "";
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    while (!path.empty() && path.back() == '/') path.pop_back();
    TreeEntry e = find_path(*repo, snap, path);
    Lister l{*repo, io, vm.count("json") > 0, vm.count("long") > 0, vm.count("recursive") > 0};
    if (e.type == EntryType::Dir)
        run_with_deep_stack([&] {  // one level of recursion per directory level
            l.list(e, path);
            return 0;
        });
    else
        l.print(e, path);
    return kOk;
}

}  // namespace strata::cli
