#include "fs/fuse_ops.h"

#include <sys/statvfs.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "store/base/errors.h"

namespace strata::fs {

// An open directory: its listing as of opendir, which readdir pages through by index.
struct OpenDir {
    NodePtr node;
    MountLayout::Listing listing;
};

namespace {

// A read landing within this distance of where the previous one ended still counts as
// sequential: the kernel's asynchronous read-ahead sends neighbouring requests out of order.
constexpr std::uint64_t kSequentialSlack = 4u << 20;

const std::uint8_t* zeros() {
    static const Bytes block(kMaxRequestBytes, 0);
    return block.data();
}

int errno_for(const StoreError& e) {
    switch (e.kind()) {
        case StoreError::Kind::NotFound:
            return ENOENT;
        case StoreError::Kind::Usage:
            return EINVAL;
        case StoreError::Kind::Corruption:
        case StoreError::Kind::Io:
        case StoreError::Kind::Locked:
        case StoreError::Kind::Format:
            return EIO;
        case StoreError::Kind::Password:
            return EACCES;
    }
    return EIO;
}

FuseFilesystem& self(fuse_req_t req) {
    return *static_cast<FuseFilesystem*>(fuse_req_userdata(req));
}

// The supplementary groups of the thread `tid`, from the "Groups:" line of its /proc status; none
// if they cannot be read. (libfuse 3.14's fuse_req_getgroups reads the same file but runs strstr
// past the end of its unterminated buffer, which AddressSanitizer reports.)
std::vector<std::uint32_t> supplementary_groups(pid_t tid) {
    std::ifstream status("/proc/" + std::to_string(tid) + "/status");
    std::vector<std::uint32_t> groups;
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("Groups:", 0) != 0) continue;
        std::istringstream ids(line.substr(7));
        for (std::uint32_t gid; ids >> gid;) groups.push_back(gid);
        break;
    }
    return groups;
}

// The user behind `req`, for the checks the mount makes itself (under history/ only, see
// MountLayout::find_child). Its supplementary groups are read (from /proc) only if a group
// decides; if they cannot be read, the caller has its own gid only, which can only refuse more.
Caller caller_of(fuse_req_t req) {
    const fuse_ctx* ctx = fuse_req_ctx(req);
    const pid_t tid = ctx->pid;
    return Caller(ctx->uid, ctx->gid, [tid] { return supplementary_groups(tid); });
}

// Whether the mount checks a request on `dir` for its caller: under history/, whose directories
// are unions the kernel cannot check (everywhere else the kernel checks the stored attributes).
bool checked_per_caller(const Node& dir) { return dir.kind == NodeKind::HistoryDir; }

template <class T>
T* handle(fuse_file_info* fi) {
    return reinterpret_cast<T*>(static_cast<std::uintptr_t>(fi->fh));
}

// --- the C entry points: each forwards to the object through the funnel ---

void op_init(void* userdata, fuse_conn_info* conn) {
    try {
        static_cast<FuseFilesystem*>(userdata)->init(conn);
    } catch (...) {
        // init has no way to report failure; the defaults libfuse chose stay in force.
    }
}
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    self(req).lookup(req, parent, name);
}
void op_forget(fuse_req_t req, fuse_ino_t ino, std::uint64_t nlookup) {
    self(req).forget(ino, nlookup);
    fuse_reply_none(req);
}
void op_forget_multi(fuse_req_t req, std::size_t count, fuse_forget_data* forgets) {
    for (std::size_t i = 0; i < count; ++i) self(req).forget(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}
void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) { self(req).getattr(req, ino); }
void op_readlink(fuse_req_t req, fuse_ino_t ino) { self(req).readlink(req, ino); }
void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    self(req).opendir(req, ino, fi);
}
void op_readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, fuse_file_info* fi) {
    self(req).readdir(req, ino, size, off, fi, false);
}
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off,
                    fuse_file_info* fi) {
    self(req).readdir(req, ino, size, off, fi, true);
}
void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    self(req).releasedir(req, fi);
}
void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { self(req).open(req, ino, fi); }
void op_read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, fuse_file_info*) {
    self(req).read(req, ino, size, off);
}
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info*) {
    self(req).lseek(req, ino, off, whence);
}
void op_statfs(fuse_req_t req, fuse_ino_t) { self(req).statfs(req); }
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, std::size_t size) {
    self(req).getxattr(req, ino, name, size);
}
void op_listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size) {
    self(req).listxattr(req, ino, size);
}
// Nothing to flush in a read-only tree; ENOSYS tells the kernel never to send a flush again (it
// then lets close() succeed by itself), one request fewer per file.
void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, ENOSYS); }
void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(req, 0); }

