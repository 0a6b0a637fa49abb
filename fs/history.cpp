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

// Chains made while deriving one history, so snapshots below the same directories share one chain
// and PathHistory::reach stays as short as the number of distinct permission paths.
class ChainInterner {
  public:
    SearchChainPtr extend(const SearchChainPtr& above, const DirPermissions& dir) {
        if (dir.searchable_by_anyone()) return above;
        for (const auto& c : made_)
            if (c->up == above && c->dir == dir) return c;
        made_.push_back(fs::extend(above, dir));
        return made_.back();
    }

  private:
    std::vector<SearchChainPtr> made_;
};

void add_reach(PathHistory& h, const SearchChainPtr& above) {
    if (std::find(h.reach.begin(), h.reach.end(), above) == h.reach.end()) h.reach.push_back(above);
}

}  // namespace

bool PathHistory::DirVersion::listable_by(const Caller& caller) const {
    return may_traverse(above, caller) && perms.permits(caller, kMayRead | kMaySearch);
}

bool PathHistory::reachable_by(const Caller& caller) const {
    for (const auto& chain : reach)
        if (may_traverse(chain, caller)) return true;
    return false;
}

bool PathHistory::searchable_by(const Caller& caller) const {
    for (const auto& dv : dirs)
        if (may_traverse(dv.inside, caller)) return true;
    return false;
}

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
        ChainInterner chains;
        add_reach(*roots, nullptr);
        for (const auto& s : catalog.all()) {
            TreeEntry root = snapshot_root(*s);
            DirPermissions perms = DirPermissions::of(root);
            SearchChainPtr inside = chains.extend(nullptr, perms);
            roots->dirs.push_back({s, root.subtree, snapshot_root_key(s->snapshot.id),
                                   attr_of(root), std::move(perms), nullptr, std::move(inside)});
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
    ChainInterner chains;
    for (const auto& dv : parent.dirs) {
        TreePtr tree = trees_.get(dv.tree);
        const TreeEntry* e = find_entry(*tree, name);
        if (!e) continue;
        auto index = static_cast<std::uint32_t>(e - tree->data());
        add_reach(*out, dv.inside);
        if (e->type == EntryType::Dir) {
            DirPermissions perms = DirPermissions::of(*e);
            SearchChainPtr inside = chains.extend(dv.inside, perms);
            out->dirs.push_back({dv.snapshot, e->subtree, entry_key(dv.key, name), attr_of(*e),
                                 std::move(perms), dv.inside, std::move(inside)});
        } else if (seen.insert(content_digest(*e)).second) {
            // A content seen again later keeps the first snapshot's node and chain: the version
            // is that snapshot's entry, guarded as it was there.
            out->versions.push_back(
                {dv.snapshot->name,
                 entry_child(*e, index, dv.tree, dv.key, dv.snapshot, nullptr, dv.snapshot->name),
                 dv.inside});
        }
    }
    return out;
}

std::vector<std::string> HistoryIndex::names(const PathHistory& h, const Caller& caller) {
    std::set<std::string> children;
    std::unordered_set<BlobId, BlobIdHash> trees_seen;
    for (const auto& dv : h.dirs) {
        if (trees_seen.count(dv.tree) || !dv.listable_by(caller)) continue;
        trees_seen.insert(dv.tree);
        TreePtr tree = trees_.get(dv.tree);
        for (const auto& e : *tree) children.insert(e.name);
    }
    std::vector<std::string> out(children.begin(), children.end());
    for (const auto& v : h.versions) {
        if (children.count(v.name) || !may_traverse(v.above, caller)) continue;
        // A child of that name in a version the caller may not list still wins, as a lookup
        // finds it (and hides it) first.
        bool shadowed = false;
        for (const auto& dv : h.dirs)
            if ((shadowed = find_entry(*trees_.get(dv.tree), v.name) != nullptr)) break;
        if (!shadowed) out.push_back(v.name);
    }
    return out;
}

}  // namespace strata::fs
