// The source walker of an ingest: walks the directories and files given, file descriptor by file
// descriptor (openat, fstatat), into tree entries, storing file contents and trees through a
// BlobWriter. Its entries, directories and metadata are in source_walker.cpp, the reading and
// chunking of a file's content in source_file_reader.cpp; ingest.cpp assembles the snapshot.
// Internal to store/ingest/.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/format/chunker.h"
#include "store/ingest/blob_writer.h"
#include "store/ingest/exclude.h"
#include "store/ingest/ingest.h"
#include "store/ingest/source_read_ahead.h"

namespace strata {

// strerror(e) as a string.
std::string errstr(int e);
// The last component of `p` (trailing slashes ignored).
std::string base_name(std::string p);
// Reads every extended attribute of the object `fd` refers to. For O_PATH descriptors (symlinks,
// devices) the kernel's /proc/self/fd link reaches the object itself without following it.
std::vector<Xattr> read_xattrs(int fd, bool is_opath);

class Walker {
    using Clock = std::chrono::steady_clock;

  public:
    Walker(Repository& repo, const IngestOptions& opts, BlobWriter& writer)
        : repo_(repo),
          opts_(opts),
          writer_(writer),
          chunker_(repo.config().chunker, repo.codec().gear_table()) {
        for (const auto& p : opts.excludes) excludes_.add(p);
        for (const auto& f : opts.exclude_files) excludes_.add_file(f);
        started_ = Clock::now();
    }

    // Ingests the directory or file at the absolute `path`; `rel` is its path in the snapshot.
    // Returns the entry (for a directory, with its subtree stored). nullopt if it was excluded or
    // could not be read (a warning has been recorded).
    std::optional<TreeEntry> top(const std::string& path, const std::string& rel,
                                 const TreeEntry* parent);

    IngestProgress progress;
    std::vector<IngestWarning> warnings;

    void report(bool force);

    BlobId store_tree(const std::vector<TreeEntry>& entries);

  private:
    static std::string parent_dir_of(const std::string& p);

    // Out of descriptors or memory is this process's problem, not the file's: stop the ingest
    // (no snapshot) instead of recording a nearly empty one as partial.
    static void stop_if_exhausted(int e, const std::string& path);

    void warn(const std::string& path, const std::string& reason);

    const std::string& user_name(uid_t uid);
    const std::string& group_name(gid_t gid);

    // One directory entry `name` of the directory `dirfd`. `st` may be given (already lstat'ed).
    std::optional<TreeEntry> entry(int dirfd, const std::string& name, const std::string& path,
                                   const std::string& rel, const TreeEntry* parent,
                                   const struct stat* given);

    std::vector<Xattr> opath_xattrs(int dirfd, const std::string& name);

    bool directory(int dirfd, TreeEntry& e, const std::string& path, const std::string& rel,
                   const TreeEntry* parent, const struct stat& st);

    // A directory's tree. A listing larger than a tree may be (format::kMaxTreeBlobSize) would
    // make an unreadable blob: it is cut to the entries, in name order, that fit, and the cut
    // reported.
    BlobId store_dir_tree(std::vector<TreeEntry>& children, const std::string& path);

    // Tells the read-ahead about an entry the walker will visit soon; see
    // store/ingest/source_read_ahead.h. Excluded entries are not handed over, nor anything on
    // another file system than `dev`, nor files the parent records in a directory the read-ahead
    // has `warmed` already: stat'ing them was all it would do (the walker reads the few that
    // changed itself).
    void hand_ahead(int dirfd, dev_t dev, const std::string& name, const std::string& dir_path,
                    const std::string& dir_rel, const TreeEntry* prev, bool warmed);

    // Calls SourceReadAhead::finish for a directory descriptor when the walker leaves the
    // directory, also by an exception.
    class SourceReadAheadScope {
      public:
        SourceReadAheadScope(SourceReadAhead& ra, int dirfd) : ra_(ra), dirfd_(dirfd) {}
        ~SourceReadAheadScope() { ra_.finish(dirfd_); }
        SourceReadAheadScope(const SourceReadAheadScope&) = delete;
        SourceReadAheadScope& operator=(const SourceReadAheadScope&) = delete;

      private:
        SourceReadAhead& ra_;
        int dirfd_;
    };

    bool is_cache_dir(int dirfd);

    std::vector<std::string> list_dir(int fd, const std::string& path);

    static bool unchanged(const TreeEntry& prev, const TreeEntry& now);
    bool still_indexed(const std::vector<ChunkRef>& chunks) const;

    bool file(int dirfd, TreeEntry& e, const std::string& path, const TreeEntry* parent,
              const struct stat& st);

    bool read_file(int dirfd, TreeEntry& e, const std::string& path, const struct stat& st);

    // Reads [from, to) (to = UINT64_MAX: until end of file), chunking as it goes. `end` becomes
    // the offset just past the last byte read.
    // `expected_end` is where fstat said the file ends: reads are sized to it (growing the buffer
    // zero-fills it, and 8 MiB of zeroes per small file cost more than reading it), then a small
    // probe finds the real end of a file that grew.
    bool read_extent(int fd, TreeEntry& e, const std::string& path, std::uint64_t from,
                     std::uint64_t to, std::uint64_t& end, std::uint64_t expected_end = UINT64_MAX);

    struct LinkInfo {
        std::uint64_t group;
        std::vector<ChunkRef> chunks;
        std::uint64_t size;
        std::vector<Xattr> xattrs;
    };

    Repository& repo_;
    const IngestOptions& opts_;
    BlobWriter& writer_;
    Chunker chunker_;
    SourceReadAhead read_ahead_{true};
    ExcludeMatcher excludes_;
    Bytes buf_;
    bool growth_cut_ = false;  // the last read_file stopped at kGrowthLimit past the expected end
    dev_t root_dev_ = 0;
    std::size_t depth_ = 0;  // see directory()
    std::map<std::pair<std::uint64_t, std::uint64_t>, LinkInfo> links_;
    std::uint64_t link_groups_ = 0;
    std::unordered_map<uid_t, std::string> users_;
    std::unordered_map<gid_t, std::string> groups_;
    Clock::time_point started_, last_report_{};
};

}  // namespace strata
