#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "store/repo/repository.h"
#include "tools/command.h"

namespace strata::cli {

static void write_out(CliIo& io, const std::uint8_t* p, std::size_t n) {
    if (io.out_fd < 0) {
        io.out.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
        return;
    }
    while (n > 0) {
        ssize_t w = ::write(io.out_fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw_io("write to standard output", errno);
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

int cmd_cat(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata cat REPO SNAPSHOT PATH");
    add_common_options(opts, false);
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.size() != 2) throw UsageError("need SNAPSHOT and PATH");
    auto repo = Repository::open(repo_dir);
    auto all = repo->snapshots();
    const Snapshot& snap = resolve_snapshot(all, pos[0]);
    TreeEntry e = find_path(*repo, snap, pos[1]);
    if (e.type == EntryType::Dir)
        throw_usage(pos[1] + " is a directory; use `strata ls` or `strata restore`");
    if (e.type == EntryType::Symlink) {
        write_out(io, reinterpret_cast<const std::uint8_t*>(e.target.data()), e.target.size());
        return kOk;
    }
    if (e.type != EntryType::File) throw_usage(pos[1] + " is not a regular file");
    io.out.flush();
    std::uint64_t pos_in_file = 0;
    static const Bytes zeros(1 << 16, 0);
    auto holes = [&](std::uint64_t until) {
        while (pos_in_file < until) {
            std::size_t n = static_cast<std::size_t>(
                std::min<std::uint64_t>(zeros.size(), until - pos_in_file));
            write_out(io, zeros.data(), n);
            pos_in_file += n;
        }
    };
    for (const auto& c : e.chunks) {
        holes(c.offset);
        Bytes data = repo->load_data(c.id);
        // The blob is what its id says, but the tree may lie about its size: print nothing of it.
        if (data.size() != c.size)
            throw_corruption(pos[1] + ": chunk " + c.id.short_hex() + " holds " +
                             std::to_string(data.size()) + " bytes, the tree says " +
                             std::to_string(c.size));
        write_out(io, data.data(), data.size());
        pos_in_file += data.size();
    }
    holes(e.size);
    return kOk;
}

}  // namespace strata::cli
