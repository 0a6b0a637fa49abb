#include "fs/page_cache_fill.h"

#include <signal.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace strata::fs {

PageCacheFill::PageCacheFill(MountLayout& layout, ChunkCache& chunks)
    : layout_(layout), chunks_(chunks) {}

PageCacheFill::~PageCacheFill() { stop(); }

void PageCacheFill::start(Store store) {
    std::lock_guard lock(mu_);
    if (running_ || stopping_) return;
    store_ = std::move(store);
    running_ = true;
    // Threads inherit the creator's signal mask: block everything while creating it so that
    // SIGINT/SIGTERM reach the FUSE loop's thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    worker_ = std::thread([this] { work(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void PageCacheFill::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        queue_.clear();
    }
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

bool PageCacheFill::stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
}

void PageCacheFill::request(const Node& file) {
    // Only files of a stored directory reached through it: their siblings' keys (and so the
    // kernel's inode numbers for them) follow from the directory's key.
    if (file.kind != NodeKind::Entry || !file.is_regular() || !file.parent ||
        file.parent->kind != NodeKind::Entry || !file.parent->is_dir())
        return;
    const NodeKey dir_key = file.parent->key;
    {
        std::lock_guard lock(mu_);
        if (!running_ || stopping_ || done_.count(dir_key)) return;
        if (queue_.size() >= kFillQueue) return;
        done_.insert(dir_key);
        done_order_.push_front(dir_key);
        if (done_order_.size() > kFillDirsRemembered) {
            done_.erase(done_order_.back());
            done_order_.pop_back();
        }
        queue_.push_back({dir_key, file.parent, file.tree, file.snapshot, file.index, file.ino});
    }
    wake_.notify_one();
}

PageCacheFill::Stats PageCacheFill::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void PageCacheFill::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mu_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            fill(job);
        } catch (...) {
            // The tree could not be read: the readers' own requests report it.
            std::lock_guard lock(mu_);
            stats_.failed++;
        }
    }
}

void PageCacheFill::fill(const Job& job) {
    TreePtr tree = layout_.trees().get(job.tree);
    struct Candidate {
        std::uint32_t index;
        NodePtr live;
    };
    std::vector<Candidate> files;
    for (std::uint32_t i = 0; i < tree->size(); ++i) {
        const TreeEntry& e = (*tree)[i];
        if (i == job.skip || e.type != EntryType::File || e.size == 0 || e.size > kFillFileBytes)
            continue;
        Child c = entry_child(e, i, job.tree, job.dir_key, job.snapshot, job.dir, e.name);
        // Only inodes the kernel has: it drops a store for any other (and a number not live here
        // could name some other node by the time the kernel sees it).
        if (NodePtr live = layout_.inodes().live(c.node.key)) files.push_back({i, std::move(live)});
    }
    // The reader's order (header): by inode number if it started with the lowest one, else by
    // name from the file after the one it started with.
    const bool by_inode = std::all_of(files.begin(), files.end(), [&](const Candidate& c) {
        return c.live->ino > job.reading_ino;
    });
    if (by_inode) {
        std::sort(files.begin(), files.end(),
                  [](const Candidate& a, const Candidate& b) { return a.live->ino < b.live->ino; });
    } else {
        std::stable_partition(files.begin(), files.end(),
                              [&](const Candidate& c) { return c.index > job.skip; });
    }

    std::uint64_t budget = kFillDirBytes;
    Stats done;
    done.directories = 1;
    Bytes data;
    for (const Candidate& c : files) {
        if (stopping()) break;
        const TreeEntry& e = (*tree)[c.index];
        if (e.size > budget) break;
        budget -= e.size;
        try {
            data.assign(e.size, 0);  // holes stay zero
            for (const ChunkRef& ref : e.chunks) {
                Chunk chunk = chunks_.get(ref.id);
                if (chunk->size() != ref.size || ref.offset + ref.size > e.size)
                    throw std::runtime_error("chunk size differs from the file's chunk list");
                std::memcpy(data.data() + ref.offset, chunk->data(), ref.size);
            }
            if (store_(c.live->ino, data.data(), data.size()) != 0) {
                done.failed++;
                continue;
            }
            done.files++;
            done.bytes += e.size;
        } catch (...) {
            done.failed++;  // the reader's READ loads it again and reports the damage
        }
    }
    std::lock_guard lock(mu_);
    stats_.directories += done.directories;
    stats_.files += done.files;
    stats_.bytes += done.bytes;
    stats_.failed += done.failed;
}

}  // namespace strata::fs
