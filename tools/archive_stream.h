// What `strata dump` writes to standard output: a file's content in order (raw, holes as zeros)
// and tar or zip archives, written with libarchive (the archive library of bsdtar). Only
// archive_stream.cpp includes libarchive's headers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/repo/reader.h"
#include "tools/cli_io.h"

namespace strata::cli {

// Standard output: its descriptor, or io.out when there is none (in-process tests).
class StdoutSink {
  public:
    explicit StdoutSink(CliIo& io) : io_(io) {}
    // Writes all of [p, p + n); throws Io "cannot write to standard output: <reason>".
    void write(const void* data, std::size_t n);

  private:
    CliIo& io_;
};

// Hands a file's content to `sink` in order, a chunk or a block of zeros (a hole) at a time,
// so that nothing is held whole. A chunk that cannot be read, or is not the size the tree says,
// throws naming `path`.
void stream_content(RepositoryReader& repo, const TreeEntry& e, const std::string& path,
                    const std::function<void(const std::uint8_t*, std::size_t)>& sink);

enum class ArchiveFormat { Tar, Zip };

// An archive written to a StdoutSink. Tar is pax: nanosecond mtimes, xattrs (SCHILY.xattr),
// POSIX ACLs (SCHILY.acl), hard links and GNU sparse maps. Zip holds files, directories and
// symlinks. Until close() succeeds, destroying it writes nothing more: a failed dump leaves the
// archive cut where it failed, without its end-of-archive blocks, never one that was finished.
class ArchiveStream {
  public:
    virtual ~ArchiveStream() = default;
    // Adds `e` as `path` (a directory's contents are added by the caller, after it); its
    // content is read from `repo` as it is written. Returns false when the format cannot hold
    // the entry and it was left out (a warning on io.err). Throws StoreError when the output or
    // the repository fails.
    virtual bool add(RepositoryReader& repo, const TreeEntry& e, const std::string& path) = 0;
    // Writes the archive's end and flushes it.
    virtual void close() = 0;
};

// Starts an archive of `format` on `out`; warnings go to io.err.
std::unique_ptr<ArchiveStream> open_archive_stream(ArchiveFormat format, StdoutSink& out,
                                                   CliIo& io);

}  // namespace strata::cli
