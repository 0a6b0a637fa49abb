// Reads of a remote repository's packs in windows: a blob is read with the bytes after it, up
// to kPackWindowBytes, and the window is kept, so the blobs that follow it in the pack (the next
// files of a restore, the next chunks of a file the mount reads) cost no request of their own.
// Ingest writes blobs in the order it walks, so a restore in tree order reads packs front to back.
// Without it a restore of 10,000 small files sent 10,100 GETs (bench/s3_bench.sh).
//
// A read that falls inside a window being fetched by another thread waits for that fetch rather
// than sending a GET of its own (the mount's read-ahead workers load neighbouring chunks at once).
//
// Threads: any member from any thread.
#pragma once

#include <cstdint>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "store/backend/object_store.h"

namespace strata {

// Bytes per window by default: a few chunks (1 MiB on average), small beside a pack (16 MiB), one
// GET. A restore of many small files gets many of them per request.
inline constexpr std::size_t kPackWindowBytes = 4u << 20;
// Windows kept (the oldest goes first): room for a few readers of the mount at once; bounded
// memory, kPackWindows * window_bytes.
inline constexpr std::size_t kPackWindows = 8;

class PackWindows {
  public:
    explicit PackWindows(std::size_t window_bytes = kPackWindowBytes)
        : window_bytes_(window_bytes) {}

    // `len` bytes at `offset` of the pack `name`, whose size is `pack_size`: from a kept window,
    // or read with up to `window_bytes` after it and kept.
    Bytes read(ObjectStore& objects, const std::string& name, std::uint64_t pack_size,
               std::uint64_t offset, std::size_t len);

  private:
    struct Window {
        std::string name;
        std::uint64_t start;
        std::shared_ptr<const Bytes> bytes;
    };
    struct Loading {
        std::string name;
        std::uint64_t start, end;
        // The window's bytes, or null when the fetch failed or read the blob alone.
        std::shared_future<std::shared_ptr<const Bytes>> bytes;
    };
    const std::size_t window_bytes_;
    std::mutex mu_;
    std::list<Window> windows_;  // most recently used first
    std::list<Loading> loading_;
};

}  // namespace strata
