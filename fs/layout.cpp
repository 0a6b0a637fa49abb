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
    {"snapshots", NodeKind::SnapshotsDir},
    {"ids", NodeKind::IdsDir},
    {"hosts", NodeKind::HostsDir},
    {"tags", NodeKind::TagsDir},
    {"at", NodeKind::AtDir},
    {"history", NodeKind::HistoryDir},
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
      mounted_at_(std::time(nullptr)),
      trees_(
          [&repo](const BlobId& id) {
              return as_damage(id, "tree", [&] { return repo.load_tree(id); });
          },
          options.tree_cache_bytes),
      history_(trees_, kHistoryPaths),
      inodes_([&] {
          Node root;
          root.kind = NodeKind::Root;
          root.key = virtual_key("");
          root.mode = S_IFDIR | 0555;
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

NodeAttr MountLayout::own_dir_attr(const SnapshotCatalog& catalog) const {
    NodeAttr a;
    a.mode = S_IFDIR | 0555;
    a.uid = options_.owner_uid;
    a.gid = options_.owner_gid;
    a.nlink = 2;
    // As new as the newest snapshot: that is when the mount's own directories last changed.
    a.mtime_sec = a.ctime_sec = mounted_at_;
    if (auto latest = catalog.latest()) {
        a.mtime_sec = a.ctime_sec = latest->snapshot.rec.time_sec;
        a.mtime_nsec = a.ctime_nsec = latest->snapshot.rec.time_nsec;
    }
    return a;
}

Child MountLayout::virtual_dir(NodeKind kind, const NodePtr& parent, std::string name,
                               const SnapshotCatalog& catalog) const {
    Child c;
    Node& n = c.node;
    n.kind = kind;
    n.parent = parent;
    n.name = std::move(name);
    n.key = virtual_key(path_of(n));
    if (kind == NodeKind::HistoryDir) n.text = std::make_shared<const std::string>();
    c.attr = own_dir_attr(catalog);
    n.mode = c.attr.mode;
    return c;
}

Child MountLayout::link(const NodePtr& parent, std::string name,
                        std::shared_ptr<const SnapshotInfo> target, const std::string& prefix) {
    Child c;
    Node& n = c.node;
    n.kind = NodeKind::Link;
    n.parent = parent;
    n.name = std::move(name);
    n.text = std::make_shared<const std::string>(prefix + target->name);
    n.key = symlink_key(path_of(n), *n.text);
    n.snapshot = std::move(target);
    n.mode = S_IFLNK | 0777;
    c.attr = attributes(n);
    return c;
}

std::optional<Child> MountLayout::find_child(const NodePtr& dir, std::string_view name,
                                             const Caller& caller) {
    return find_child(dir, name, catalog(), caller);
}

std::optional<Child> MountLayout::find_child(const NodePtr& dir, std::string_view name,
                                             const std::shared_ptr<const SnapshotCatalog>& catalog,
                                             const Caller& caller) {
    if (!dir->is_dir()) throw FsError(ENOTDIR, path_of(*dir) + " is not a directory");
    const SnapshotCatalog& cat = *catalog;
    switch (dir->kind) {
        case NodeKind::Root:
            for (const auto& t : kTopDirs)
                if (name == t.name) return virtual_dir(t.kind, dir, t.name, cat);
            return std::nullopt;
        case NodeKind::SnapshotsDir:
            if (name == kLatest) {
                if (auto latest = cat.latest()) return link(dir, kLatest, latest, "");
                return std::nullopt;
            }
            if (auto s = cat.by_name(name)) return snapshot_root_child(s, dir);
            return std::nullopt;
        case NodeKind::IdsDir:
            if (auto s = cat.by_id(name)) return link(dir, std::string(name), s, "../snapshots/");
            return std::nullopt;
        case NodeKind::HostsDir:
        case NodeKind::TagsDir: {
            const auto& groups = dir->kind == NodeKind::HostsDir ? cat.hosts() : cat.tags();
            if (!groups.count(std::string(name))) return std::nullopt;
            return virtual_dir(
                dir->kind == NodeKind::HostsDir ? NodeKind::HostDir : NodeKind::TagDir, dir,
                std::string(name), cat);
        }
        case NodeKind::HostDir:
        case NodeKind::TagDir: {
            const auto& groups = dir->kind == NodeKind::HostDir ? cat.hosts() : cat.tags();
            auto g = groups.find(dir->name);
            if (g == groups.end()) return std::nullopt;
            if (auto s = find_named(g->second, name))
                return link(dir, std::string(name), *s, "../../snapshots/");
            return std::nullopt;
        }
        case NodeKind::AtDir: {
            auto when = parse_moment(name);
            if (!when) return std::nullopt;
            if (auto s = cat.at_or_before(*when))
                return link(dir, std::string(name), s, "../snapshots/");
            return std::nullopt;
        }
        case NodeKind::HistoryDir:
            return history_child(dir, name, cat, caller);
        case NodeKind::Entry: {
            const BlobId subtree = subtree_of(*dir);
            TreePtr tree = trees_.get(subtree);
            const TreeEntry* e = find_entry(*tree, name);
            if (!e) return std::nullopt;
            auto index = static_cast<std::uint32_t>(e - tree->data());
            return entry_child(*e, index, subtree, dir->key, dir->snapshot, dir, e->name);
        }
        case NodeKind::Link:
            break;
    }
    throw FsError(ENOTDIR, path_of(*dir) + " is not a directory");
}

NodeAttr MountLayout::history_attr(const PathHistory& h) const {
    // Open to everyone, as the mount's own directories are: what each user may see under it is
    // decided per user by find_child and list, from the permissions each version had in its own
    // snapshot. The kernel's check of one mode here would hold every version to one snapshot's
    // permissions (after a chown, the old owner would lose the old versions).
    NodeAttr a;
    a.nlink = 2;
    a.mode = S_IFDIR | 0555;
    a.uid = options_.owner_uid;
    a.gid = options_.owner_gid;
    if (!h.dirs.empty()) {
        const NodeAttr& newest = h.dirs.back().attr;
        a.mtime_sec = a.ctime_sec = newest.mtime_sec;
        a.mtime_nsec = a.ctime_nsec = newest.mtime_nsec;
    } else if (!h.versions.empty()) {
        const auto& rec = h.versions.back().child.node.snapshot->snapshot.rec;
        a.mtime_sec = a.ctime_sec = rec.time_sec;
        a.mtime_nsec = a.ctime_nsec = rec.time_nsec;
    }
    return a;
}

std::optional<Child> MountLayout::history_child(const NodePtr& dir, std::string_view name,
                                                const SnapshotCatalog& catalog,
                                                const Caller& caller) {
    if (!valid_entry_name(name)) return std::nullopt;
    const std::string& here = *dir->text;
    auto parent = history_.at(catalog, here);
    if (!caller.is_root() && !parent->searchable_by(caller)) {
        // Nothing here was searchable for the caller in any snapshot: every name is refused
        // alike, as a directory without x refuses them, so refusals tell nothing about which
        // names exist. Versions of `here` (it was a file somewhere) are names of their own.
        bool any_version = false;
        for (const auto& v : parent->versions)
            if ((any_version = may_traverse(v.above, caller))) break;
        if (!any_version)
            throw FsError(EACCES, path_of(*dir) + ": no version may be searched by uid " +
                                      std::to_string(caller.uid()));
    }
    const std::string path = here.empty() ? std::string(name) : here + "/" + std::string(name);
    auto h = history_.at(catalog, path);
    if (!h->dirs.empty() || !h->versions.empty()) {
        // Hidden, not refused: the caller may look names up here, and a refusal would tell
        // that this one existed where it could not look.
        if (!h->reachable_by(caller)) return std::nullopt;
        Child c;
        Node& n = c.node;
        n.kind = NodeKind::HistoryDir;
        n.parent = dir;
        n.name = std::string(name);
        n.text = std::make_shared<const std::string>(path);
        n.key = virtual_key("history/" + path);
        c.attr = history_attr(*h);
        n.mode = c.attr.mode;
        return c;
    }
    if (const auto* v = parent->version(name)) {
        if (!may_traverse(v->above, caller)) return std::nullopt;
        Child c = v->child;
        c.node.parent = dir;
        c.node.name = std::string(name);
        return c;
    }
    return std::nullopt;
}

MountLayout::Listing MountLayout::list(const NodePtr& dir, const Caller& caller) {
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
        case NodeKind::HistoryDir: {
            auto h = history_.at(cat, *dir->text);
            l.names = history_.names(*h, caller);
            // Nothing listable at all is refused, as an unreadable directory is; an empty
            // listing would still be the truth, but not what the snapshots would have said.
            if (l.names.empty() && !caller.is_root()) {
                bool listable = false;
                for (const auto& dv : h->dirs)
                    if ((listable = dv.listable_by(caller))) break;
                if (!listable && !h->dirs.empty())
                    throw FsError(EACCES, path_of(*dir) + ": no version may be listed by uid " +
                                              std::to_string(caller.uid()));
            }
            break;
        }
        case NodeKind::Entry:
            l.tree_id = subtree_of(*dir);
            l.tree = trees_.get(l.tree_id);
            break;
        case NodeKind::Link:
            throw FsError(ENOTDIR, path_of(*dir) + " is not a directory");
    }
    return l;
}

std::optional<Child> MountLayout::child_at(const NodePtr& dir, const Listing& listing,
                                           std::size_t i) {
    if (listing.tree) {
        const TreeEntry& e = (*listing.tree)[i];
        return entry_child(e, static_cast<std::uint32_t>(i), listing.tree_id, dir->key,
                           dir->snapshot, dir, e.name);
    }
    return find_child(dir, listing.names[i], listing.catalog, Caller::root());
}

std::shared_ptr<const TreeEntry> MountLayout::stored_entry(const Node& node) {
    if (node.kind != NodeKind::Entry)
        throw FsError(EINVAL, path_of(node) + " is not stored in a snapshot");
    if (node.is_snapshot_root())
        return std::make_shared<const TreeEntry>(snapshot_root(*node.snapshot));
    TreePtr tree = trees_.get(node.tree);
    if (node.index >= tree->size())
        throw_corruption("tree " + node.tree.short_hex() + " has no entry " +
                         std::to_string(node.index));
    return std::shared_ptr<const TreeEntry>(tree, &(*tree)[node.index]);
}

BlobId MountLayout::subtree_of(const Node& dir) {
    if (dir.is_snapshot_root()) return dir.snapshot->snapshot.rec.root;
    TreePtr tree = trees_.get(dir.tree);
    if (dir.index >= tree->size() || (*tree)[dir.index].type != EntryType::Dir)
        throw_corruption("tree " + dir.tree.short_hex() + " no longer holds directory " + dir.name);
    return (*tree)[dir.index].subtree;
}

NodeAttr MountLayout::attributes(const Node& node) {
    switch (node.kind) {
        case NodeKind::Entry:
            return attr_of(*stored_entry(node));
        case NodeKind::Link: {
            NodeAttr a;
            a.mode = node.mode;
            a.uid = options_.owner_uid;
            a.gid = options_.owner_gid;
            a.size = node.text->size();
            a.mtime_sec = a.ctime_sec = node.snapshot->snapshot.rec.time_sec;
            a.mtime_nsec = a.ctime_nsec = node.snapshot->snapshot.rec.time_nsec;
            return a;
        }
        case NodeKind::HistoryDir:
            if (!node.text->empty()) return history_attr(*history_.at(*catalog(), *node.text));
            return own_dir_attr(*catalog());
        case NodeKind::Root: {
            NodeAttr a = own_dir_attr(*catalog());
            a.nlink = 2 + static_cast<std::uint32_t>(std::size(kTopDirs));
            return a;
        }
        default:
            return own_dir_attr(*catalog());
    }
}

double MountLayout::entry_timeout(const Node& dir) const {
    if (dir.kind == NodeKind::HistoryDir) return kPerCallerTimeout;
    return dir.kind == NodeKind::Entry || dir.kind == NodeKind::Root ? kContentTimeout
                                                                     : kLiveTimeout;
}

double MountLayout::attr_timeout(const Node& node) const {
    return node.kind == NodeKind::Entry ? kContentTimeout : kLiveTimeout;
}

struct stat MountLayout::stat_of(const Node& node, const NodeAttr& attr) {
    struct stat st {};
    st.st_ino = node.ino;
    st.st_mode = attr.mode;
    st.st_nlink = attr.nlink;
    st.st_uid = attr.uid;
    st.st_gid = attr.gid;
    st.st_rdev = attr.rdev;
    st.st_size = static_cast<off_t>(attr.size);
    st.st_blocks = static_cast<blkcnt_t>(attr.blocks);
    st.st_mtim = {attr.mtime_sec, static_cast<long>(attr.mtime_nsec)};
    st.st_atim = st.st_mtim;
    st.st_ctim = {attr.ctime_sec, static_cast<long>(attr.ctime_nsec)};
    return st;
}

FileContent MountLayout::content(const Node& node) {
    if (node.is_dir()) throw FsError(EISDIR, path_of(node) + " is a directory");
    if (node.kind != NodeKind::Entry || !node.is_regular())
        throw FsError(EINVAL, path_of(node) + " is not a regular file");
    auto e = stored_entry(node);
    return FileContent(e->chunks, e->size);
}

std::string MountLayout::link_target(const Node& node) {
    if (!node.is_symlink()) throw FsError(EINVAL, path_of(node) + " is not a symlink");
    if (node.kind == NodeKind::Link) return *node.text;
    return stored_entry(node)->target;
}

std::vector<Xattr> MountLayout::xattrs(const Node& node) {
    if (node.kind != NodeKind::Entry) return {};
    return stored_entry(node)->xattrs;
}

std::string MountLayout::path_of(const Node& node) {
    std::vector<const Node*> chain;
    for (const Node* n = &node; n && n->kind != NodeKind::Root; n = n->parent.get())
        chain.push_back(n);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if (!out.empty()) out += '/';
        out += (*it)->name;
    }
    return out;
}

MountLayout::Space MountLayout::space() {
    // statfs reaches the filesystem on every df, and the readiness watchdog pings it; the pack
    // table is read once per interval, not per request.
    constexpr auto kSpaceRefresh = std::chrono::seconds(5);
    std::lock_guard lock(space_mu_);
    auto now = std::chrono::steady_clock::now();
    if (space_at_ && now - *space_at_ < kSpaceRefresh) return space_;
    SpaceUsage u = repo_.space_usage();
    Space s;
    s.used_bytes = u.stored_bytes;
    s.free_bytes = u.free_bytes;
    s.free_files = u.free_files;
    if (auto latest = catalog()->latest())
        s.used_files = latest->snapshot.rec.files + latest->snapshot.rec.dirs;
    space_ = s;
    space_at_ = now;
    return s;
}

}  // namespace strata::fs
