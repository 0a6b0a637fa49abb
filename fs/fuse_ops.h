// The FUSE low-level operations of the mount: each request is mapped onto MountLayout (names,
// attributes), ChunkCache (file content) and ReadAhead (prefetch for sequential readers), and
// every one of them runs through a single errno funnel (FuseFilesystem::answer): nothing thrown
// inside crosses back into libfuse. Mapping: FsError -> its errno; StoreError NotFound -> ENOENT,
// Corruption/Io/Format -> EIO (logged with the inode and its path), Usage -> EINVAL; anything
// else -> EIO (logged). Every request that would modify the tree answers EROFS. Lookups and
// listings under history/ are answered for the user making the request (fuse_req_ctx), since
// the kernel cannot check that tree's union directories itself (docs/mount.md, "Permissions").
//
// Threads: libfuse calls the operations from its worker threads concurrently.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fs/chunk_cache.h"
#include "fs/file_content_cache.h"
#include "fs/layout.h"
#include "fs/mount_log.h"
#include "fs/page_cache_fill.h"
#include "fs/read_ahead.h"
#include "fs/tree_read_ahead.h"

namespace strata::fs {

// The largest request the kernel can send (its max_pages limit of 256 pages): reads and
// readdir buffers of up to this size.
inline constexpr std::uint32_t kMaxRequestBytes = 1u << 20;
// How far ahead of a sequential reader chunks are fetched (at most a quarter of the chunk cache,
// so prefetched data does not push out what readers are using).
inline constexpr std::uint64_t kReadAheadBytes = 8u << 20;
// Threads loading subdirectory trees ahead of a walk: their time goes to waiting for the disk,
// and a few reads in flight at once keep a (virtual) disk busy.
inline constexpr unsigned kTreeReadAheadWorkers = 3;

struct OpenDir;  // fuse_ops.cpp

class FuseFilesystem {
  public:
    // `on_ready` runs once, when the kernel's INIT request has been answered.
    FuseFilesystem(MountLayout& layout, ChunkCache& chunks, ReadAhead& read_ahead,
                   PageCacheFill& fill, MountLog& log, std::function<void()> on_ready);
    ~FuseFilesystem();

    // The operations table; the session's userdata must be this object.
    static const fuse_lowlevel_ops& operations();

    // Runs `body`, which must reply to `req` as its last act; if it throws instead, replies with
    // the mapped errno and logs what the mapping says to log. Never throws.
    template <class Body>
    void answer(fuse_req_t req, const char* op, fuse_ino_t ino, Body&& body) noexcept;

    // Called by the operations table (one per FUSE request type).
    void init(fuse_conn_info* conn);
    void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
    void forget(fuse_ino_t ino, std::uint64_t nlookup);
    void getattr(fuse_req_t req, fuse_ino_t ino);
    void readlink(fuse_req_t req, fuse_ino_t ino);
    void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
    void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off, fuse_file_info* fi,
                 bool plus);
    void releasedir(fuse_req_t req, fuse_file_info* fi);
    void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
    void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off);
    void lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence);
    void statfs(fuse_req_t req);
    void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, std::size_t size);
    void listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size);

    MountLayout& layout() { return layout_; }

  private:
    void log_failure(const char* op, fuse_ino_t ino, const std::string& what, int err);
    // The content and read state of a regular file (FsError for anything else).
    std::shared_ptr<ReadingFile> reading(const Node& node);
    fuse_entry_param entry_param(const Node& dir, const Node& node, const NodeAttr& attr) const;

    MountLayout& layout_;
    ChunkCache& chunks_;
    ReadAhead& read_ahead_;
    PageCacheFill& fill_;
    MountLog& log_;
    std::function<void()> on_ready_;
    FileContentCache files_;
    TreeReadAhead trees_ahead_;
    std::atomic<bool> no_open_{false};  // the kernel takes ENOSYS to open as "never ask again"
    const std::uint64_t read_ahead_bytes_;
    // The directory handles the kernel holds, from OPENDIR to RELEASEDIR, keyed by the handle
    // number it was given. Owned here rather than by the kernel's word: a RELEASEDIR still queued
    // when the session ends (SIGTERM while `ls` closes a directory) never comes.
    std::mutex open_dirs_mu_;
    std::unordered_map<std::uintptr_t, std::unique_ptr<OpenDir>> open_dirs_;
};

}  // namespace strata::fs
