// `strata diff REPO A B [PATH]`: what changed from snapshot A to snapshot B
// (store/browse/tree_diff.h).
#include <iostream>
#include <optional>

#include "store/base/deep_stack.h"
#include "store/browse/tree_diff.h"
#include "store/repo/repository.h"
#include "tools/command.h"
#include "tools/json.h"

namespace strata::cli {
namespace {

struct DiffTotals {
    // Files are every entry that is not a directory (symlinks and devices included).
    std::uint64_t files_added = 0, files_removed = 0, files_changed = 0;
    std::uint64_t dirs_added = 0, dirs_removed = 0, dirs_changed = 0;
    std::uint64_t bytes_added = 0, bytes_removed = 0;

    void count(const TreeChange& c) {
        const TreeEntry& e = c.after ? *c.after : *c.before;
        const bool dir = e.type == EntryType::Dir;
        switch (c.kind) {
            case ChangeKind::Added:
                (dir ? dirs_added : files_added)++;
                break;
            case ChangeKind::Removed:
                (dir ? dirs_removed : files_removed)++;
                break;
            case ChangeKind::Modified:
            case ChangeKind::Metadata:
            case ChangeKind::Type:
                (dir ? dirs_changed : files_changed)++;
                break;
        }
        bytes_added += c.bytes_added;
        bytes_removed += c.bytes_removed;
    }
};

const char* change_letter(ChangeKind k) {
    switch (k) {
        case ChangeKind::Added:
            return "+";
        case ChangeKind::Removed:
            return "-";
        case ChangeKind::Modified:
            return "M";
        case ChangeKind::Metadata:
            return "U";
        case ChangeKind::Type:
            return "T";
    }
    return "?";
}

const char* change_name(ChangeKind k) {
    switch (k) {
        case ChangeKind::Added:
            return "added";
        case ChangeKind::Removed:
            return "removed";
        case ChangeKind::Modified:
            return "modified";
        case ChangeKind::Metadata:
            return "metadata";
        case ChangeKind::Type:
            return "type";
    }
    return "unknown";
}

Json fields_json(std::uint32_t fields) {
    static const std::pair<std::uint32_t, const char*> names[] = {
        {kContentChanged, "content"}, {kModeChanged, "mode"},     {kOwnerChanged, "owner"},
        {kMtimeChanged, "mtime"},     {kXattrsChanged, "xattrs"}, {kLinksChanged, "links"}};
    Json j = Json::array();
    for (const auto& [bit, name] : names)
        if (fields & bit) j.push_back(name);
    return j;
}

Json change_json(const TreeChange& c) {
    const TreeEntry& e = c.after ? *c.after : *c.before;
    Json j;
    put_name(j, "path", c.path);
    j["change"] = change_name(c.kind);
    j["type"] = type_name(e.type);
    if (c.before) {
        j["type_before"] = type_name(c.before->type);
        j["size_before"] = c.before->size;
    }
    if (c.after) {
        j["type_after"] = type_name(c.after->type);
        j["size_after"] = c.after->size;
    }
    if (c.kind == ChangeKind::Modified || c.kind == ChangeKind::Metadata)
        j["fields"] = fields_json(c.fields);
    j["bytes_added"] = c.bytes_added;
    j["bytes_removed"] = c.bytes_removed;
    return j;
}

std::string shown_path(const TreeChange& c) {
    const TreeEntry& e = c.after ? *c.after : *c.before;
    std::string p = c.path.empty() ? "/" : printable(c.path);
    if (e.type == EntryType::Dir && !c.path.empty()) p += '/';
    return p;
}

std::optional<TreeEntry> entry_at(RepositoryReader& repo, const Snapshot& s,
                                  const std::string& path) {
    try {
        return find_path(repo, s, path);
    } catch (const StoreError& e) {
        if (e.kind() != StoreError::Kind::NotFound) throw;
        return std::nullopt;
    }
}

}  // namespace

int cmd_diff(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata diff REPO SNAPSHOT_A SNAPSHOT_B [PATH]");
    add_common_options(opts, true);
    auto line = parse_command_line(
        args, opts, io, true,
        "\nWhat changed from SNAPSHOT_A to SNAPSHOT_B (in PATH only, if given): one line each,\n"
        "+ added, - removed, M content modified, U metadata only (mode, owner, mtime, xattrs,\n"
        "links), T type changed; directories end in '/'. Then the totals.\n");
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.size() < 2) throw UsageError("need two snapshots, SNAPSHOT_A and SNAPSHOT_B");
    if (pos.size() > 3) throw UsageError("unexpected argument \"" + pos[3] + "\"");
    const bool json = vm.count("json") > 0;
    auto repo = Repository::open(repo_dir);
    auto all = repo->snapshots();
    const Snapshot& a = resolve_snapshot(all, pos[0]);
    const Snapshot& b = resolve_snapshot(all, pos[1]);
    std::string path = pos.size() > 2 ? pos[2] : "";
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    while (!path.empty() && path.back() == '/') path.pop_back();
    auto before = entry_at(*repo, a, path);
    auto after = entry_at(*repo, b, path);
    if (!before && !after)
        throw_not_found(path + ": in neither snapshot " + a.id.short_hex() + " nor " +
                        b.id.short_hex() + "; see what they hold with `strata ls REPO " +
                        a.id.short_hex() + "`");
    DiffTotals totals;
    run_with_deep_stack([&] {  // one level of recursion per directory level
        diff_entries(*repo, before ? &*before : nullptr, after ? &*after : nullptr, path,
                     [&](const TreeChange& c) {
                         totals.count(c);
                         if (json)
                             io.out << dump(change_json(c)) << "\n";
                         else
                             io.out << change_letter(c.kind) << " " << shown_path(c) << "\n";
                     });
        return 0;
    });
    if (json) {
        Json s;
        s["files_added"] = totals.files_added;
        s["files_removed"] = totals.files_removed;
        s["files_changed"] = totals.files_changed;
        s["dirs_added"] = totals.dirs_added;
        s["dirs_removed"] = totals.dirs_removed;
        s["dirs_changed"] = totals.dirs_changed;
        s["bytes_added"] = totals.bytes_added;
        s["bytes_removed"] = totals.bytes_removed;
        io.out << dump(Json{{"summary", s}}) << "\n";
        return kOk;
    }
    io.out << "\nFiles: " << totals.files_added << " added, " << totals.files_removed
           << " removed, " << totals.files_changed << " changed\n"
           << "Dirs:  " << totals.dirs_added << " added, " << totals.dirs_removed << " removed, "
           << totals.dirs_changed << " changed\n"
           << "Data:  " << format_size(totals.bytes_added) << " added, "
           << format_size(totals.bytes_removed) << " removed\n";
    return kOk;
}

}  // namespace strata::cli