// Everything that would change the tree. The mount is also mounted "ro", so the kernel refuses
// most of these itself; these answers cover the rest.
void erofs(fuse_req_t req) { fuse_reply_err(req, EROFS); }
void op_setattr(fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) { erofs(req); }
void op_mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { erofs(req); }
void op_mkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { erofs(req); }
void op_unlink(fuse_req_t req, fuse_ino_t, const char*) { erofs(req); }
void op_rmdir(fuse_req_t req, fuse_ino_t, const char*) { erofs(req); }
void op_symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { erofs(req); }
void op_rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) {
    erofs(req);
}
void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { erofs(req); }
void op_write(fuse_req_t req, fuse_ino_t, const char*, std::size_t, off_t, fuse_file_info*) {
    erofs(req);
}
void op_setxattr(fuse_req_t req, fuse_ino_t, const char*, const char*, std::size_t, int) {
    erofs(req);
}
void op_removexattr(fuse_req_t req, fuse_ino_t, const char*) { erofs(req); }
void op_create(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) { erofs(req); }
void op_fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) { erofs(req); }
void op_copy_file_range(fuse_req_t req, fuse_ino_t, off_t, fuse_file_info*, fuse_ino_t, off_t,
                        fuse_file_info*, std::size_t, int) {
    erofs(req);
}

fuse_lowlevel_ops make_operations() {
    fuse_lowlevel_ops ops{};
    ops.init = op_init;
    ops.lookup = op_lookup;
    ops.forget = op_forget;
    ops.forget_multi = op_forget_multi;
    ops.getattr = op_getattr;
    ops.readlink = op_readlink;
    ops.opendir = op_opendir;
    ops.readdir = op_readdir;
    ops.readdirplus = op_readdirplus;
    ops.releasedir = op_releasedir;
    ops.open = op_open;
    ops.read = op_read;
    ops.lseek = op_lseek;
    ops.statfs = op_statfs;
    ops.getxattr = op_getxattr;
    ops.listxattr = op_listxattr;
    ops.flush = op_flush;
    ops.fsync = op_fsync;
    ops.setattr = op_setattr;
    ops.mknod = op_mknod;
    ops.mkdir = op_mkdir;
    ops.unlink = op_unlink;
    ops.rmdir = op_rmdir;
    ops.symlink = op_symlink;
    ops.rename = op_rename;
    ops.link = op_link;
    ops.write = op_write;
    ops.setxattr = op_setxattr;
    ops.removexattr = op_removexattr;
    ops.create = op_create;
    ops.fallocate = op_fallocate;
    ops.copy_file_range = op_copy_file_range;
    return ops;
}

}  // namespace

const fuse_lowlevel_ops& FuseFilesystem::operations() {
    static const fuse_lowlevel_ops ops = make_operations();
    return ops;
}

FuseFilesystem::FuseFilesystem(MountLayout& layout, ChunkCache& chunks, ReadAhead& read_ahead,
                               PageCacheFill& fill, MountLog& log, std::function<void()> on_ready)
    : layout_(layout),
      chunks_(chunks),
      read_ahead_(read_ahead),
      fill_(fill),
      log_(log),
      on_ready_(std::move(on_ready)),
      trees_ahead_(layout.trees(), kTreeReadAheadWorkers),
      read_ahead_bytes_(std::min<std::uint64_t>(kReadAheadBytes, chunks.capacity() / 4)) {}

