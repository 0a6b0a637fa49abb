#include "fs/history.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "store/base/bytes.h"
#include "store/repo/reader.h"

namespace strata::fs {

namespace {

// What makes two stored non-directories the same version: their content, not their metadata.
BlobId content_digest(const TreeEntry& e) {
    Encoder enc;
    enc.u8(static_cast<std::uint8_t>(e.type));
    enc.u64(e.size);
    enc.u64(e.rdev);
    enc.str(e.target);
    for (const auto& c : e.chunks) {
        enc.u64(c.offset);
        enc.raw(c.id.bytes);
        enc.u32(c.size);
    }
    return sha256(enc.bytes());
}

}  // namespace

const PathHistory::Version* PathHistory::version(std::string_view name) const {
    for (const auto& v : versions)
        if (v.name == name) return &v;
    return nullptr;
}

HistoryIndex::HistoryIndex(TreeCache& trees, std::size_t max_paths)
    : trees_(trees), max_paths_(max_paths) {}

std::shared_ptr<const PathHistory> HistoryIndex::at(const SnapshotCatalog& catalog,
                                                    const std::string& path) {
    {
        std::lock_guard lock(mu_);
        if (generation_ != catalog.generation()) {
            slots_.clear();
            lru_.clear();
            generation_ = catalog.generation();
        }
        auto it = slots_.find(path);
        if (it != slots_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.history;
        }
    }
    std::shared_ptr<const PathHistory> h;
    if (path.empty()) {
        auto roots = std::make_shared<PathHistory>();
        for (const auto& s : catalog.all()) {
            TreeEntry root = snapshot_root(*s);
            roots->dirs.push_back(
                {s, root.subtree, snapshot_root_key(s->snapshot.id), attr_of(root)});
        }
        h = roots;
    } else {
        auto slash = path.rfind('/');
        std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
        std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        h = derive(*at(catalog, parent), name);
    }
    std::lock_guard lock(mu_);
    if (generation_ != catalog.generation() || slots_.count(path)) return h;
    lru_.push_front(path);
    slots_[path] = {h, lru_.begin()};
    while (slots_.size() > max_paths_) {
        slots_.erase(lru_.back());
        lru_.pop_back();
    }
    return h;
}

std::shared_ptr<const PathHistory> HistoryIndex::derive(const PathHistory& parent,
                                                        const std::string& name) {
    auto out = std::make_shared<PathHistory>();
    std::unordered_set<BlobId, BlobIdHash> seen;
    for (const auto& dv : parent.dirs) {
        TreePtr tree = trees_.get(dv.tree);
        const TreeEntry* e = find_entry(*tree, name);
        if (!e) continue;
        auto index = static_cast<std::uint32_t>(e - tree->data());
        if (e->type == EntryType::Dir) {
            out->dirs.push_back({dv.snapshot, e->subtree, entry_key(dv.key, name), attr_of(*e)});
        } else if (seen.insert(content_digest(*e)).second) {
            out->versions.push_back(
                {dv.snapshot->name,
                 entry_child(*e, index, dv.tree, dv.key, dv.snapshot, nullptr, dv.snapshot->name)});
        }
    }
    return out;
}

std::vector<std::string> HistoryIndex::names(const PathHistory& h) {
    std::set<std::string> children;
    std::unordered_set<BlobId, BlobIdHash> trees_seen;
    for (const auto& dv : h.dirs) {
        if (!trees_seen.insert(dv.tree).second) continue;
        TreePtr tree = trees_.get(dv.tree);
        for (const auto& e : *tree) children.insert(e.name);
    }
    std::vector<std::string> out(children.begin(), children.end());
    for (const auto& v : h.versions)
        if (!children.count(v.name)) out.push_back(v.name);
    return out;
}

}  // namespace strata::fs
