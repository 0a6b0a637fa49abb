// Generated source trees for end-to-end tests.
#pragma once

#include <cstdint>
#include <string>

namespace strata::testing {

// `n` pseudo-random bytes from `seed` (fast; incompressible for zstd).
std::string random_data(std::size_t n, std::uint64_t seed);
// Writes `n` random bytes from `seed` to `path`.
void write_random_file(const std::string& path, std::size_t n, std::uint64_t seed);

// Length of the deep chain made by make_every_kind_tree: more than PATH_MAX (4096) bytes.
inline constexpr int kLongChainDepth = 22;
inline constexpr int kLongChainNameLength = 200;

// Builds under `root` (created) a tree holding every kind of entry strata must carry. Requires
// root privileges (device nodes, chown, trusted.* and security.* xattrs). Made, by relative path:
//   empty, small.txt, big.bin (9 MiB + 12345 random: several chunks), ancient (mtime before 1970)
//   sparse.bin (20 MiB with three data extents), hole_only.bin (1 MiB, no data at all)
//   modes/{setuid 04755, setgid 02711, none 0000, all 0777, sticky_dir 01777, setgid_dir 02775/inner}
//   owned/{file 1234:5678, dir 1234:5678, link (symlink) 4321:8765}
//   links/{a, b, sub/c} one inode; links/{x, y} another, with an xattr
//   symlinks/{rel, abs, dangling, dir, long (300 bytes), bytes (non-UTF-8 with a newline)}
//   special/{fifo, socket (a bound unix socket), char (300:70000), block (8:1)}
//   xattrs/{file user.+trusted., dir, symlink trusted., fifo trusted., char trusted., cap
//           security.capability, acl (access ACL), acl_dir (access + default ACL)}
//   names/ entries whose names hold bytes 0xff 0xfe, a newline, a tab, a backslash, spaces,
//          a leading dash, glob characters and UTF-8
//   long/d…/d…/… kLongChainDepth directories of kLongChainNameLength bytes, then deep.txt and
//          deep-link: their paths are longer than PATH_MAX
//   empty_dir
// Finally every entry gets a distinct mtime with nanoseconds (directories after their contents),
// and the root itself mode 0751, owner 1234:5678.
void make_every_kind_tree(const std::string& root);

// Gives every entry below `root` (and root itself) a distinct mtime with nanoseconds derived from
// `base`, children before their directory. Works through descriptors (long paths are fine).
void stamp_mtimes(const std::string& root, std::int64_t base);

// The relative path of the deep file made by make_every_kind_tree.
std::string long_chain_file();

}  // namespace strata::testing
