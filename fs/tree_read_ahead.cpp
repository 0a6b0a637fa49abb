#include "fs/tree_read_ahead.h"

#include <signal.h>

namespace strata::fs {

TreeReadAhead::TreeReadAhead(TreeCache& cache, unsigned workers) : cache_(cache) {
    // Threads inherit the creator's signal mask: block everything while creating them so that
    // SIGINT/SIGTERM reach the FUSE loop's thread, not a worker.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

TreeReadAhead::~TreeReadAhead() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
}

void TreeReadAhead::request(const Tree& listing) {
    std::size_t added = 0;
    {
        std::lock_guard lock(mu_);
        for (const auto& e : listing) {
            if (added >= kTreesAheadPerListing || queue_.size() >= kMaxQueued) break;
            if (e.type != EntryType::Dir || queued_.count(e.subtree) || cache_.contains(e.subtree))
                continue;
            queue_.push_back(e.subtree);
            queued_.insert(e.subtree);
            ++added;
        }
    }
    if (added > 0) wake_.notify_all();
}

void TreeReadAhead::work() {
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
            // The listing that needs this tree loads it and reports the failure.
        }
    }
}

}  // namespace strata::fs