FuseFilesystem::~FuseFilesystem() = default;

template <class Body>
void FuseFilesystem::answer(fuse_req_t req, const char* op, fuse_ino_t ino, Body&& body) noexcept {
    int err = EIO;
    try {
        body();
        return;
    } catch (const FsError& e) {
        err = e.error;  // a request that makes no sense for this node: the caller's business
    } catch (const StoreError& e) {
        err = errno_for(e);
        if (err == EIO) log_failure(op, ino, e.what(), err);
    } catch (const std::bad_alloc&) {
        err = ENOMEM;
        log_failure(op, ino, "out of memory", err);
    } catch (const std::exception& e) {
        log_failure(op, ino, e.what(), err);
    } catch (...) {
        log_failure(op, ino, "unknown exception", err);
    }
    fuse_reply_err(req, err);
}

void FuseFilesystem::log_failure(const char* op, fuse_ino_t ino, const std::string& what, int err) {
    std::string path = "?";
    try {
        if (NodePtr n = layout_.inodes().find(ino)) path = MountLayout::path_of(*n);
    } catch (...) {
    }
    try {
        log_.error(std::string(op) + " of inode " + std::to_string(ino) + " (" + path +
                   ") failed with " + std::strerror(err) + ": " + what);
    } catch (...) {
    }
}

void FuseFilesystem::init(fuse_conn_info* conn) {
    auto want = [conn](unsigned cap) {
        if (conn->capable & cap) conn->want |= cap;
    };
    // Readdirplus on every listing, not only the first ("auto"): with long timeouts one request
    // then answers both the listing and the stat of each entry (walks about 10x faster,
    // docs/mount.md, "Caching").
    want(FUSE_CAP_READDIRPLUS);
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
    // Stored ACLs are enforced by the kernel as they were on the source (with default_permissions).
    want(FUSE_CAP_POSIX_ACL);
    // A symlink's node never changes its target (a moved link is a new node): cache them.
    want(FUSE_CAP_CACHE_SYMLINKS);
    want(FUSE_CAP_PARALLEL_DIROPS);
    want(FUSE_CAP_ASYNC_READ);
    // No open/release requests: without them the kernel opens files itself, keeping their page
    // cache (FOPEN_KEEP_CACHE is its default then), and copying a small file costs two requests
    // fewer. Reads find the file by inode (FileContentCache).
    want(FUSE_CAP_NO_OPEN_SUPPORT);
    no_open_ = (conn->want & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
    // Content never changes: never drop the page cache because an mtime was seen again.
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    // max_write also sets the kernel's max_pages, which bounds read requests too.
    conn->max_write = kMaxRequestBytes;
    conn->max_readahead = kMaxRequestBytes;
    if (on_ready_) on_ready_();
}

std::shared_ptr<ReadingFile> FuseFilesystem::reading(const Node& node) {
    return files_.get(node.key, [&] { return layout_.content(node); });
}

fuse_entry_param FuseFilesystem::entry_param(const Node& dir, const Node& node,
                                             const NodeAttr& attr) const {
    fuse_entry_param e{};
    e.ino = node.ino;
    e.generation = 0;
    e.attr = MountLayout::stat_of(node, attr);
    e.attr_timeout = layout_.attr_timeout(node);
    e.entry_timeout = layout_.entry_timeout(dir);
    return e;
}

void FuseFilesystem::lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    answer(req, "lookup", parent, [&] {
        NodePtr dir = layout_.node(parent);
        // Under history/ the answer depends on the caller. The kernel keeps it for no time
        // (kPerCallerTimeout), so each path walk through history/ asks again as its own user:
        // one user's lookup is never reused for another. That is the only place the check can
        // be: opens never reach the mount (FUSE_CAP_NO_OPEN_SUPPORT) and the kernel caches
        // symlink targets, but neither is reachable without walking the path first.
        std::optional<Child> child = checked_per_caller(*dir)
                                         ? layout_.find_child(dir, name, caller_of(req))
                                         : layout_.find_child(dir, name);
        if (!child) {
            // A negative entry the kernel may keep as long as names in this directory hold.
            fuse_entry_param e{};
            e.entry_timeout = layout_.entry_timeout(*dir);
            fuse_reply_entry(req, &e);
            return;
        }
        NodePtr node = layout_.remember(std::move(child->node), 1);
        fuse_entry_param e = entry_param(*dir, *node, child->attr);
        if (fuse_reply_entry(req, &e) != 0) layout_.forget(node->ino, 1);  // request interrupted
    });
}

