// What `strata mount` is asked to do, and the parsing of its -o option list and sizes. Kernel-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::fs {

// Decompressed chunks kept for re-reads and read-ahead: room for a few sequential readers each
// 8 MiB ahead with the default 1 MiB chunks (4 MiB at most).
inline constexpr std::size_t kDefaultCacheBytes = 64u << 20;
// Repositories in object stores: chunks read are also kept on disk, in the cache folder, so that
// a second read of a file, even after a remount, is local.
inline constexpr std::uint64_t kDefaultDiskCacheBytes = 1ull << 30;
// A few LISTs each time, so once a minute costs next to nothing.
inline constexpr unsigned kDefaultRefreshSeconds = 60;

struct MountOptions {
    std::string repository;
    std::string mountpoint;
    bool foreground = false;
    // Let users other than the one mounting see the mount (the kernel still applies the stored
    // owners, modes and ACLs: default_permissions is always on). Non-root users need
    // user_allow_other in /etc/fuse.conf.
    bool allow_other = false;
    bool debug = false;  // libfuse's request trace on standard error (implies foreground)
    std::size_t cache_bytes = kDefaultCacheBytes;
    // For repositories in object stores (store/repo/storage.h; "" or false: as the command line
    // or the defaults say): cache_dir=DIR, cacert=FILE, s3_virtual_host, and credentials from a
    // file rather than a command line that `ps` shows: credentials_file=FILE (an AWS shared
    // credentials file) with profile=NAME.
    std::string cache_dir, ca_file, credentials_file, aws_profile;
    // password_file=FILE: an encrypted repository's password, the first line of FILE (else as the
    // command line's --password-file and STRATA_PASSWORD_* say).
    std::string password_file;
    // disk_cache_size=SIZE: the bound of that on-disk chunk cache (0: none).
    std::uint64_t disk_cache_bytes = kDefaultDiskCacheBytes;
    // refresh=SECONDS: how often a mount of a repository in an object store looks for what other
    // hosts wrote (their snapshots appear, forgotten ones go); 0: never, only this host's
    // commands bring the cache up to date.
    unsigned refresh_seconds = kDefaultRefreshSeconds;
    bool s3_virtual_host = false;
};

// "1048576", "512K", "64M", "64MiB", "2G", "1T" (binary units, case-insensitive; "B" optional).
std::optional<std::size_t> parse_byte_size(std::string_view text);
// A whole number of seconds, 0 to 2^31 - 1 ("60"); nullopt for anything else.
std::optional<unsigned> parse_seconds(std::string_view text);

// Applies a comma-separated -o list: allow_other, cache_size=SIZE, debug, cache_dir=DIR,
// disk_cache_size=SIZE, refresh=SECONDS,
// cacert=FILE, s3_virtual_host, credentials_file=FILE, profile=NAME, password_file=FILE, and
// options a mount
// table entry may carry that need nothing from us (ro, rw, nosuid, nodev, noatime, noexec, auto,
// noauto, user, users, nofail, _netdev, defaults, x-*, comment=*; the mount is read-only
// whatever they say). Throws StoreError(Usage) naming the first option it does not know.
void apply_option_list(std::string_view list, MountOptions& options);

}  // namespace strata::fs
