#include "store/maintenance/repacker.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <future>
#include <memory>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "store/base/crash_point.h"
#include "store/format/compress.h"
#include "store/format/format.h"
#include "store/format/object_names.h"
#include "store/format/pack.h"
#include "store/repo/pending_deletion.h"

namespace strata::pruning {
namespace {

// Repack reads the used blobs of a pack in spans of at most this many bytes: large sequential
// reads, while memory stays at a few spans (a single larger blob is read alone).
constexpr std::uint64_t kRepackReadBytes = 4u << 20;
// Unused bytes between two used blobs that are read through rather than skipped: less than the
// cost of another read, and the kernel's readahead would fetch most of them anyway.
constexpr std::uint64_t kRepackMaxGap = 256u << 10;
// Spans read and checked ahead of the one being written: two keep both cores busy checking
// while the writing thread waits on the disk.
constexpr std::size_t kRepackSpansAhead = 2;

}  // namespace

void Repacker::copy_all(const std::vector<BlobToCopy>& copies,
                        const std::unordered_map<std::uint32_t, PackInfo>& packs,
                        const std::function<void()>& on_pack_done) {
    struct Span {
        std::string name;  // of the pack
        std::uint64_t start = 0, end = 0;
        std::size_t first = 0, last = 0;  // copies[first, last)
    };
    std::vector<Span> spans;
    for (std::size_t i = 0; i < copies.size();) {
        const BlobLocation& head = copies[i].loc;
        Span sp{pack_object_name(packs.at(head.pack).id), head.offset,
                head.offset + head.stored_size, i, i + 1};
        for (; sp.last < copies.size(); ++sp.last) {
            const BlobLocation& l = copies[sp.last].loc;
            const std::uint64_t blob_end = l.offset + l.stored_size;
            if (l.pack != head.pack || l.offset < sp.start ||
                blob_end - sp.start > kRepackReadBytes || l.offset > sp.end + kRepackMaxGap)
                break;
            sp.end = std::max(sp.end, blob_end);
        }
        i = sp.last;
        spans.push_back(std::move(sp));
    }
    auto blob_bytes = [&copies](const Span& sp, const Bytes& bytes, std::size_t i) {
        return ByteView(bytes).subspan(copies[i].loc.offset - sp.start, copies[i].loc.stored_size);
    };
    ObjectStore& objects = repo_.objects();  // thread-safe
    auto read_and_check = [&](std::size_t k) {
        const Span& sp = spans[k];
        Bytes bytes = objects.read(sp.name, sp.start, static_cast<std::size_t>(sp.end - sp.start));
        for (std::size_t i = sp.first; i < sp.last; ++i)
            check(repo_.codec(), copies[i], sp.name, blob_bytes(sp, bytes, i));
        return bytes;
    };
    // Declared after everything the tasks use: a future from std::async waits for its thread
    // when destroyed, so when a check or a write throws, no task outlives what it reads.
    std::deque<std::future<Bytes>> ahead;
    std::size_t started = 0;
    for (std::size_t k = 0; k < spans.size(); ++k) {
        for (; started < spans.size() && started <= k + kRepackSpansAhead; ++started)
            ahead.push_back(std::async(std::launch::async, read_and_check, started));
        const Bytes bytes = ahead.front().get();
        ahead.pop_front();
        const Span& sp = spans[k];
        for (std::size_t i = sp.first; i < sp.last; ++i) write(copies[i], blob_bytes(sp, bytes, i));
        if (k + 1 == spans.size() || spans[k + 1].name != sp.name) on_pack_done();
    }
}

void Repacker::finish() {
    if (!writer_ || writer_->empty()) return;
    std::vector<PackEntry> entries = writer_->entries();
    // Durable first, indexed second; the old copies stay indexed until the new ones are.
    const BlobId pack_id = writer_->commit();
    const std::uint64_t size = writer_->size();
    writer_.reset();
    crash_point("prune-repack-written");
    repo_.index().add_repacked_pack(pack_id, size, entries);
    crash_point("prune-repack-indexed");
    packs_written++;
    bytes_written += size;
}

void Repacker::check(const BlobCodec& codec, const BlobToCopy& blob, const std::string& pack_name,
                     ByteView stored) {
    try {
        codec.open(blob.id, blob.loc.type, blob.loc.codec, blob.loc.raw_size, stored);
    } catch (const StoreError& e) {
        throw_corruption("prune stopped: blob " + blob.id.short_hex() + " in " + pack_name +
                         " is damaged (" + e.what() +
                         "); nothing was deleted. Run `strata verify --read-data` to see what "
                         "it affects");
    }
}

void Repacker::write(const BlobToCopy& blob, ByteView stored) {
    if (!writer_) writer_ = std::make_unique<PackWriter>(repo_.objects().create(), repo_.codec());
    writer_->add(blob.id, blob.loc.type, blob.loc.codec, stored, blob.loc.raw_size);
    if (writer_->size() >= format::kPackTargetSize) finish();
}

}  // namespace strata::pruning
