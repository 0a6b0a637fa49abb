// `strata dump`: a file or directory of a snapshot on standard output, as a tar or zip archive
// (tools/archive_stream.h), or a single file's bytes raw.
#include <signal.h>
#include <unistd.h>

#include "store/base/deep_stack.h"
#include "store/repo/repository.h"
#include "tools/archive_stream.h"
#include "tools/command.h"

namespace strata::cli {
namespace {

// Adds `e` (at `path` in the archive; "" for the snapshot's root, which is not an entry) and,
// for a directory, everything below it. Returns false if some entry was left out.
bool add_tree(ArchiveStream& archive, RepositoryReader& repo, const TreeEntry& e,
              const std::string& path) {
    bool complete = path.empty() || archive.add(repo, e, path);
    if (e.type != EntryType::Dir) return complete;
    std::vector<TreeEntry> children;
    try {
        children = repo.load_tree(e.subtree);
    } catch (const StoreError& err) {
        throw StoreError(err.kind(), printable(path.empty() ? "/" : path) + ": " + err.what(),
                         err.error_number());
    }
    for (const auto& c : children)
        complete =
            add_tree(archive, repo, c, path.empty() ? c.name : path + "/" + c.name) && complete;
    return complete;
}

// "/docs//a/" → "docs/a": the path as it appears in the archive.
std::string archive_path(const std::string& p) {
    std::string out;
    std::size_t i = 0;
    while (i < p.size()) {
        std::size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        if (j > i) out += (out.empty() ? "" : "/") + p.substr(i, j - i);
        i = j + 1;
    }
    return out;
}

}  // namespace

int cmd_dump(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata dump REPO SNAPSHOT PATH");
    add_common_options(opts, false);
    std::string format;
    opts.add_options()("archive,a", po::value<std::string>(&format),
                       "write a tar or zip archive (default: tar for a directory; a single "
                       "regular file is written raw)");
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.size() != 2) throw UsageError("need SNAPSHOT and PATH (/ for the whole snapshot)");
    if (!format.empty() && format != "tar" && format != "zip")
        throw UsageError("--archive is tar or zip, not \"" + format + "\"");
    auto repo = Repository::open(repo_dir);
    auto all = repo->snapshots();
    const Snapshot& snap = resolve_snapshot(all, pos[0]);
    const std::string path = archive_path(pos[1]);
    TreeEntry e = find_path(*repo, snap, path);
    // A reader that went away (`dump | head`) is an error to report, not a signal to die of.
    ::signal(SIGPIPE, SIG_IGN);
    io.out.flush();
    StdoutSink out(io);
    if (format.empty() && e.type == EntryType::File) {
        stream_content(*repo, e, path,
                       [&](const std::uint8_t* p, std::size_t n) { out.write(p, n); });
        return kOk;
    }
    if (io.out_fd >= 0 && ::isatty(io.out_fd))
        throw UsageError("refusing to write an archive to a terminal; redirect or pipe it");
    auto archive =
        open_archive_stream(format == "zip" ? ArchiveFormat::Zip : ArchiveFormat::Tar, out, io);
    // Directories nest as deep as the format allows: walk on a stack sized for that.
    const bool complete = run_with_deep_stack([&] { return add_tree(*archive, *repo, e, path); });
    archive->close();
    return complete ? kOk : kPartial;
}

}  // namespace strata::cli