void FuseFilesystem::forget(fuse_ino_t ino, std::uint64_t nlookup) {
    try {
        layout_.forget(ino, nlookup);
    } catch (...) {
    }
}

void FuseFilesystem::getattr(fuse_req_t req, fuse_ino_t ino) {
    answer(req, "getattr", ino, [&] {
        NodePtr node = layout_.node(ino);
        struct stat st = MountLayout::stat_of(*node, layout_.attributes(*node));
        fuse_reply_attr(req, &st, layout_.attr_timeout(*node));
    });
}

void FuseFilesystem::readlink(fuse_req_t req, fuse_ino_t ino) {
    answer(req, "readlink", ino, [&] {
        NodePtr node = layout_.node(ino);
        const std::string target = layout_.link_target(*node);
        fuse_reply_readlink(req, target.c_str());
    });
}

void FuseFilesystem::opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    answer(req, "opendir", ino, [&] {
        NodePtr node = layout_.node(ino);
        // A history/ listing holds what its opener may see, decided here as at open(2); it is
        // never put in the kernel's listing cache, which every user shares.
        std::unique_ptr<OpenDir> dir(new OpenDir{node, checked_per_caller(*node)
                                                           ? layout_.list(node, caller_of(req))
                                                           : layout_.list(node)});
        if (node->kind == NodeKind::Entry) {
            // A stored directory never changes: let the kernel keep its listing.
            fi->cache_readdir = 1;
            fi->keep_cache = 1;
        }
        // A walk goes into the subdirectories next: load their trees meanwhile.
        if (dir->listing.tree) trees_ahead_.request(*dir->listing.tree);
        const auto fh = reinterpret_cast<std::uintptr_t>(dir.get());
        fi->fh = fh;
        {
            std::lock_guard lock(open_dirs_mu_);
            open_dirs_.emplace(fh, std::move(dir));
        }
        // Not opened after all (the opener was interrupted): the kernel sends no RELEASEDIR.
        if (fuse_reply_open(req, fi) != 0) {
            std::lock_guard lock(open_dirs_mu_);
            open_dirs_.erase(fh);
        }
    });
}

