// Mounting a repository and serving it until it is unmounted: the lifecycle around
// FuseFilesystem (checks, FUSE session, daemonizing with a readiness handshake, signals, the
// poller that picks up new and forgotten snapshots, the kernel read-ahead setting).
#pragma once

#include <stdexcept>
#include <string>

#include "fs/mount_options.h"

namespace strata::fs {

// Why a mount could not be set up or served, as a person should read it: the mountpoint, the
// FUSE device or session, or the serving process. Problems with the repository itself are
// StoreError, as everywhere else.
struct MountError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// How often the repository's snapshot generation is polled, so new snapshots appear (and
// forgotten ones disappear) within about a second; one LMDB read transaction each time.
inline constexpr double kPollSeconds = 1.0;
// How often the inode table's size is checked against kMaxLiveNodes: a walk adds up to ~50k
// nodes a second here, so the table overshoots by about a thousand between checks (a check is
// one mutex and a size).
inline constexpr double kTrimSeconds = 0.02;
// Read-ahead the kernel uses for the mount (read_ahead_kb of its bdi), raised after mounting:
// the kernel starts FUSE mounts at 128 KiB, and 1 MiB nearly doubles cold sequential reads
// (docs/mount.md, "Caching").
inline constexpr unsigned kBdiReadAheadKb = 1024;
// Workers fetching chunks ahead of sequential readers: enough to keep two cores busy while
// some of them wait for the disk.
inline constexpr unsigned kReadAheadWorkers = 4;
// Bytes of a remote pack the mount reads at once (StorageOptions::pack_window_bytes): about one
// chunk, so the read-ahead workers' GETs run side by side instead of waiting on one 4 MiB window.
// A cold 100 MiB read on radosgw here: 0.89 s with 4 MiB windows, 0.69 s with 1 MiB
// (docs/benchmarks.md).
inline constexpr std::size_t kMountPackWindowBytes = 1u << 20;
// malloc arenas for the mount process (see serve() in mount.cpp).
inline constexpr int kMallocArenas = 1;

// Refuses, with what to do about it, a mountpoint that is missing, not a directory, not empty or
// a dead FUSE mount; and a missing or inaccessible /dev/fuse. Throws MountError.
void check_mountpoint(const std::string& path);
void check_fuse_device();

// Mounts and serves. With options.foreground (or debug) it serves in this process and returns 0
// once unmounted (fusermount3 -u, umount, SIGINT, SIGTERM, SIGHUP). Otherwise it forks: the
// parent returns 0 only after the child's filesystem has answered the kernel's INIT request (the
// mount is usable), or throws the child's error; the child serves and never returns.
// Setup failures throw MountError (mountpoint, FUSE) or StoreError (options, repository).
int mount_repository(MountOptions options);

}  // namespace strata::fs
