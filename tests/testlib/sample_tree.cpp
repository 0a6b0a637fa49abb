#include "tests/testlib/sample_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "tests/testlib/process.h"
#include "tests/testlib/temp_dir.h"

namespace strata::testing {
namespace {

void check(int rc, const std::string& what) {
    if (rc != 0) throw std::runtime_error("sample tree: " + what + ": " + std::strerror(errno));
}

void write_at(int fd, const std::string& data, off_t off, const std::string& what) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, off + static_cast<off_t>(done));
        if (n < 0) check(-1, "write " + what);
        done += static_cast<std::size_t>(n);
    }
}

void set_xattr(const std::string& path, const std::string& name, const std::string& value) {
    check(::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0), "setxattr " + name + " on " + path);
}

// A POSIX ACL in the kernel's xattr encoding (version 2; entries of tag, perm, id; sorted by tag).
std::string acl_xattr(const std::vector<std::tuple<std::uint16_t, std::uint16_t, std::uint32_t>>& entries) {
    std::string s;
    auto put = [&](std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) s += static_cast<char>(v >> (8 * i));
    };
    put(2, 4);
    for (auto [tag, perm, id] : entries) {
        put(tag, 2);
        put(perm, 2);
        put(id, 4);
    }
    return s;
}
constexpr std::uint16_t kAclUserObj = 1, kAclUser = 2, kAclGroupObj = 4, kAclGroup = 8, kAclMask = 16,
                        kAclOther = 32;
constexpr std::uint32_t kAclUndefinedId = 0xffffffffu;

// Sets an ACL with setfacl (what a user would run); falls back to writing the xattr directly
// when the acl package is missing, which gives the kernel the same bytes.
void set_acl(const std::string& path, bool default_acl) {
    std::vector<std::string> argv{"setfacl"};
    if (default_acl) argv.push_back("-d");
    argv.insert(argv.end(), {"-m", "u::rwx,u:1234:rw-,g::r-x,g:5678:r--,m::rwx,o::r-x", path});
    RunResult r = run_process(argv);
    if (r.exit_code == 0) return;
    if (r.exit_code != 127) throw std::runtime_error("setfacl " + path + " failed: " + r.err);
    set_xattr(path, default_acl ? "system.posix_acl_default" : "system.posix_acl_access",
              acl_xattr({{kAclUserObj, 7, kAclUndefinedId},
                         {kAclUser, 6, 1234},
                         {kAclGroupObj, 5, kAclUndefinedId},
                         {kAclGroup, 4, 5678},
                         {kAclMask, 7, kAclUndefinedId},
                         {kAclOther, 5, kAclUndefinedId}}));
}

// security.capability, revision 2, effective, permitted = CAP_NET_RAW (bit 13): what
// `setcap cap_net_raw+ep` writes.
std::string net_raw_capability() {
    std::string s;
    auto put = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) s += static_cast<char>(v >> (8 * i));
    };
    put(0x02000000u | 1u);  // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
    put(1u << 13);          // permitted, low word
    put(0);                 // inheritable, low word
    put(0);                 // permitted, high word
    put(0);                 // inheritable, high word
    return s;
}

void make_file(const std::string& path, const std::string& content, mode_t mode) {
    write_file(path, content);
    check(::chmod(path.c_str(), mode), "chmod " + path);
}

void make_dir(const std::string& path, mode_t mode = 0755) {
    check(::mkdir(path.c_str(), 0700), "mkdir " + path);
    check(::chmod(path.c_str(), mode), "chmod " + path);
}

void make_socket(const std::string& path) {
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    check(s < 0 ? -1 : 0, "socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int rc = ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(s);
    check(rc, "bind " + path);
}

std::string long_component(int level) {
    std::string name = "d" + std::to_string(level) + "-";
    name.resize(kLongChainNameLength, 'x');
    return name;
}

void make_long_chain(const std::string& base) {
    int fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(fd < 0 ? -1 : 0, "open " + base);
    for (int level = 0; level < kLongChainDepth; ++level) {
        const std::string name = long_component(level);
        check(::mkdirat(fd, name.c_str(), 0755), "mkdirat level " + std::to_string(level));
        int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ::close(fd);
        check(next < 0 ? -1 : 0, "openat level " + std::to_string(level));
        fd = next;
    }
    int f = ::openat(fd, "deep.txt", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    check(f < 0 ? -1 : 0, "create deep.txt");
    write_at(f, "at the bottom of a path longer than PATH_MAX\n", 0, "deep.txt");
    ::close(f);
    check(::symlinkat("deep.txt", fd, "deep-link"), "symlink deep-link");
    check(::fsetxattr(fd, "user.deep", "yes", 3, 0), "xattr on the deepest directory");
    ::close(fd);
}

void stamp(int dirfd, const char* name, bool is_root, std::int64_t base, std::uint64_t& counter) {
    struct stat st;
    check(::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW), "stat for stamping");
    if (S_ISDIR(st.st_mode)) {
        int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        check(fd < 0 ? -1 : 0, "open for stamping");
        int dup = ::dup(fd);
        DIR* d = ::fdopendir(dup);
        std::vector<std::string> names;
        while (dirent* de = ::readdir(d))
            if (std::strcmp(de->d_name, ".") && std::strcmp(de->d_name, "..")) names.emplace_back(de->d_name);
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) stamp(fd, n.c_str(), false, base, counter);
        ::close(fd);
    }
    ++counter;
    struct timespec ts[2];
    ts[0].tv_sec = base + static_cast<std::int64_t>(counter) * 3607;
    ts[0].tv_nsec = static_cast<long>((counter * 7919u + 123456789u) % 1000000000u);
    if (std::strcmp(name, "ancient") == 0) ts[0].tv_sec = -86400LL * 365 * 10 - 12345;
    ts[1] = ts[0];
    (void)is_root;
    check(::utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW), std::string("utimensat ") + name);
}

}  // namespace

