#include "store/ingest/stream_ingest.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "store/base/crash_point.h"
#include "store/base/host_name.h"
#include "store/format/chunker.h"
#include "store/ingest/blob_writer.h"
#include "store/ingest/recovery.h"
#include "store/ingest/snapshot_fields.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

// Bytes read from the stream at a time: as for a file (source_file_reader.cpp), a few
// maximum-size chunks, so the chunker rarely waits for more.
constexpr std::size_t kReadBlock = 8u << 20;
// How often on_progress is called while the stream is read.
constexpr auto kProgressInterval = std::chrono::milliseconds(200);
// The mode of the stream's file: a database dump is nobody else's business.
constexpr std::uint32_t kStreamFileMode = 0600;

void set_time(TreeEntry& e, std::chrono::system_clock::time_point t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    e.mtime_sec = ns / 1000000000;
    e.mtime_nsec = static_cast<std::uint32_t>(ns % 1000000000);
    e.ctime_sec = e.mtime_sec;
    e.ctime_nsec = e.mtime_nsec;
}

void check_options(const IngestOptions& opts, const StreamSource& src) {
    if (!opts.paths.empty()) throw_usage("a stream is ingested without PATHs");
    if (!opts.excludes.empty() || !opts.exclude_files.empty() || opts.one_file_system ||
        opts.exclude_caches || opts.force_reread)
        throw_usage(
            "excludes, --one-file-system, --exclude-caches and --force-reread are about walking "
            "a tree, not a stream");
    if (!valid_entry_name(src.name))
        throw_usage("\"" + src.name + "\" cannot be a file name (no '/', not empty, . or ..)");
    if (!src.open) throw_usage("a stream source needs an open function");
}

// Reads `fd` to its end, chunking as it goes; returns the number of bytes read. Calls `progress`
// with the bytes so far after every block. The buffer is allocated once: a pipe gives at most
// 64 KiB per read, and growing a vector for each would zero-fill it again every time.
std::uint64_t read_stream(int fd, const std::string& what, const Chunker& chunker,
                          BlobWriter& writer, std::vector<ChunkRef>& chunks,
                          const std::function<void(std::uint64_t)>& progress) {
    Bytes buf(kReadBlock + chunker.params().max_size);
    std::size_t filled = 0;
    std::uint64_t offset = 0;
    bool eof = false;
    while (!eof || filled > 0) {
        // Fill up to a block past the largest chunk, so the chunker always finds a boundary.
        while (!eof && filled < buf.size()) {
            ssize_t n = ::read(fd, buf.data() + filled, buf.size() - filled);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_io("cannot read " + what + " at byte " + std::to_string(offset + filled),
                         errno);
            }
            if (n == 0) eof = true;
            filled += static_cast<std::size_t>(n);
        }
        std::size_t start = 0;
        while (start < filled) {
            ByteView rest(buf.data() + start, filled - start);
            std::size_t len = chunker.next_boundary(rest, eof);
            if (len == 0) break;
            Bytes chunk(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(len));
            BlobId id = writer.put(std::move(chunk), format::BlobType::Data);
            chunks.push_back({offset, id, static_cast<std::uint32_t>(len)});
            offset += len;
            start += len;
        }
        std::memmove(buf.data(), buf.data() + start, filled - start);
        filled -= start;
        progress(offset + filled);
    }
    return offset;
}

}  // namespace

IngestResult ingest_stream(Repository& repo, const IngestOptions& in, const StreamSource& src) {
    check_options(in, src);
    IngestOptions opts = in;
    if (opts.host.empty()) opts.host = host_name();
    const std::vector<std::string> paths{"/" + src.name};

    auto lock = repo.lock_for_writing("ingest", opts.lock_wait_seconds);
    adopt_unindexed_packs(repo);  // packs a killed writer made durable but did not index
    const auto started_wall = std::chrono::system_clock::now();
    const auto started = Clock::now();

    // The parent, as for a tree: the newest snapshot of the same host and path. It gives the
    // progress its expected size; the chunks dedup against the index whatever the parent.
    std::optional<Snapshot> parent;
    for (const auto& s : repo.snapshots())
        if (s.rec.host == opts.host && s.rec.paths == paths) parent = s;

    const int fd = src.open();
    unsigned threads =
        opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
    BlobWriter writer(repo, threads);
    Chunker chunker(repo.config().chunker, repo.codec().gear_table());

    TreeEntry file;
    file.name = src.name;
    file.type = EntryType::File;
    file.mode = kStreamFileMode;
    file.uid = ::geteuid();
    file.gid = ::getegid();
    file.user = owner_user_name(file.uid);
    file.group = owner_group_name(file.gid);
    file.nlink = 1;

    IngestProgress progress;
    progress.expected_bytes = parent ? parent->rec.bytes : 0;
    progress.current = src.description;
    auto last_report = Clock::now();
    auto report = [&](std::uint64_t bytes, bool force) {
        progress.bytes = bytes;
        const auto now = Clock::now();
        if (!opts.on_progress || (!force && now - last_report < kProgressInterval)) return;
        last_report = now;
        progress.elapsed_seconds = std::chrono::duration<double>(now - started).count();
        opts.on_progress(progress);
    };
    file.size = read_stream(fd, src.description, chunker, writer, file.chunks,
                            [&](std::uint64_t b) { report(b, false); });
    if (src.finish) src.finish();
    // The file's time is when its content was complete, as a file's mtime is its last write.
    set_time(file, std::chrono::system_clock::now());
    progress.files = 1;

    const BlobId root = writer.put(encode_tree({file}), format::BlobType::Tree);
    writer.flush();
    crash_point("before-snapshot");

    TreeEntry root_meta;
    root_meta.type = EntryType::Dir;
    root_meta.mode = 0755;
    root_meta.uid = file.uid;
    root_meta.gid = file.gid;
    root_meta.nlink = 2;
    set_time(root_meta, started_wall);
    root_meta.ctime_sec = root_meta.ctime_nsec = 0;
    root_meta.subtree = root;

    SnapshotRecord rec = start_record(opts, paths, started_wall);
    if (parent) rec.parent = parent->id;
    rec.root = root;
    rec.root_meta = root_meta;
    rec.files = 1;
    rec.dirs = 0;
    rec.bytes = file.size;
    rec.bytes_added = writer.bytes_added();
    rec.blobs_added = writer.blobs_added();
    rec.duration_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count());
    BlobId id = repo.save_snapshot(rec);
    report(file.size, true);
    return {{id, rec}, {}, file.size};
}

}  // namespace strata