void FuseFilesystem::readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off,
                             fuse_file_info* fi, bool plus) {
    answer(req, plus ? "readdirplus" : "readdir", ino, [&] {
        OpenDir& dir = *handle<OpenDir>(fi);
        const Node& self_node = *dir.node;
        std::vector<char> buf(std::min<std::size_t>(size, kMaxRequestBytes));
        std::size_t used = 0;
        std::optional<NodeAttr> self_attr;
        // Offsets: 0 "." and 1 ".." then the listing; an entry's `off` is where the next begins.
        const std::size_t total = 2 + dir.listing.size();
        for (std::size_t i = static_cast<std::size_t>(off); i < total; ++i) {
            char* at = buf.data() + used;
            const std::size_t room = buf.size() - used;
            const off_t next = static_cast<off_t>(i + 1);
            if (i < 2) {
                // The kernel does not count lookups of "." and ".." from readdirplus.
                if (!self_attr) self_attr = layout_.attributes(self_node);
                fuse_entry_param e{};
                e.attr = MountLayout::stat_of(self_node, *self_attr);
                if (i == 1 && self_node.parent) e.attr.st_ino = self_node.parent->ino;
                e.ino = e.attr.st_ino;
                const char* name = i == 0 ? "." : "..";
                std::size_t need = plus ? fuse_add_direntry_plus(req, at, room, name, &e, next)
                                        : fuse_add_direntry(req, at, room, name, &e.attr, next);
                if (need > room) break;
                used += need;
                continue;
            }
            std::optional<Child> child;
            try {
                child = layout_.child_at(dir.node, dir.listing, i - 2);
            } catch (...) {
                // Entries already in the buffer were counted as looked up: send them, and let
                // the next readdir (starting at this entry) report the error.
                if (used > 0) break;
                throw;
            }
            if (!child) continue;  // vanished since opendir
            if (!plus) {
                struct stat st {};
                st.st_ino = layout_.number_of(child->node);
                st.st_mode = child->attr.mode;
                std::size_t need =
                    fuse_add_direntry(req, at, room, child->node.name.c_str(), &st, next);
                if (need > room) break;
                used += need;
                continue;
            }
            // The listed name, not the node's: hard links share a node under several names.
            const std::string name = child->node.name;
            NodePtr node = layout_.remember(std::move(child->node), 1);
            fuse_entry_param e = entry_param(self_node, *node, child->attr);
            std::size_t need = fuse_add_direntry_plus(req, at, room, name.c_str(), &e, next);
            if (need > room) {
                layout_.forget(node->ino, 1);  // not sent: the kernel will not count it
                break;
            }
            used += need;
        }
        fuse_reply_buf(req, buf.data(), used);
    });
}

void FuseFilesystem::releasedir(fuse_req_t req, fuse_file_info* fi) {
    {
        std::lock_guard lock(open_dirs_mu_);
        open_dirs_.erase(static_cast<std::uintptr_t>(fi->fh));
    }
    fuse_reply_err(req, 0);
}

void FuseFilesystem::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    answer(req, "open", ino, [&] {
        // Answering ENOSYS once makes the kernel stop sending opens (and releases) for good; it
        // then opens files itself with FOPEN_KEEP_CACHE. Kernels without that get a real answer.
        if (no_open_) {
            fuse_reply_err(req, ENOSYS);
            return;
        }
        if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
            throw FsError(EROFS, "read-only");
        reading(*layout_.node(ino));  // EISDIR, EINVAL or EIO now rather than at the first read
        fi->keep_cache = 1;
        fi->noflush = 1;
        fuse_reply_open(req, fi);
    });
}

void FuseFilesystem::read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off) {
    answer(req, "read", ino, [&] {
        NodePtr node = layout_.node(ino);
        ReadingFile& file = *reading(*node);
        const auto offset = static_cast<std::uint64_t>(off);
        // A reader starting on a small file: store its small neighbours in the page cache ahead
        // of it (fs/page_cache_fill.h).
        if (offset == 0 && file.content.size() <= kFillFileBytes) fill_.request(*node);
        const auto pieces = file.content.plan_read(offset, size);
        const auto& chunks = file.content.chunks();
        std::vector<Chunk> held;  // keeps the bytes alive until the reply is written
        std::vector<iovec> iov;
        held.reserve(pieces.size());
        iov.reserve(pieces.size() + 1);
        std::uint64_t end = offset;
        for (const auto& p : pieces) {
            end += p.length;
            if (p.chunk == FileContent::kHole) {
                for (std::uint64_t left = p.length; left > 0;) {
                    std::size_t n =
                        static_cast<std::size_t>(std::min<std::uint64_t>(left, kMaxRequestBytes));
                    iov.push_back({const_cast<std::uint8_t*>(zeros()), n});
                    left -= n;
                }
                continue;
            }
            const ChunkRef& ref = chunks[p.chunk];
            Chunk c = chunks_.get(ref.id);
            if (c->size() != ref.size)
                throw_corruption(
                    "chunk " + ref.id.short_hex() + " holds " + std::to_string(c->size()) +
                    " bytes where the file's chunk list says " + std::to_string(ref.size));
            iov.push_back({const_cast<std::uint8_t*>(c->data() + p.offset_in_chunk),
                           static_cast<std::size_t>(p.length)});
            held.push_back(std::move(c));
        }
        // A reader that continues where it (roughly) stopped is sequential: fetch the chunks
        // after this read on the read-ahead workers while the kernel copies this one out.
        const std::uint64_t prev = file.last_end.exchange(end);
        const bool sequential =
            offset == 0 || (offset + kSequentialSlack >= prev && offset <= prev + kSequentialSlack);
        if (sequential && read_ahead_bytes_ > 0) {
            std::vector<BlobId> ahead;
            std::uint64_t bytes = 0;
            for (std::size_t i = file.content.chunk_after(end);
                 i < chunks.size() && bytes < read_ahead_bytes_; ++i) {
                ahead.push_back(chunks[i].id);
                bytes += chunks[i].size;
            }
            if (!ahead.empty()) read_ahead_.request(ahead);
        }
        fuse_reply_iov(req, iov.data(), static_cast<int>(iov.size()));
    });
}

