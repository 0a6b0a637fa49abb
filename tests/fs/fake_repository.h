// An in-memory RepositoryReader for testing the mount's layout without a repository on disk or a
// kernel: trees, data chunks and snapshots are added directly; blobs can be marked damaged.
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "store/repo/reader.h"

namespace strata::fs::testing {

class FakeRepository : public RepositoryReader {
  public:
    std::vector<Snapshot> snapshots() override {
        std::lock_guard lock(mu_);
        return snaps_;
    }
    std::uint64_t snapshot_generation() override {
        std::lock_guard lock(mu_);
        return generation_;
    }
    std::vector<TreeEntry> load_tree(const BlobId& id) override {
        std::lock_guard lock(mu_);
        tree_loads++;
        if (damaged_.count(id))
            throw_corruption("tree " + id.short_hex() + " fails its hash check");
        auto it = trees_.find(id);
        if (it == trees_.end()) throw_not_found("blob " + id.short_hex() + " is not in the index");
        return it->second;
    }
    Bytes load_data(const BlobId& id) override {
        std::lock_guard lock(mu_);
        data_loads++;
        if (damaged_.count(id))
            throw_corruption("blob " + id.short_hex() + " fails its hash check");
        auto it = data_.find(id);
        if (it == data_.end()) throw_not_found("blob " + id.short_hex() + " is not in the index");
        return it->second;
    }

    BlobId add_tree(std::vector<TreeEntry> entries) {
        std::sort(entries.begin(), entries.end(),
                  [](const TreeEntry& a, const TreeEntry& b) { return a.name < b.name; });
        BlobId id = sha256(encode_tree(entries));
        std::lock_guard lock(mu_);
        trees_[id] = std::move(entries);
        return id;
    }
    BlobId add_data(const std::string& content) {
        Bytes b(content.begin(), content.end());
        BlobId id = sha256(b);
        std::lock_guard lock(mu_);
        data_[id] = std::move(b);
        return id;
    }
    Snapshot add_snapshot(const BlobId& root, std::int64_t time_sec,
                          const std::string& host = "host1", std::vector<std::string> tags = {},
                          std::uint32_t time_nsec = 0) {
        SnapshotRecord rec;
        rec.time_sec = time_sec;
        rec.time_nsec = time_nsec;
        rec.host = host;
        rec.paths = {"/src"};
        rec.tags = std::move(tags);
        rec.root = root;
        rec.root_meta.type = EntryType::Dir;
        rec.root_meta.mode = 0755;
        rec.root_meta.nlink = 2;
        rec.root_meta.mtime_sec = time_sec;
        rec.root_meta.subtree = root;
        rec.files = 3;
        rec.bytes = 12345;
        Snapshot s{sha256(encode_snapshot(rec)), rec};
        std::lock_guard lock(mu_);
        snaps_.push_back(s);
        std::sort(snaps_.begin(), snaps_.end(), [](const Snapshot& a, const Snapshot& b) {
            return std::tie(a.rec.time_sec, a.rec.time_nsec, a.id) <
                   std::tie(b.rec.time_sec, b.rec.time_nsec, b.id);
        });
        generation_++;
        return s;
    }
    void forget_snapshot(const BlobId& id) {
        std::lock_guard lock(mu_);
        snaps_.erase(std::remove_if(snaps_.begin(), snaps_.end(),
                                    [&](const Snapshot& s) { return s.id == id; }),
                     snaps_.end());
        generation_++;
    }
    void damage(const BlobId& id) {
        std::lock_guard lock(mu_);
        damaged_.insert(id);
    }
    void lose(const BlobId& id) {
        std::lock_guard lock(mu_);
        data_.erase(id);
        trees_.erase(id);
    }

    std::atomic<int> tree_loads{0}, data_loads{0};

  private:
    std::mutex mu_;
    std::vector<Snapshot> snaps_;
    std::uint64_t generation_ = 1;
    std::map<BlobId, std::vector<TreeEntry>> trees_;
    std::map<BlobId, Bytes> data_;
    std::set<BlobId> damaged_;
};

// Entries for trees.
inline TreeEntry file_entry(FakeRepository& repo, const std::string& name,
                            const std::string& content, std::size_t chunk_size = 4) {
    TreeEntry e;
    e.name = name;
    e.type = EntryType::File;
    e.mode = 0644;
    e.uid = 1000;
    e.gid = 100;
    e.mtime_sec = 1700000000;
    e.mtime_nsec = 123456789;
    e.size = content.size();
    for (std::size_t off = 0; off < content.size(); off += chunk_size) {
        std::string piece = content.substr(off, chunk_size);
        e.chunks.push_back({off, repo.add_data(piece), static_cast<std::uint32_t>(piece.size())});
    }
    return e;
}

inline TreeEntry dir_entry(const std::string& name, const BlobId& subtree,
                           std::uint32_t mode = 0755) {
    TreeEntry e;
    e.name = name;
    e.type = EntryType::Dir;
    e.mode = mode;
    e.nlink = 2;
    e.subtree = subtree;
    return e;
}

inline TreeEntry symlink_entry(const std::string& name, const std::string& target) {
    TreeEntry e;
    e.name = name;
    e.type = EntryType::Symlink;
    e.mode = 0777;
    e.target = target;
    e.size = target.size();
    return e;
}

}  // namespace strata::fs::testing
