#include "store/ingest/blob_writer.h"

#include "store/base/crash_point.h"

namespace strata {

// Data waiting for compression, at most: a few chunks per worker keeps them busy without letting
// a fast reader fill memory.
static constexpr std::size_t kMaxQueuedBytes = 16u << 20;
// Full packs waiting for fsync: one being sealed and one behind it lets compression run on while
// the disk catches up, and bounds how much unsynced data a writer piles up.
static constexpr std::size_t kMaxPacksToSeal = 2;

BlobWriter::BlobWriter(Repository& repo, unsigned threads)
    : repo_(repo), codec_(repo.codec()), shuffle_(std::random_device{}()) {
    if (threads == 0) threads = 1;
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { compress_loop(); });
    sealer_ = std::thread([this] { seal_loop(); });
}

BlobWriter::~BlobWriter() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
        to_seal_.clear();  // never commit what flush() did not ask for
    }
    work_cv_.notify_all();
    seal_cv_.notify_all();
    for (auto& t : workers_) t.join();
    sealer_.join();
}

void BlobWriter::fail(std::exception_ptr e) {
    {
        std::lock_guard lock(mu_);
        if (!failure_) failure_ = e;
    }
    space_cv_.notify_all();
    idle_cv_.notify_all();
}

void BlobWriter::rethrow_failure() {
    if (failure_) std::rethrow_exception(failure_);
}

BlobId BlobWriter::put(Bytes data, format::BlobType type) {
    BlobId id = codec_.id_of(data);
    if (queued_.count(id) || repo_.index().contains(id)) return id;
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return queued_bytes_ < kMaxQueuedBytes || failure_; });
    rethrow_failure();
    queued_.insert(id);
    queued_bytes_ += data.size();
    jobs_.push_back({id, type, std::move(data)});
    lock.unlock();
    work_cv_.notify_one();
    return id;
}

void BlobWriter::compress_loop() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mu_);
            work_cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
            if (stop_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
            busy_++;
        }
        const std::size_t job_bytes = job.data.size();
        try {
            BlobCodec::Sealed sealed = codec_.seal(job.id, job.type, job.data);
            if (job.type == format::BlobType::Tree)
                repo_.remember_tree(job.id, sealed.stored(job.data));
            Placed blob{job.id, job.type, sealed.codec,
                        sealed.data.empty() ? std::move(job.data) : std::move(sealed.data),
                        static_cast<std::uint32_t>(job_bytes)};
            std::lock_guard wlock(write_mu_);
            if (codec_.placement_shuffle() == 0) {
                place(std::move(blob));
            } else {
                held_back_.push_back(std::move(blob));
                if (held_back_.size() > codec_.placement_shuffle()) place_one_held_back();
            }
        } catch (...) {
            fail(std::current_exception());
        }
        {
            std::lock_guard lock(mu_);
            queued_bytes_ -= job_bytes;
            busy_--;
        }
        space_cv_.notify_one();
        idle_cv_.notify_all();
    }
}

void BlobWriter::place(Placed blob) {
    if (!pack_) pack_ = std::make_unique<PackWriter>(repo_.objects().create(), repo_.codec());
    pack_->add(blob.id, blob.type, blob.codec, blob.stored, blob.raw_size);
    bytes_added_ += blob.stored.size();
    blobs_added_++;
    if (pack_->size() >= format::kPackTargetSize) seal_current();
}

void BlobWriter::place_one_held_back() {
    std::uniform_int_distribution<std::size_t> pick(0, held_back_.size() - 1);
    const std::size_t i = pick(shuffle_);
    Placed blob = std::move(held_back_[i]);
    held_back_[i] = std::move(held_back_.back());
    held_back_.pop_back();
    place(std::move(blob));
}

void BlobWriter::seal_current() {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return to_seal_.size() < kMaxPacksToSeal || failure_ || stop_; });
    rethrow_failure();
    to_seal_.push_back(std::move(pack_));
    lock.unlock();
    seal_cv_.notify_one();
}

void BlobWriter::seal_loop() {
    for (;;) {
        std::unique_ptr<PackWriter> pack;
        {
            std::unique_lock lock(mu_);
            seal_cv_.wait(lock, [&] { return stop_ || !to_seal_.empty(); });
            if (stop_) return;
            pack = std::move(to_seal_.front());
            to_seal_.pop_front();
            sealing_ = true;
        }
        try {
            // Durable first, indexed second: the index never names a pack that could be lost.
            std::vector<PackEntry> entries = pack->entries();
            BlobId pack_id = pack->commit();
            crash_point("pack-written");
            pause_point("pack-written");
            repo_.add_written_pack(pack_id, pack->size(), entries);
            crash_point("pack-indexed");
        } catch (...) {
            fail(std::current_exception());
        }
        {
            std::lock_guard lock(mu_);
            sealing_ = false;
        }
        space_cv_.notify_all();
        idle_cv_.notify_all();
    }
}

void BlobWriter::flush() {
    {
        std::unique_lock lock(mu_);
        idle_cv_.wait(lock, [&] { return (jobs_.empty() && busy_ == 0) || failure_; });
        rethrow_failure();
    }
    {
        std::lock_guard wlock(write_mu_);
        while (!held_back_.empty()) place_one_held_back();
        if (pack_ && !pack_->empty()) seal_current();
    }
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return (to_seal_.empty() && !sealing_) || failure_; });
    rethrow_failure();
}

}  // namespace strata
