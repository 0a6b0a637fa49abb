#include "mount-helpers/helper_call.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <string_view>

#include "fs/mount.h"
#include "store/base/errors.h"
#include "store/repo/reader.h"

namespace strata::mount_helper {
namespace {

// Filesystem-independent options (mount(8), fstab(5), systemd.mount(5), mount.fuse3(8)) that
// may reach a helper and mean nothing for a read-only, nosuid, nodev FUSE mount. fs/mount_options
// knows some of them too; listing them all here keeps the helper's promise whatever it accepts.
// clang-format off
constexpr std::string_view kGenericOptions[] = {
    "ro", "rw", "defaults",                                        // always read-only
    "auto", "noauto", "nofail", "_netdev",                         // for mount -a, boot, systemd
    "user", "users", "nouser", "owner", "group",                   // who may mount (mount(8))
    "dev", "nodev", "suid", "nosuid", "exec", "noexec",            // always nodev,nosuid; exec stays
    "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime", "strictatime",
    "nostrictatime", "lazytime", "nolazytime",                     // no access times to keep
    "sync", "async", "dirsync", "silent", "loud", "iversion", "noiversion", "mand", "nomand",
    "symfollow", "nosymfollow",
    "default_permissions",                                         // always on
};
// clang-format on
// Prefixes of options for other programs: x-systemd.automount, x-gvfs-show, X-mount.mkdir,
// comment=systemd.automount, and the FUSE names strata sets itself.
constexpr std::string_view kGenericPrefixes[] = {"x-", "X-", "comment=", "fsname=", "subtype="};

bool is_generic(std::string_view opt) {
    if (std::find(std::begin(kGenericOptions), std::end(kGenericOptions), opt) !=
        std::end(kGenericOptions))
        return true;
    for (auto prefix : kGenericPrefixes)
        if (opt.substr(0, prefix.size()) == prefix) return true;
    return false;
}

void apply_options(std::string_view list, HelperCall& call) {
    std::size_t pos = 0;
    while (pos <= list.size()) {
        std::size_t comma = list.find(',', pos);
        if (comma == std::string_view::npos) comma = list.size();
        std::string opt(list.substr(pos, comma - pos));
        pos = comma + 1;
        if (opt.empty()) continue;
        if (opt == "remount")
            throw_usage("remount is not supported: unmount (umount MOUNTPOINT) and mount again");
        if (is_generic(opt)) {
            // Strata's own parser still sees the ones it acts on or checks (none today).
            call.ignored.push_back(opt);
            continue;
        }
        try {
            fs::apply_option_list(opt, call.mount);
        } catch (const StoreError& e) {
            if (!call.sloppy || e.kind() != StoreError::Kind::Usage) throw;
            call.skipped.push_back(opt);
        }
    }
}

void enter_mount_namespace(const std::string& ns) {
    std::string path = ns;
    if (!ns.empty() &&
        std::all_of(ns.begin(), ns.end(), [](char c) { return c >= '0' && c <= '9'; }))
        path = "/proc/" + ns + "/ns/mnt";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw std::runtime_error("-N: cannot open mount namespace " + path + ": " +
                                 std::strerror(errno));
    int rc = ::setns(fd, CLONE_NEWNS);
    int err = errno;
    ::close(fd);
    if (rc != 0)
        throw std::runtime_error("-N: cannot enter mount namespace " + path + ": " +
                                 std::strerror(err));
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
    return out;
}

constexpr const char* kUsageLine =
    "usage: mount.strata REPOSITORY MOUNTPOINT [-sfnv] [-N NAMESPACE] [-o OPTIONS] (-h for more)\n";
constexpr const char* kUsage =
    "usage: mount.strata REPOSITORY MOUNTPOINT [-sfnv] [-N NAMESPACE] [-o OPTIONS]\n"
    "  -o allow_other,cache_size=SIZE,debug   strata's options (also disk_cache_size=SIZE,\n"
    "                                         refresh=SECONDS, cache_dir=, credentials_file=,\n"
    "                                         password_file=, ...); ro, rw, noauto, nofail,\n"
    "                                         _netdev, x-systemd.*, ... are accepted and\n"
    "                                         ignored\n"
    "  -f  check everything, mount nothing    -s  skip unknown options with a warning\n"
    "  -v  say what is done                   -n  (nothing to do: no /etc/mtab is written)\n"
    "  -N  mount inside the mount namespace of a PID or namespace file\n"
    "The mount is always read-only; see mount.strata(8) and docs/systemd.md.\n";

}  // namespace

HelperCall parse_helper_call(const std::vector<std::string>& args) {
    HelperCall call;
    std::vector<std::string> positional;
    std::vector<std::string> option_lists;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* flag) -> std::string {
            if (a.size() > 2) return a.substr(2);  // -oOPTIONS
            if (i + 1 >= args.size()) throw_usage(std::string(flag) + " needs a value");
            return args[++i];
        };
        if (a.size() >= 2 && a[0] == '-' && a != "--") {
            if (a[1] == 'o') {
                option_lists.push_back(value("-o"));
            } else if (a[1] == 'N') {
                call.mount_namespace = value("-N");
            } else if (a[1] == 't') {
                value("-t");  // strata or fuse.strata: this helper has one type
            } else if (a == "--help") {
                call.help = true;
            } else {
                for (std::size_t k = 1; k < a.size(); ++k) {
                    switch (a[k]) {
                        case 's':
                            call.sloppy = true;
                            break;
                        case 'f':
                            call.fake = true;
                            break;
                        case 'v':
                            call.verbose = true;
                            break;
                        case 'n':
                            break;  // no /etc/mtab to leave alone: the kernel's table is all
                        case 'h':
                            call.help = true;
                            break;
                        default:
                            throw_usage("unknown flag -" + std::string(1, a[k]));
                    }
                }
            }
        } else if (a != "--") {
            positional.push_back(a);
        }
    }
    if (call.help) return call;
    if (positional.size() < 2)
        throw_usage(positional.empty() ? "no REPOSITORY and MOUNTPOINT given"
                                       : "no MOUNTPOINT given");
    if (positional.size() > 2) throw_usage("too many arguments (\"" + positional[2] + "\")");
    call.mount.repository = positional[0];
    call.mount.mountpoint = positional[1];
    if (call.mount.mountpoint.rfind("/dev/fd/", 0) == 0)
        throw_usage(
            "a mountpoint of " + call.mount.mountpoint +
            " means mount.fuse3's drop_privileges, which strata does not support; remove it");
    // Flags first (-s applies to every -o), then the options in order.
    for (const auto& list : option_lists) apply_options(list, call);
    return call;
}

