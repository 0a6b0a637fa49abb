#include "store/blob_writer.h"

#include "store/compress.h"
#include "store/crash_point.h"

namespace strata {

// Data waiting for compression, at most: a few chunks per worker keeps them busy without letting
// a fast reader fill memory.
static constexpr std::size_t kMaxQueuedBytes = 48u << 20;

BlobWriter::BlobWriter(Repository& repo, unsigned threads)
    : repo_(repo), level_(repo.config().zstd_level) {
    if (threads == 0) threads = 1;
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

BlobWriter::~BlobWriter() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
}

void BlobWriter::rethrow_failure() {
    if (failure_) std::rethrow_exception(failure_);
}

BlobId BlobWriter::put(Bytes data, format::BlobType type) {
    BlobId id = sha256(data);
    if (queued_.count(id) || repo_.index().contains(id)) return id;
    queued_.insert(id);
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return queued_bytes_ < kMaxQueuedBytes || failure_; });
    rethrow_failure();
    queued_bytes_ += data.size();
    jobs_.push_back({id, type, std::move(data)});
    lock.unlock();
    work_cv_.notify_one();
    return id;
}

void BlobWriter::worker() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mu_);
            work_cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stop_ and nothing left
            job = std::move(jobs_.front());
            jobs_.pop_front();
            busy_++;
        }
        try {
            Compressed c = compress_blob(job.data, level_);
            ByteView stored = c.codec == format::Codec::Raw ? ByteView(job.data) : ByteView(c.data);
            std::lock_guard wlock(write_mu_);
            builder_.add(job.id, job.type, c.codec, stored, static_cast<std::uint32_t>(job.data.size()));
            bytes_added_ += stored.size();
            blobs_added_++;
            if (builder_.size() >= format::kPackTargetSize) write_pack(builder_);
        } catch (...) {
            std::lock_guard lock(mu_);
            if (!failure_) failure_ = std::current_exception();
        }
        {
            std::lock_guard lock(mu_);
            queued_bytes_ -= job.data.size();
            busy_--;
        }
        space_cv_.notify_one();
        idle_cv_.notify_all();
    }
}

void BlobWriter::write_pack(PackBuilder& builder) {
    std::vector<PackEntry> entries = builder.entries();
    BlobId pack_id;
    Bytes pack = builder.finish(pack_id);
    builder = PackBuilder();
    // Durable first, indexed second: the index never names a pack that could be lost.
    repo_.objects().put(pack_object_name(pack_id), pack);
    crash_point("pack-written");
    repo_.index().add_pack(pack_id, pack.size(), entries);
    crash_point("pack-indexed");
}

void BlobWriter::flush() {
    {
        std::unique_lock lock(mu_);
        idle_cv_.wait(lock, [&] { return (jobs_.empty() && busy_ == 0) || failure_; });
        rethrow_failure();
    }
    std::lock_guard wlock(write_mu_);
    if (!builder_.empty()) write_pack(builder_);
}

}  // namespace strata
