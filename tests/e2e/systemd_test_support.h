// Shared by the systemd_* and mount_helper_* tests: an installed tree (`cmake --install` of the
// build these tests belong to, into a temporary prefix), a repository with a snapshot, mount
// bookkeeping that always unmounts, and a private mount namespace in which mount(8) finds the
// installed helper in /sbin without touching the real /sbin.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testlib/mount_support.h"
#include "tests/testlib/process.h"
#include "tests/testlib/temp_dir.h"

namespace strata::testing {

// The build directory: STRATA_BINARY is BUILD/tools/strata.
inline std::string build_dir() {
    std::string b = strata_binary();
    for (int i = 0; i < 2; ++i) b = b.substr(0, b.rfind('/'));
    return b;
}

// The cmake that configured the build (CMAKE_COMMAND in its cache), else the one on PATH.
inline std::string cmake_command() {
    std::ifstream cache(build_dir() + "/CMakeCache.txt");
    std::string line;
    const std::string key = "CMAKE_COMMAND:INTERNAL=";
    while (std::getline(cache, line))
        if (line.rfind(key, 0) == 0) return line.substr(key.size());
    return "cmake";
}

inline bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

// Why mounts through mount(8), the helper and autofs cannot run here, or "" if they can.
inline std::string why_no_system_mount() {
    if (::geteuid() != 0) return "not root (mount(8) helpers and autofs need root)";
    return why_no_fuse();
}

// Why a private mount namespace cannot be made here, or "" if it can.
inline std::string why_no_mount_namespace() {
    if (!on_path("unshare")) return "unshare (util-linux) is not installed";
    RunResult r = run_process({"unshare", "--mount", "--propagation", "private", "true"});
    if (r.exit_code != 0) return "cannot create a mount namespace: " + r.err;
    return "";
}

#define SKIP_IF_REASON(expr)                                            \
    do {                                                                \
        std::string why_skip = (expr);                                  \
        if (!why_skip.empty()) GTEST_SKIP() << "skipped: " << why_skip; \
    } while (0)

// `cmake --install BUILD --prefix DIR/prefix` for the lifetime of the object.
struct InstalledTree {
    InstalledTree() {
        prefix = dir / "prefix";
        install = run_process({cmake_command(), "--install", build_dir(), "--prefix", prefix});
    }
    std::string strata() const { return prefix + "/bin/strata"; }
    std::string mount_helper() const { return prefix + "/sbin/mount.strata"; }
    std::string unit_dir() const { return prefix + "/lib/systemd/system"; }
    std::string ingest_job() const { return prefix + "/libexec/strata/strata-ingest-job"; }
    std::string man_dir() const { return prefix + "/share/man"; }
    std::string doc_dir() const { return prefix + "/share/doc/strata"; }

    TempDir dir;
    std::string prefix;
    RunResult install;
};

#define ASSERT_INSTALLED(tree) \
    ASSERT_EQ((tree).install.exit_code, 0) << "cmake --install failed: " << describe((tree).install)

// Unmounts in its destructor, whatever the test did.
struct MountGuard {
    explicit MountGuard(std::string m) : mountpoint(std::move(m)) {}
    ~MountGuard() { unmount(mountpoint); }
    std::string mountpoint;
};

// A repository at DIR/repo holding one snapshot of DIR/src (hello.txt, sub/deep.txt), and an
// empty mountpoint DIR/mnt.
struct SampleRepository {
    SampleRepository() {
        src = dir / "src";
        repo = dir / "repo";
        mnt = dir / "mnt";
        ::mkdir(src.c_str(), 0755);
        ::mkdir((src + "/sub").c_str(), 0755);
        ::mkdir(mnt.c_str(), 0755);
        write_file(src + "/hello.txt", "hello from strata\n");
        write_file(src + "/sub/deep.txt", "deep\n");
        RunResult init = run_strata({"init", "--encryption", "none", repo});
        EXPECT_EQ(init.exit_code, 0) << describe(init);
        RunResult ingest = run_strata({"ingest", repo, src});
        EXPECT_EQ(ingest.exit_code, 0) << describe(ingest);
        snapshot_id = ingest.out.substr(0, ingest.out.find('\n'));
    }
    TempDir dir;
    std::string src, repo, mnt, snapshot_id;
};

// The unit's CapabilityBoundingSet= line turned into setpriv's --bounding-set argument.
inline std::string bounding_set_of(const std::string& unit_file) {
    std::istringstream in(read_file(unit_file));
    std::string line, spec = "-all";
    while (std::getline(in, line)) {
        if (line.rfind("CapabilityBoundingSet=", 0) != 0) continue;
        std::istringstream caps(line.substr(std::strlen("CapabilityBoundingSet=")));
        for (std::string cap; caps >> cap;) {
            for (auto& c : cap) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            spec += ",+" + cap.substr(4);  // cap_sys_admin -> sys_admin
        }
    }
    return spec;
}

// Runs bash `script` in a private mount namespace in which /usr/sbin (so /sbin on merged-/usr
// systems, where mount(8) looks for helpers) also holds the installed mount.strata, and
// /usr/local/bin (on the default PATH that mount.fuse3's shell uses; mount(8) clears PATH) also
// holds the installed strata. The bind mounts that do it, and any mount the script leaves, are
// seen by nothing outside and vanish with the namespace. The script runs with `set -euo
// pipefail`; on exit it unmounts every path in the array `mounts` it was given.
inline RunResult run_in_mount_namespace(const InstalledTree& tree, const std::string& work_dir,
                                        const std::string& script) {
    const std::string prelude = R"SH(set -euo pipefail
add_to_dir() {  # DIR FILE...: DIR keeps its entries and gains FILE... (symlinks), here only
    local dir=$1 orig farm f
    shift
    orig=$(mktemp -d "$WORK/orig.XXXXXX")
    farm=$(mktemp -d "$WORK/farm.XXXXXX")
    mount --bind "$dir" "$orig"
    for f in "$orig"/* "$orig"/.[!.]*; do
        if [ -e "$f" ] || [ -L "$f" ]; then ln -s "$f" "$farm/"; fi
    done
    for f; do ln -sf "$f" "$farm/"; done
    mount --bind "$farm" "$dir"
}
mounts=()
cleanup() {
    local m
    for m in "${mounts[@]}"; do
        if mountpoint -q "$m"; then umount -l "$m" || true; fi
    done
}
trap cleanup EXIT
# Waits up to 10 s until no process has $1 among its arguments (the mount's process ended).
wait_gone() {
    local i p
    for i in $(seq 100); do
        local found=no
        for p in /proc/[0-9]*; do
            if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$1"; then found=yes; break; fi
        done
        [ $found = yes ] || return 0
        sleep 0.1
    done
    return 1
}
add_to_dir /usr/sbin "$PREFIX/sbin/mount.strata"
add_to_dir /usr/local/bin "$PREFIX/bin/strata"
)SH";
    return run_process(
        {"unshare", "--mount", "--propagation", "private", "bash", "-c", prelude + script},
        {"PREFIX=" + tree.prefix, "WORK=" + work_dir});
}

}  // namespace strata::testing