bool is_fuse_helper_call(const std::vector<std::string>& args) {
    if (args.size() < 2) return false;
    return args[0].find('/') != std::string::npos && args[0][0] != '-' &&
           args[1].find('/') != std::string::npos && args[1][0] != '-';
}

int run_helper_call(const std::vector<std::string>& args, const std::string& program,
                    std::ostream& out, std::ostream& err) {
    HelperCall call;
    try {
        call = parse_helper_call(args);
    } catch (const StoreError& e) {
        err << program << ": " << e.what() << "\n" << kUsageLine;
        return kMountUsage;
    }
    if (call.help) {
        out << kUsage;
        return kMountOk;
    }
    for (const auto& s : call.skipped)
        err << program << ": warning: skipping unknown option \"" << s << "\" (-s)\n";
    if (call.verbose) {
        out << program << ": " << (call.fake ? "would mount " : "mounting ")
            << call.mount.repository << " at " << call.mount.mountpoint
            << " read-only (allow_other=" << (call.mount.allow_other ? "yes" : "no")
            << ", cache_size=" << call.mount.cache_bytes
            << (call.mount.debug ? ", debug: stays in the foreground" : "") << ")\n";
        if (!call.ignored.empty())
            out << program << ": ignoring " << join(call.ignored)
                << " (for mount tables and systemd; the mount is always ro,nosuid,nodev)\n";
    }
    out.flush();
    err.flush();
    try {
        if (!call.mount_namespace.empty()) enter_mount_namespace(call.mount_namespace);
        if (call.fake) {
            fs::check_mountpoint(call.mount.mountpoint);
            fs::check_fuse_device();
            open_repository_reader(call.mount.repository).reset();
            if (call.verbose) out << program << ": checks passed; nothing mounted (-f)\n";
            return kMountOk;
        }
        fs::mount_repository(call.mount);
        if (call.verbose) out << program << ": " << call.mount.mountpoint << " is serving\n";
        return kMountOk;
    } catch (const StoreError& e) {
        err << program << ": " << e.what() << "\n";
        return e.kind() == StoreError::Kind::Usage ? kMountUsage : kMountFailed;
    } catch (const std::exception& e) {
        err << program << ": " << e.what() << "\n";
        return kMountFailed;
    }
}

}  // namespace strata::mount_helper