void FuseFilesystem::lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence) {
    answer(req, "lseek", ino, [&] {
        ReadingFile& file = *reading(*layout_.node(ino));
        if (off < 0) throw FsError(EINVAL, "negative offset");
        std::optional<std::uint64_t> to;
        if (whence == SEEK_DATA)
            to = file.content.seek_data(static_cast<std::uint64_t>(off));
        else if (whence == SEEK_HOLE)
            to = file.content.seek_hole(static_cast<std::uint64_t>(off));
        else
            throw FsError(EINVAL, "lseek whence");
        if (!to) throw FsError(ENXIO, "no data or hole past the offset");
        fuse_reply_lseek(req, static_cast<off_t>(*to));
    });
}

void FuseFilesystem::statfs(fuse_req_t req) {
    answer(req, "statfs", kRootInode, [&] {
        // Used: what the repository stores; available: the room beside it (docs/mount.md, "df").
        constexpr unsigned long kBlock = 4096;
        MountLayout::Space s = layout_.space();
        struct statvfs st {};
        st.f_bsize = kBlock;
        st.f_frsize = kBlock;
        st.f_bfree = st.f_bavail = s.free_bytes / kBlock;
        st.f_blocks = (s.used_bytes + kBlock - 1) / kBlock + st.f_bfree;
        st.f_ffree = st.f_favail = s.free_files;
        st.f_files = s.used_files + s.free_files;
        st.f_namemax = 255;
        st.f_flag = ST_RDONLY;
        fuse_reply_statfs(req, &st);
    });
}

void FuseFilesystem::getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, std::size_t size) {
    answer(req, "getxattr", ino, [&] {
        NodePtr node = layout_.node(ino);
        for (const auto& x : layout_.xattrs(*node)) {
            if (x.name != name) continue;
            if (size == 0) {
                fuse_reply_xattr(req, x.value.size());
            } else if (size < x.value.size()) {
                fuse_reply_err(req, ERANGE);
            } else {
                fuse_reply_buf(req, x.value.data(), x.value.size());
            }
            return;
        }
        fuse_reply_err(req, ENODATA);
    });
}

void FuseFilesystem::listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size) {
    answer(req, "listxattr", ino, [&] {
        NodePtr node = layout_.node(ino);
        std::string names;
        for (const auto& x : layout_.xattrs(*node)) {
            names += x.name;
            names += '\0';
        }
        if (size == 0)
            fuse_reply_xattr(req, names.size());
        else if (size < names.size())
            fuse_reply_err(req, ERANGE);
        else
            fuse_reply_buf(req, names.data(), names.size());
    });
}

}  // namespace strata::fs
