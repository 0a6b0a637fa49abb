#include "fs/read_ahead.h"

#include <signal.h>

namespace strata::fs {

ReadAhead::ReadAhead(ChunkCache& cache, unsigned workers) : cache_(cache) {
    // Threads inherit the creator's signal mask: block everything while creating them so that
    // SIGINT/SIGTERM reach the FUSE loop's thread, not a worker.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

ReadAhead::~ReadAhead() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void ReadAhead::request(const std::vector<BlobId>& ids) {
    bool added = false;
    {
        std::lock_guard lock(mu_);
        for (const auto& id : ids) {
            if (queue_.size() >= kMaxQueued) break;
            if (queued_.count(id) || cache_.contains(id)) continue;
            queue_.push_back(id);
            queued_.insert(id);
            added = true;
        }
    }
    if (added) wake_.notify_all();
}

void ReadAhead::work() {
    for (;;) {
        BlobId id;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            id = queue_.front();
            queue_.pop_front();
            queued_.erase(id);
        }
        try {
            cache_.get(id);
        } catch (...) {
            // The reader that needs this chunk will load it and report the failure.
        }
    }
}

}  // namespace strata::fs
