// The mechanism behind ReadAhead (chunks) and TreeReadAhead (trees): worker threads that load
// blobs into a cache before they are asked for. Requests go into a bounded queue; ids already
// queued or cached are skipped, and when the workers fall behind new requests are dropped rather
// than queued without bound. Failures are ignored here: whoever needs the blob loads it again and
// reports the error with its path.
//
// `Cache` needs `bool contains(const BlobId&)` and `get(const BlobId&)` (which loads and keeps).
// Threads: offer() may be called from any thread. The workers block every signal, so SIGINT and
// SIGTERM reach the FUSE loop's thread.
#pragma once

#include <signal.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "store/base/hash.h"

namespace strata::fs {

template <typename Cache>
class BlobPrefetch {
  public:
    BlobPrefetch(Cache& cache, unsigned workers, std::size_t max_queued)
        : cache_(cache), max_queued_(max_queued) {
        // Threads inherit the creator's signal mask: block everything while creating them.
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
    ~BlobPrefetch() {  // stops the workers; a blob being loaded finishes first
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
    }
    BlobPrefetch(const BlobPrefetch&) = delete;
    BlobPrefetch& operator=(const BlobPrefetch&) = delete;

    // Queues, in order, the ids `id_of(item)` gives for `items` (nullptr: skip the item), at most
    // `at_most` new ones. Returns how many were queued.
    template <typename Items, typename IdOf>
    std::size_t offer(const Items& items, IdOf id_of, std::size_t at_most) {
        std::size_t added = 0;
        {
            std::lock_guard lock(mu_);
            for (const auto& item : items) {
                if (added >= at_most || queue_.size() >= max_queued_) break;
                const BlobId* id = id_of(item);
                if (!id || queued_.count(*id) || cache_.contains(*id)) continue;
                queue_.push_back(*id);
                queued_.insert(*id);
                ++added;
            }
        }
        if (added > 0) wake_.notify_all();
        return added;
    }

  private:
    void work() {
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
                // Whoever needs this blob loads it and reports the failure.
            }
        }
    }

    Cache& cache_;
    const std::size_t max_queued_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<BlobId> queue_;
    std::unordered_set<BlobId, BlobIdHash> queued_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace strata::fs
