#include "fs/inode_table.h"

#include <algorithm>

namespace strata::fs {

namespace {

// The probe sequence for a displaced key: a step that depends on the key, so two keys displaced
// from the same number do not follow each other.
std::uint64_t probe(const NodeKey& key, std::uint64_t attempt) {
    std::uint64_t step = (key.check | 1) * 0x9E3779B97F4A7C15ull;
    std::uint64_t n = (key.number + attempt * step) & ~(std::uint64_t{1} << 63);
    return n <= kRootInode ? n + 2 : n;
}

}  // namespace

InodeTable::InodeTable(Node root) {
    by_number_.reserve(kInitialBuckets);
    root.ino = kRootInode;
    const NodeKey key = root.key;
    by_number_[kRootInode] = {key, std::make_shared<Node>(std::move(root)), 1};
}

InodeTable::Slot* InodeTable::live_slot(const NodeKey& key) {
    auto it = by_number_.find(key.number);
    if (it != by_number_.end() && it->second.key == key) return &it->second;
    if (!displaced_.empty()) {
        auto d = displaced_.find(key);
        if (d != displaced_.end()) return &by_number_.at(d->second);
    }
    return nullptr;
}

std::uint64_t InodeTable::probe_free_number(const NodeKey& key) const {
    for (std::uint64_t attempt = 1;; ++attempt) {
        std::uint64_t n = probe(key, attempt);
        if (!by_number_.count(n)) return n;
    }
}

NodePtr InodeTable::remember(Node node, std::uint64_t lookups) {
    std::lock_guard lock(mu_);
    auto it = by_number_.find(node.key.number);
    if (it != by_number_.end() && it->second.key == node.key) {  // the common case: one lookup
        it->second.lookups += lookups;
        it->second.used = ++clock_;
        return it->second.node;
    }
    if (!displaced_.empty()) {
        auto d = displaced_.find(node.key);
        if (d != displaced_.end()) {
            Slot& s = by_number_.at(d->second);
            s.lookups += lookups;
            s.used = ++clock_;
            return s.node;
        }
    }
    const NodeKey key = node.key;
    node.ino = it == by_number_.end() ? key.number : probe_free_number(key);
    if (node.ino != key.number) displaced_[key] = node.ino;
    auto shared = std::make_shared<Node>(std::move(node));
    by_number_.emplace(shared->ino, Slot{key, shared, lookups, ++clock_});
    return shared;
}

NodePtr InodeTable::find(std::uint64_t ino) const {
    std::lock_guard lock(mu_);
    auto it = by_number_.find(ino);
    if (it == by_number_.end()) return nullptr;
    it->second.used = ++clock_;
    return it->second.node;
}

NodePtr InodeTable::live(const NodeKey& key) const {
    std::lock_guard lock(mu_);
    const Slot* s = const_cast<InodeTable*>(this)->live_slot(key);
    return s ? s->node : nullptr;
}

std::uint64_t InodeTable::number_of(const NodeKey& key) const {
    std::lock_guard lock(mu_);
    if (const Slot* s = const_cast<InodeTable*>(this)->live_slot(key)) return s->node->ino;
    return by_number_.count(key.number) ? probe_free_number(key) : key.number;
}

void InodeTable::forget(std::uint64_t ino, std::uint64_t lookups) {
    if (ino == kRootInode) return;
    std::lock_guard lock(mu_);
    auto it = by_number_.find(ino);
    if (it == by_number_.end()) return;
    Slot& s = it->second;
    s.lookups -= std::min(s.lookups, lookups);
    if (s.lookups > 0) return;
    if (ino != s.key.number) displaced_.erase(s.key);
    by_number_.erase(it);
}

std::size_t InodeTable::size() const {
    std::lock_guard lock(mu_);
    return by_number_.size();
}

std::vector<NodePtr> InodeTable::least_recent(std::size_t count) const {
    std::vector<std::pair<std::uint64_t, NodePtr>> all;
    {
        std::lock_guard lock(mu_);
        all.reserve(by_number_.size());
        for (const auto& [ino, slot] : by_number_)
            if (ino != kRootInode) all.emplace_back(slot.used, slot.node);
    }
    count = std::min(count, all.size());
    auto by_use = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count), all.end(),
                     by_use);
    std::sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count), by_use);
    std::vector<NodePtr> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) out.push_back(std::move(all[i].second));
    return out;
}

std::size_t InodeTable::displaced() const {
    std::lock_guard lock(mu_);
    return displaced_.size();
}

}  // namespace strata::fs
