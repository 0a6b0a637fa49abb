// mount(8)'s calling conventions for filesystem helpers, translated into a strata mount. Two
// callers use them:
//
//   mount.strata SOURCE MOUNTPOINT [-sfnv] [-N NAMESPACE] [-o OPTIONS] [-t TYPE]
//       mount(8) runs /sbin/mount.strata for `mount -t strata` and fstab type `strata`
//       (mount(8), "External helpers").
//   strata SOURCE MOUNTPOINT [-o OPTIONS]
//       mount.fuse3 runs this for type `fuse.strata` and for `-t fuse strata#SOURCE`, adding
//       `dev` and `suid` to the options unless told nodev/nosuid (mount.fuse3(8)).
//
// Options: strata's own (allow_other, cache_size=SIZE, debug; fs/mount_options.h decides) are
// applied; the filesystem-independent ones mount(8), fstab, systemd and mount.fuse3 pass along
// (ro, rw, defaults, noauto, nofail, _netdev, user, x-systemd.*, comment=*, dev, suid, ...) are
// accepted and ignored, because the mount is always read-only, nosuid and nodev; `rw` among
// them, since mount(8) adds it to every request that does not say `ro`. Anything else is an
// error naming the option, or with -s (sloppy) a warning.
//
// The helper returns only once the mount answers requests (fs::mount_repository), and exits
// with mount(8)'s codes: 0 mounted, 1 bad invocation, 32 the mount failed.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "fs/mount_options.h"

namespace strata::mount_helper {

// mount(8)'s exit codes that a helper returns (mount(8), "Return codes").
inline constexpr int kMountOk = 0;
inline constexpr int kMountUsage = 1;
inline constexpr int kMountFailed = 32;
inline constexpr int kMountInternal = 4;  // "internal mount bug": an exception nobody mapped

struct HelperCall {
    fs::MountOptions mount;            // repository (SOURCE), mountpoint, strata's options
    bool fake = false;                 // -f: check everything, mount nothing
    bool verbose = false;              // -v: say what is done and what is ignored
    bool sloppy = false;               // -s: unknown options are skipped with a warning
    bool help = false;                 // -h, --help: print the usage, nothing else
    std::string mount_namespace;       // -N: a PID or a mount namespace file to mount inside
    std::vector<std::string> ignored;  // accepted for mount tables, not acted on
    std::vector<std::string> skipped;  // unknown, skipped because of -s
};

// Parses the arguments after the program name. Throws StoreError(Usage) saying what is wrong.
HelperCall parse_helper_call(const std::vector<std::string>& args);

// True for the shape mount.fuse3 gives `strata`: a first argument that is no strata command and
// two paths (SOURCE and MOUNTPOINT both contain a '/'). Commands never start with a path.
bool is_fuse_helper_call(const std::vector<std::string>& args);

// Parses and runs a call: enters the mount namespace (-N), checks the mountpoint, /dev/fuse and
// the repository, and mounts, returning once the mount serves (or, with -f, after the checks).
// Messages go to `err` prefixed with `program`; -v prints the translation to `out`. Returns
// mount(8)'s exit code. Never throws.
int run_helper_call(const std::vector<std::string>& args, const std::string& program,
                    std::ostream& out, std::ostream& err);

}  // namespace strata::mount_helper
