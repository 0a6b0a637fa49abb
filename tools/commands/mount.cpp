#include "fs/mount.h"

#include <iostream>

#include "tools/command.h"

namespace strata::cli {

int cmd_mount(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata mount REPO MOUNTPOINT");
    add_common_options(opts, false);
    fs::MountOptions m;
    std::vector<std::string> option_lists;
    std::string cache_size, disk_cache_size;
    unsigned refresh_seconds = fs::kDefaultRefreshSeconds;
    opts.add_options()("foreground,f", po::bool_switch(&m.foreground),
                       "stay in the foreground (log to standard error)")(
        "options,o", po::value<std::vector<std::string>>(&option_lists),
        "mount options, comma-separated: allow_other, cache_size=SIZE, disk_cache_size=SIZE, "
        "debug, ro (docs/mount.md)")(
        "allow-other", po::bool_switch(&m.allow_other),
        "let other users see the mount; stored owners, modes and ACLs still apply")(
        "cache-size", po::value<std::string>(&cache_size),
        "memory for decompressed chunks, e.g. 256M (default 64M)")(
        "disk-cache-size", po::value<std::string>(&disk_cache_size),
        "repositories in object stores: disk space in the cache folder for chunks read, e.g. 4G "
        "(default 1G; 0 for none)")(
        "refresh", po::value<unsigned>(&refresh_seconds),
        "repositories in object stores: look for other hosts' snapshots every SECONDS "
        "(default 60; 0 for never)")("debug,d", po::bool_switch(&m.debug),
                                     "trace every FUSE request (implies -f)");
    auto line = parse_command_line(
        args, opts, io, true,
        "\nReturns once the mount is ready. Unmount with `fusermount3 -u MOUNTPOINT`, "
        "`umount`, or SIGTERM to the mount process.\n");
    if (!line) return kOk;
    auto& [vm, pos, repository] = *line;
    m.repository = repository;
    if (pos.size() != 1)
        throw UsageError(pos.empty() ? "no MOUNTPOINT given" : "too many arguments");
    m.mountpoint = pos[0];
    if (vm.count("refresh")) m.refresh_seconds = refresh_seconds;
    for (const auto& list : option_lists) fs::apply_option_list(list, m);
    auto size_of = [](const char* flag, const std::string& text, const char* examples) {
        auto size = fs::parse_byte_size(text);
        if (!size)
            throw UsageError(std::string(flag) + ": \"" + text +
                             "\" is not a size (examples: " + examples + ")");
        return *size;
    };
    if (!cache_size.empty()) m.cache_bytes = size_of("--cache-size", cache_size, "256M, 1G");
    if (!disk_cache_size.empty())
        m.disk_cache_bytes = size_of("--disk-cache-size", disk_cache_size, "4G, 512M, 0 for none");
    io.out.flush();
    io.err.flush();
    return fs::mount_repository(m);
}

}  // namespace strata::cli
