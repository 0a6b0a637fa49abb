#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "store/base/deep_stack.h"
#include "store/format/compress.h"
#include "store/format/format.h"
#include "store/format/pack.h"
#include "store/maintenance/verifier.h"
#include "store/maintenance/verify_read.h"
#include "store/repo/pending_deletion.h"

namespace strata::verification {

bool Verifier::bad_file(const TreeEntry& e) const {
    for (const auto& c : e.chunks)
        if (bad_chunk({c.id, c.size})) return true;
    return false;
}

bool Verifier::damaged(const BlobId& tree, std::size_t depth) {
    if (depth > format::kMaxTreeDepth) return true;
    auto it = memo_.find(tree);
    if (it != memo_.end()) return it->second;
    bool result = bad_.count(tree) > 0;
    if (!result) {
        std::vector<TreeEntry> entries;
        try {
            entries = repo_.load_tree(tree);
        } catch (const StoreError&) {
            result = true;
        }
        for (const auto& e : entries) {
            if (result) break;
            if (e.type == EntryType::Dir) result = damaged(e.subtree, depth + 1);
            result = result || bad_file(e);
        }
    }
    memo_[tree] = result;
    return result;
}

std::uint64_t Verifier::damaged_paths(const BlobId& tree, std::size_t depth) {
    if (depth > format::kMaxTreeDepth) return 1;
    auto it = count_memo_.find(tree);
    if (it != count_memo_.end()) return it->second;
    std::uint64_t n = 0;
    auto add = [&](std::uint64_t k) { n = k > UINT64_MAX - n ? UINT64_MAX : n + k; };
    std::vector<TreeEntry> entries;
    if (bad_.count(tree)) {
        n = 1;
    } else {
        try {
            entries = repo_.load_tree(tree);
        } catch (const StoreError&) {
            n = 1;
        }
    }
    for (const auto& e : entries) {
        if (e.type == EntryType::Dir) {
            if (damaged(e.subtree, depth + 1)) add(damaged_paths(e.subtree, depth + 1));
        } else if (bad_file(e)) {
            add(1);
        }
    }
    count_memo_[tree] = n;
    return n;
}

void Verifier::collect(const BlobId& tree, const std::string& path, AffectedSnapshot& a,
                       std::size_t depth) {
    auto add = [&](const std::string& p) {
        a.paths_total++;
        if (a.paths.size() < kMaxReportedPaths) a.paths.push_back(p);
    };
    if (a.paths.size() >= kMaxReportedPaths || depth > format::kMaxTreeDepth) {
        const std::uint64_t n = damaged_paths(tree, depth);
        a.paths_total = n > UINT64_MAX - a.paths_total ? UINT64_MAX : a.paths_total + n;
        return;
    }
    std::vector<TreeEntry> entries;
    if (bad_.count(tree)) {
        add(path + "/");
        return;
    }
    try {
        entries = repo_.load_tree(tree);
    } catch (const StoreError&) {
        add(path + "/");
        return;
    }
    for (const auto& e : entries) {
        const std::string p = path + "/" + e.name;
        if (e.type == EntryType::Dir) {
            if (damaged(e.subtree, depth + 1)) collect(e.subtree, p, a, depth + 1);
            continue;
        }
        if (bad_file(e)) add(p);
    }
}

void Verifier::find_affected() {
    for (auto& a : damaged_records_) report_.affected.push_back(std::move(a));
    if (bad_.empty() && mismatched_.empty()) return;
    std::uint64_t done = 0;
    for (const auto& s : records_) {
        progress("report", done++, records_.size());
        if (!damaged(s.rec.root)) continue;
        if (snapshot_gone(s)) continue;
        AffectedSnapshot a;
        a.id = s.id;
        a.snapshot = s;
        collect(s.rec.root, "", a);
        if (a.paths.empty()) a.paths.push_back("/");
        if (a.paths_total == 0) a.paths_total = 1;
        report_.affected.push_back(std::move(a));
    }
}

}  // namespace strata::verification
