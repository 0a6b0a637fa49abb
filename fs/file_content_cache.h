// The chunk lists of the files being read, by node key. The mount answers no FUSE `open` (the
// kernel then sends none, nor `release`: two requests fewer per file copied), so a read names
// only the inode; this cache keeps what the read needs between requests: the file's content and
// where its last read ended, to recognize sequential readers. Content under a key never changes,
// so an entry never goes stale; the least recently used go once their chunk lists exceed the
// budget.
//
// Threads: every member may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "fs/file_content.h"
#include "fs/node.h"

namespace strata::fs {

// Chunk lists kept: about 90k chunk references, i.e. the lists of files totalling ~90 GB at the
// default 1 MiB chunks.
inline constexpr std::size_t kFileContentCacheBytes = 4u << 20;

struct ReadingFile {
    explicit ReadingFile(FileContent c) : content(std::move(c)) {}
    const FileContent content;
    std::atomic<std::uint64_t> last_end{0};  // where the last read of it ended
};

class FileContentCache {
  public:
    explicit FileContentCache(std::size_t budget_bytes = kFileContentCacheBytes);

    // The file under `key`, made by `make` (which may throw) if it is not cached.
    std::shared_ptr<ReadingFile> get(const NodeKey& key, const std::function<FileContent()>& make);
    std::size_t count() const;

  private:
    struct Slot {
        std::shared_ptr<ReadingFile> file;
        std::size_t bytes;
        std::list<NodeKey>::iterator lru;
    };
    const std::size_t budget_;
    mutable std::mutex mu_;
    std::list<NodeKey> lru_;  // most recent first
    std::unordered_map<NodeKey, Slot, NodeKeyHash> slots_;
    std::size_t bytes_ = 0;
};

}  // namespace strata::fs
