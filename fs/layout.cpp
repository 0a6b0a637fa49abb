#include "fs/layout.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

namespace strata::fs {

namespace {

struct TopDir {
    const char* name;
    NodeKind kind;
};
constexpr TopDir kTopDirs[] = {
    {"snapshots", NodeKind::SnapshotsDir}, {"ids", NodeKind::IdsDir},
    {"hosts", NodeKind::HostsDir},         {"tags", NodeKind::TagsDir},
    {"at", NodeKind::AtDir},               {"history", NodeKind::HistoryDir},
};

constexpr const char* kLatest = "latest";

// A blob the repository's own records point to is missing: for the mount that is damage (EIO),
// not a name that does not exist (ENOENT).
template <class F>
auto as_damage(const BlobId& id, const char* what, F&& f) {
    try {
        return f();
    } catch (const StoreError& e) {
        if (e.kind() != StoreError::Kind::NotFound) throw;
        throw StoreError(StoreError::Kind::Corruption,
                         std::string(what) + " " + id.short_hex() + " cannot be read: " + e.what());
    }
}

const TreeEntry* find_entry(const Tree& tree, std::string_view name, std::uint32_t& index) {
    auto it = std::lower_bound(tree.begin(), tree.end(), name,
                               [](const TreeEntry& e, std::string_view n) { return e.name < n; });
    if (it == tree.end() || it->name != name) return nullptr;
    index = static_cast<std::uint32_t>(it - tree.begin());
    return &*it;
}

const SnapshotCatalog::Info* find_named(const std::vector<SnapshotCatalog::Info>& list,
                                        std::string_view name) {
    for (const auto& s : list)
        if (s->name == name) return &s;
    return nullptr;
}

}  // namespace

Bytes load_chunk(RepositoryReader& repo, const BlobId& id) {
    return as_damage(id, "data chunk", [&] { return repo.load_data(id); });
}

MountLayout::MountLayout(RepositoryReader& repo, LayoutOptions options)
    : repo_(repo),
      options_(options),
      trees_([&repo](const BlobId& id) { return as_damage(id, "tree", [&] { return repo.load_tree(id); }); },
             options.tree_cache_bytes),
      history_(trees_, kHistoryPaths),
      inodes_([&] {
          Node root;
          root.kind = NodeKind::Root;
          root.key = virtual_key("");
          root.attr.mode = S_IFDIR | 0555;
          root.attr.uid = options.owner_uid;
          root.attr.gid = options.owner_gid;
          root.attr.nlink = 2 + std::size(kTopDirs);
          root.attr.mtime_sec = root.attr.ctime_sec = std::time(nullptr);  // mounted at
          return root;
      }()) {
    root_ = inodes_.find(kRootInode);
    refresh();
}

bool MountLayout::refresh() {
    const std::uint64_t generation = repo_.snapshot_generation();
    {
        std::lock_guard lock(mu_);
        if (catalog_ && catalog_->generation() == generation) return false;
    }
    auto fresh = std::make_shared<const SnapshotCatalog>(repo_.snapshots(), generation);
    std::lock_guard lock(mu_);
    catalog_ = std::move(fresh);
    return true;
}

std::shared_ptr<const SnapshotCatalog> MountLayout::catalog() const {
    std::lock_guard lock(mu_);
    return catalog_;
}

NodePtr MountLayout::node(std::uint64_t ino) const {
    NodePtr n = inodes_.find(ino);
    if (!n) throw FsError(ESTALE, "inode " + std::to_string(ino) + " is not known to the mount");
    return n;
}

std::uint64_t MountLayout::number_of(const Node& n) const { return inodes_.number_of(n.key); }

Node MountLayout::virtual_dir(NodeKind kind, const NodePtr& parent, std::string name,
                              const SnapshotCatalog& catalog) const {
    Node n;
    n.kind = kind;
    n.parent = parent;
    n.name = std::move(name);
    const std::string path = path_of(n);
    n.key = virtual_key(path);
    if (kind == NodeKind::HistoryDir) n.history_path = "";
    n.attr.mode = S_IFDIR | 0555;
    n.attr.uid = options_.owner_uid;
    n.attr.gid = options_.owner_gid;
    n.attr.nlink = 2;
    if (auto latest = catalog.latest()) {
        n.attr.mtime_sec = n.attr.ctime_sec = latest->snapshot.rec.time_sec;
        n.attr.mtime_nsec = n.attr.ctime_nsec = latest->snapshot.rec.time_nsec;
    }
    return n;
}

Node MountLayout::link(const NodePtr& parent, std::string name, const SnapshotInfo& target,
                       const std::string& prefix) const {
    Node n;
    n.kind = NodeKind::Link;
    n.parent = parent;
    n.name = std::move(name);
    n.target = prefix + target.name;
    n.key = symlink_key(path_of(n), n.target);
    n.attr.mode = S_IFLNK | 0777;
    n.attr.uid = options_.owner_uid;
    n.attr.gid = options_.owner_gid;
    n.attr.size = n.target.size();
    n.attr.mtime_sec = n.attr.ctime_sec = target.snapshot.rec.time_sec;
    n.attr.mtime_nsec = n.attr.ctime_nsec = target.snapshot.rec.time_nsec;
    return n;
}

std::optional<Node> MountLayout::find_child(const NodePtr& dir, std::string_view name) {
    return find_child(dir, name, catalog());
}

std::optional<Node> MountLayout::find_child(const NodePtr& dir, std::string_view name,
                                            const std::shared_ptr<const SnapshotCatalog>& catalog) {
    if (!dir->is_dir()) throw FsError(ENOTDIR, path_of(*dir) + " is not a directory");
    const SnapshotCatalog& cat = *catalog;
    switch (dir->kind) {
        case NodeKind::Root:
            for (const auto& t : kTopDirs)
                if (name == t.name) return virtual_dir(t.kind, dir, t.name, cat);
            return std::nullopt;
        case NodeKind::SnapshotsDir:
            if (name == kLatest) {
                if (auto latest = cat.latest()) return link(dir, kLatest, *latest, "");
                return std::nullopt;
            }
            if (auto s = cat.by_name(name)) return snapshot_root_node(s, dir);
            return std::nullopt;
        case NodeKind::IdsDir:
            if (auto s = cat.by_id(name)) return link(dir, std::string(name), *s, "../snapshots/");
            return std::nullopt;
        case NodeKind::HostsDir:
        case NodeKind::TagsDir: {
            const auto& groups = dir->kind == NodeKind::HostsDir ? cat.hosts() : cat.tags();
            if (!groups.count(std::string(name))) return std::nullopt;
            return virtual_dir(dir->kind == NodeKind::HostsDir ? NodeKind::HostDir : NodeKind::TagDir,
                               dir, std::string(name), cat);
        }
        case NodeKind::HostDir:
        case NodeKind::TagDir: {
            const auto& groups = dir->kind == NodeKind::HostDir ? cat.hosts() : cat.tags();
            auto g = groups.find(dir->name);
            if (g == groups.end()) return std::nullopt;
            if (auto s = find_named(g->second, name)) return link(dir, std::string(name), **s, "../../snapshots/");
            return std::nullopt;
        }
        case NodeKind::AtDir: {
            auto when = parse_moment(name);
            if (!when) return std::nullopt;
            if (auto s = cat.at_or_before(*when)) return link(dir, std::string(name), *s, "../snapshots/");
            return std::nullopt;
        }
        case NodeKind::HistoryDir:
            return history_child(dir, name, cat);
        case NodeKind::Entry: {
            TreePtr tree = trees_.get(dir->subtree);
            std::uint32_t index = 0;
            const TreeEntry* e = find_entry(*tree, name, index);
            if (!e) return std::nullopt;
            return entry_node(*e, index, dir->subtree, dir->key, dir->snapshot, dir, e->name);
        }
        case NodeKind::Link:
            break;
    }
    throw FsError(ENOTDIR, path_of(*dir) + " is not a directory");
}

std::optional<Node> MountLayout::history_child(const NodePtr& dir, std::string_view name,
                                               const SnapshotCatalog& catalog) {
    if (!valid_entry_name(name)) return std::nullopt;
    const std::string path =
        dir->history_path.empty() ? std::string(name) : dir->history_path + "/" + std::string(name);
    auto h = history_.at(catalog, path);
    if (!h->dirs.empty() || !h->versions.empty()) {
        Node n;
        n.kind = NodeKind::HistoryDir;
        n.parent = dir;
        n.name = std::string(name);
        n.history_path = path;
        n.key = virtual_key("history/" + path);
        n.attr.nlink = 2;
        if (!h->dirs.empty()) {
            // The newest directory's owner and permissions, so the kernel guards the names it
            // held as it guarded them in the snapshots.
            const NodeAttr& newest = h->dirs.back().attr;
            n.attr.mode = newest.mode;
            n.attr.uid = newest.uid;
            n.attr.gid = newest.gid;
            n.attr.mtime_sec = n.attr.ctime_sec = newest.mtime_sec;
            n.attr.mtime_nsec = n.attr.ctime_nsec = newest.mtime_nsec;
        } else {
            n.attr.mode = S_IFDIR | 0555;
            n.attr.uid = options_.owner_uid;
            n.attr.gid = options_.owner_gid;
            const auto& rec = h->versions.back().node.snapshot->snapshot.rec;
            n.attr.mtime_sec = n.attr.ctime_sec = rec.time_sec;
            n.attr.mtime_nsec = n.attr.ctime_nsec = rec.time_nsec;
        }
        return n;
    }
    auto here = history_.at(catalog, dir->history_path);
    if (const auto* v = here->version(name)) {
        Node n = v->node;
        n.parent = dir;
        n.name = std::string(name);
        return n;
    }
    return std::nullopt;
}

MountLayout::Listing MountLayout::list(const NodePtr& dir) {
    if (!dir->is_dir()) throw FsError(ENOTDIR, path_of(*dir) + " is not a directory");
    Listing l;
    l.catalog = catalog();
    const SnapshotCatalog& cat = *l.catalog;
    switch (dir->kind) {
        case NodeKind::Root:
            for (const auto& t : kTopDirs) l.names.push_back(t.name);
            break;
        case NodeKind::SnapshotsDir:
            for (const auto& s : cat.all()) l.names.push_back(s->name);
            if (cat.latest()) l.names.push_back(kLatest);
            break;
        case NodeKind::IdsDir:
            for (const auto& s : cat.all()) l.names.push_back(s->short_id);
            break;
        case NodeKind::HostsDir:
            for (const auto& [name, list] : cat.hosts()) l.names.push_back(name);
            break;
        case NodeKind::TagsDir:
            for (const auto& [name, list] : cat.tags()) l.names.push_back(name);
            break;
        case NodeKind::HostDir:
        case NodeKind::TagDir: {
            const auto& groups = dir->kind == NodeKind::HostDir ? cat.hosts() : cat.tags();
            auto g = groups.find(dir->name);
            if (g != groups.end())
                for (const auto& s : g->second) l.names.push_back(s->name);
            break;
        }
        case NodeKind::AtDir:
            break;  // lookup only: every moment is a name
        case NodeKind::HistoryDir:
            l.names = history_.names(*history_.at(cat, dir->history_path));
            break;
        case NodeKind::Entry:
            l.tree = trees_.get(dir->subtree);
            break;
        case NodeKind::Link:
            throw FsError(ENOTDIR, path_of(*dir) + " is not a directory");
    }
    return l;
}

std::optional<Node> MountLayout::child_at(const NodePtr& dir, const Listing& listing, std::size_t i) {
    if (listing.tree) {
        const TreeEntry& e = (*listing.tree)[i];
        return entry_node(e, static_cast<std::uint32_t>(i), dir->subtree, dir->key, dir->snapshot, dir,
                          e.name);
    }
    return find_child(dir, listing.names[i], listing.catalog);
}

double MountLayout::entry_timeout(const Node& dir) const {
    return dir.kind == NodeKind::Entry || dir.kind == NodeKind::Root ? kContentTimeout : kLiveTimeout;
}

double MountLayout::attr_timeout(const Node& node) const {
    return node.kind == NodeKind::Entry ? kContentTimeout : kLiveTimeout;
}

struct stat MountLayout::stat_of(const Node& node) const {
    struct stat st {};
    st.st_ino = node.ino;
    st.st_mode = node.attr.mode;
    st.st_nlink = node.attr.nlink;
    st.st_uid = node.attr.uid;
    st.st_gid = node.attr.gid;
    st.st_rdev = node.attr.rdev;
    st.st_size = static_cast<off_t>(node.attr.size);
    st.st_blocks = static_cast<blkcnt_t>(node.attr.blocks);
    st.st_mtim = {node.attr.mtime_sec, static_cast<long>(node.attr.mtime_nsec)};
    st.st_atim = st.st_mtim;
    st.st_ctim = {node.attr.ctime_sec, static_cast<long>(node.attr.ctime_nsec)};
    return st;
}

FileContent MountLayout::content(const Node& node) {
    if (node.is_dir()) throw FsError(EISDIR, path_of(node) + " is a directory");
    if (node.kind != NodeKind::Entry || !node.is_regular())
        throw FsError(EINVAL, path_of(node) + " is not a regular file");
    TreePtr tree = trees_.get(node.container);
    if (node.container_index >= tree->size())
        throw_corruption("tree " + node.container.short_hex() + " lost entry " +
                         std::to_string(node.container_index));
    const TreeEntry& e = (*tree)[node.container_index];
    return FileContent(e.chunks, e.size);
}

const std::string& MountLayout::link_target(const Node& node) const {
    if ((node.attr.mode & S_IFMT) != S_IFLNK) throw FsError(EINVAL, path_of(node) + " is not a symlink");
    return node.target;
}

std::string MountLayout::path_of(const Node& node) {
    std::vector<const Node*> chain;
    for (const Node* n = &node; n && n->kind != NodeKind::Root; n = n->parent.get()) chain.push_back(n);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if (!out.empty()) out += '/';
        out += (*it)->name;
    }
    return out;
}

MountLayout::Totals MountLayout::totals() const {
    Totals t;
    if (auto latest = catalog()->latest()) {
        t.bytes = latest->snapshot.rec.bytes;
        t.files = latest->snapshot.rec.files + latest->snapshot.rec.dirs;
    }
    return t;
}

}  // namespace strata::fs