std::string random_data(std::size_t n, std::uint64_t seed) {
    std::string out(n, '\0');
    // splitmix64 streams differ only by where they start in one long sequence: hash the seed so
    // two seeds start far apart (a plain seed * constant made seed+1 the same bytes shifted by 8).
    std::uint64_t x = seed + 0x632be59bd9b4e019ull;
    x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdull;
    x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    std::size_t i = 0;
    while (i < n) {
        // splitmix64
        x += 0x9e3779b97f4a7c15ull;
        std::uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        std::size_t k = std::min<std::size_t>(8, n - i);
        std::memcpy(out.data() + i, &z, k);
        i += k;
    }
    return out;
}

void write_random_file(const std::string& path, std::size_t n, std::uint64_t seed) {
    write_file(path, random_data(n, seed));
}

std::string long_chain_file() {
    std::string p = "long";
    for (int level = 0; level < kLongChainDepth; ++level) p += "/" + long_component(level);
    return p + "/deep.txt";
}

void stamp_mtimes(const std::string& root, std::int64_t base) {
    std::uint64_t counter = 0;
    stamp(AT_FDCWD, root.c_str(), true, base, counter);
}

void make_every_kind_tree(const std::string& r) {
    make_dir(r, 0755);
    // Regular files.
    make_file(r + "/empty", "", 0600);
    make_file(r + "/small.txt", "hello, strata\n", 0644);
    write_random_file(r + "/big.bin", (9u << 20) + 12345, 1);
    make_file(r + "/ancient", "from before 1970\n", 0644);
    {
        const std::string p = r + "/sparse.bin";
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        check(fd < 0 ? -1 : 0, "create " + p);
        write_at(fd, random_data(4096, 2), 0, p);
        write_at(fd, random_data(64 << 10, 3), 5 << 20, p);
        write_at(fd, random_data(4096, 4), 16 << 20, p);
        check(::ftruncate(fd, 20 << 20), "truncate " + p);
        ::close(fd);
        const std::string h = r + "/hole_only.bin";
        fd = ::open(h.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        check(fd < 0 ? -1 : 0, "create " + h);
        check(::ftruncate(fd, 1 << 20), "truncate " + h);
        ::close(fd);
    }
    // Mode bits. chown before chmod: chown clears setuid/setgid.
    make_dir(r + "/modes");
    make_file(r + "/modes/setuid", "#!/bin/sh\n", 0644);
    check(::chown((r + "/modes/setuid").c_str(), 1234, 5678), "chown setuid");
    check(::chmod((r + "/modes/setuid").c_str(), 04755), "chmod setuid");
    make_file(r + "/modes/setgid", "#!/bin/sh\n", 02711);
    make_file(r + "/modes/none", "no permissions at all\n", 0);
    make_file(r + "/modes/all", "every permission\n", 0777);
    make_dir(r + "/modes/sticky_dir", 01777);
    make_dir(r + "/modes/setgid_dir", 02775);
    make_file(r + "/modes/setgid_dir/inner", "inside a setgid directory\n", 0664);
    // Ownership.
    make_dir(r + "/owned", 0750);
    make_file(r + "/owned/file", "owned by 1234:5678\n", 0640);
    check(::chown((r + "/owned/file").c_str(), 1234, 5678), "chown owned/file");
    check(::chown((r + "/owned").c_str(), 1234, 5678), "chown owned");
    make_dir(r + "/owned/dir", 0700);
    check(::chown((r + "/owned/dir").c_str(), 1234, 5678), "chown owned/dir");
    check(::symlink("file", (r + "/owned/link").c_str()), "symlink owned/link");
    check(::lchown((r + "/owned/link").c_str(), 4321, 8765), "lchown owned/link");
    // Hard links.
    make_dir(r + "/links");
    make_dir(r + "/links/sub");
    make_file(r + "/links/a", "one inode, three names\n", 0640);
    check(::link((r + "/links/a").c_str(), (r + "/links/b").c_str()), "link b");
    check(::link((r + "/links/a").c_str(), (r + "/links/sub/c").c_str()), "link sub/c");
    make_file(r + "/links/x", random_data(300000, 5), 0600);
    set_xattr(r + "/links/x", "user.link", "shared by x and y");
    check(::link((r + "/links/x").c_str(), (r + "/links/y").c_str()), "link y");
    // Symlinks.
    make_dir(r + "/symlinks");
    check(::symlink("../small.txt", (r + "/symlinks/rel").c_str()), "symlink rel");
    check(::symlink("/etc/hostname", (r + "/symlinks/abs").c_str()), "symlink abs");
    check(::symlink("does/not/exist", (r + "/symlinks/dangling").c_str()), "symlink dangling");
    check(::symlink("../modes", (r + "/symlinks/dir").c_str()), "symlink dir");
    check(::symlink(std::string(300, 't').c_str(), (r + "/symlinks/long").c_str()), "symlink long");
    check(::symlink("\xff\xfe/target\nwith newline", (r + "/symlinks/bytes").c_str()), "symlink bytes");
    // Special files: recorded, never opened.
    make_dir(r + "/special");
    check(::mkfifo((r + "/special/fifo").c_str(), 0640), "mkfifo");
    check(::chmod((r + "/special/fifo").c_str(), 0640), "chmod fifo");
    make_socket(r + "/special/socket");
    check(::mknod((r + "/special/char").c_str(), S_IFCHR | 0600, makedev(300, 70000)), "mknod char");
    check(::chmod((r + "/special/char").c_str(), 0620), "chmod char");
    check(::mknod((r + "/special/block").c_str(), S_IFBLK | 0600, makedev(8, 1)), "mknod block");
    check(::chmod((r + "/special/block").c_str(), 0660), "chmod block");
    // Extended attributes in every namespace root can write.
    make_dir(r + "/xattrs");
    make_file(r + "/xattrs/file", "with xattrs\n", 0644);
    set_xattr(r + "/xattrs/file", "user.a", "1");
    set_xattr(r + "/xattrs/file", "user.binary", std::string("\0\x01\xff\n", 4));
    set_xattr(r + "/xattrs/file", "user.empty", "");
    set_xattr(r + "/xattrs/file", "trusted.t", "trusted value");
    make_dir(r + "/xattrs/dir");
    set_xattr(r + "/xattrs/dir", "user.d", "on a directory");
    check(::symlink("file", (r + "/xattrs/symlink").c_str()), "symlink xattrs/symlink");
    set_xattr(r + "/xattrs/symlink", "trusted.l", "on the link itself");
    check(::mkfifo((r + "/xattrs/fifo").c_str(), 0600), "mkfifo xattrs/fifo");
    set_xattr(r + "/xattrs/fifo", "trusted.f", "on a fifo");
    check(::mknod((r + "/xattrs/char").c_str(), S_IFCHR | 0600, makedev(1, 3)), "mknod xattrs/char");
    set_xattr(r + "/xattrs/char", "trusted.c", "on a device");
    make_file(r + "/xattrs/cap", "pretend binary\n", 0755);
    check(::chown((r + "/xattrs/cap").c_str(), 1234, 5678), "chown cap");  // before: chown clears caps
    set_xattr(r + "/xattrs/cap", "security.capability", net_raw_capability());
    make_file(r + "/xattrs/acl", "with an access ACL\n", 0644);
    set_acl(r + "/xattrs/acl", false);
    make_dir(r + "/xattrs/acl_dir");
    set_acl(r + "/xattrs/acl_dir", false);
    set_acl(r + "/xattrs/acl_dir", true);
    // Names that are any bytes but '/' and NUL.
    make_dir(r + "/names");
    for (const char* n : {"\xff\xfe-latin1-\xe9", "line\nbreak", "tab\there", "back\\slash", " spaces ",
                          "-dash", "*?[glob]", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\x1b[31mescape"})
        make_file(r + "/names/" + n, std::string("name: ") + n + "\n", 0644);
    // Paths longer than PATH_MAX.
    make_dir(r + "/long");
    make_long_chain(r + "/long");
    make_dir(r + "/empty_dir", 0700);
    check(::chown(r.c_str(), 1234, 5678), "chown root");
    check(::chmod(r.c_str(), 0751), "chmod root");
    stamp_mtimes(r, 1500000000);
}

}  // namespace strata::testing
