// Stores the contents of small files into the kernel's page cache before anyone asks for them,
// once a reader has started reading the small files of a directory (as `cp -a`, `tar` and `rsync`
// do). Each such file then costs its reader no READ request at all: the kernel finds its pages
// up to date. A read of a small file names its directory; a worker thread then loads the other
// small regular files of that directory (the kernel must already know their inodes, from a
// lookup or readdirplus) and hands each one's bytes to `Store` (in the mount:
// fuse_lowlevel_notify_store).
//
// Safe because snapshots never change: the stored bytes are what a READ would answer, and the
// kernel keeps a file's pages across opens (no open requests, auto_inval_data off).
//
// Order: the worker races the reader, so it stores the files in the order the reader appears
// to take them. `cp` (gnulib's savedir) copies a directory's entries by ascending inode number;
// `tar`, `rsync` and `find` go by name, the tree's order. If the file whose read triggered the
// fill has the lowest inode number of the directory's small files, the rest go by inode number;
// otherwise by name, from the one after it on, then those before it. (Stored by name, 50-190 of
// the 3,139 files of the benchmark's `cp -a` were still read by READ requests, beyond the one
// per directory that starts each fill: the reader got to them first.)
//
// Bounded: files of at most kFillFileBytes, at most kFillDirBytes per directory, each directory
// once per kFillDirsRemembered directories, a queue of kFillQueue directories (more are
// dropped). A stat walk (no reads) or a read of a large file triggers nothing. Failures are
// ignored: the reader's own READ then loads the file and reports the error with its path.
//
// Threads: request() from any thread; start() and stop() from the thread that owns the session.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "fs/chunk_cache.h"
#include "fs/layout.h"

namespace strata::fs {

// Files up to this size are stored ahead: for them the request per file dominates a copy; larger
// files are read in large requests with the kernel's own read-ahead.
inline constexpr std::uint64_t kFillFileBytes = 64u << 10;
// Bytes stored ahead per directory, so one read in a huge directory does not fill the page
// cache with files nobody reads.
inline constexpr std::uint64_t kFillDirBytes = 8u << 20;
// Directories remembered as done, so reading every file of one directory triggers one fill.
inline constexpr std::size_t kFillDirsRemembered = 1024;
// Directories waiting for the worker; a reader far ahead of it gets no help rather than a backlog.
inline constexpr std::size_t kFillQueue = 16;

class PageCacheFill {
  public:
    // Stores `size` bytes at offset 0 of inode `ino`; returns 0 or a negative errno.
    using Store = std::function<int(std::uint64_t ino, const std::uint8_t* data, std::size_t size)>;

    PageCacheFill(MountLayout& layout, ChunkCache& chunks);
    ~PageCacheFill();  // stop()s
    PageCacheFill(const PageCacheFill&) = delete;
    PageCacheFill& operator=(const PageCacheFill&) = delete;

    // Starts the worker; until then requests are ignored.
    void start(Store store);
    // Ends the worker after the file it is storing; no Store call happens after it returns.
    void stop();

    // `file` (a node the kernel knows) is being read: fill its directory unless already done.
    void request(const Node& file);

    struct Stats {
        std::uint64_t directories = 0, files = 0, bytes = 0, failed = 0;
    };
    Stats stats() const;

  private:
    struct Job {
        NodeKey dir_key;
        std::shared_ptr<const Node> dir;
        BlobId tree;
        std::shared_ptr<const SnapshotInfo> snapshot;
        std::uint32_t skip;         // the index of the file being read
        std::uint64_t reading_ino;  // and its inode number
    };
    void work();
    void fill(const Job& job);
    bool stopping() const;

    MountLayout& layout_;
    ChunkCache& chunks_;
    Store store_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    // Directories filled or queued, most recent first, for kFillDirsRemembered of them.
    std::list<NodeKey> done_order_;
    std::unordered_set<NodeKey, NodeKeyHash> done_;
    bool running_ = false, stopping_ = false;
    Stats stats_;
    std::thread worker_;
};

}  // namespace strata::fs
