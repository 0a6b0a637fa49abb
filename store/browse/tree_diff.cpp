#include "store/browse/tree_diff.h"

#include <set>

#include "store/base/errors.h"
#include "store/format/format.h"

namespace strata {
namespace {

std::uint64_t stored_bytes(const TreeEntry& e) {
    std::uint64_t n = 0;
    for (const auto& c : e.chunks) n += c.size;
    return n;
}

// Content is the chunk list itself (offsets, ids and sizes), not the size alone: an edit that
// keeps the length is a change.
bool same_chunks(const TreeEntry& a, const TreeEntry& b) {
    if (a.chunks.size() != b.chunks.size()) return false;
    for (std::size_t i = 0; i < a.chunks.size(); i++)
        if (a.chunks[i].offset != b.chunks[i].offset || a.chunks[i].id != b.chunks[i].id ||
            a.chunks[i].size != b.chunks[i].size)
            return false;
    return true;
}

// The chunk bytes of `a` whose ids `b` does not hold: what a modified file added (or removed).
std::uint64_t bytes_not_in(const TreeEntry& a, const TreeEntry& b) {
    std::set<BlobId> in_b;
    for (const auto& c : b.chunks) in_b.insert(c.id);
    std::uint64_t n = 0;
    for (const auto& c : a.chunks)
        if (!in_b.count(c.id)) n += c.size;
    return n;
}

class Differ {
  public:
    Differ(RepositoryReader& repo, const std::function<void(const TreeChange&)>& on_change)
        : repo_(repo), on_change_(on_change) {}

    void entries(const TreeEntry* before, const TreeEntry* after, std::string& path,
                 std::size_t depth) {
        if (!before) return one_side(ChangeKind::Added, *after, path, depth);
        if (!after) return one_side(ChangeKind::Removed, *before, path, depth);
        if (before->type != after->type) {
            TreeChange c{ChangeKind::Type, path, before, after};
            c.bytes_removed = stored_bytes(*before);
            c.bytes_added = stored_bytes(*after);
            on_change_(c);
            // What the directory side held went or came with it.
            if (before->type == EntryType::Dir)
                contents(ChangeKind::Removed, *before, path, depth);
            else if (after->type == EntryType::Dir)
                contents(ChangeKind::Added, *after, path, depth);
            return;
        }
        std::uint32_t fields = changed_fields(*before, *after);
        if (fields) {
            TreeChange c{fields & kContentChanged ? ChangeKind::Modified : ChangeKind::Metadata,
                         path, before, after, fields};
            if (fields & kContentChanged) {
                c.bytes_added = bytes_not_in(*after, *before);
                c.bytes_removed = bytes_not_in(*before, *after);
            }
            on_change_(c);
        }
        if (before->type == EntryType::Dir && before->subtree != after->subtree)
            trees(before->subtree, after->subtree, path, depth + 1);
    }

  private:
    void check_depth(const std::string& path, std::size_t depth) {
        if (depth > format::kMaxTreeDepth)
            throw_corruption(path + ": directories nested deeper than " +
                             std::to_string(format::kMaxTreeDepth) +
                             " levels (damaged or crafted tree)");
    }

    // `path` names the directory whose trees these are; one buffer for the whole walk, appended
    // to and trimmed, so memory grows with the depth only.
    void trees(const BlobId& before_id, const BlobId& after_id, std::string& path,
               std::size_t depth) {
        check_depth(path, depth);
        const auto before = repo_.load_tree(before_id);
        const auto after = repo_.load_tree(after_id);
        const std::size_t base = path.size();
        std::size_t i = 0, j = 0;
        while (i < before.size() || j < after.size()) {
            const TreeEntry* b = nullptr;
            const TreeEntry* a = nullptr;
            if (j == after.size() || (i < before.size() && before[i].name < after[j].name))
                b = &before[i++];
            else if (i == before.size() || after[j].name < before[i].name)
                a = &after[j++];
            else
                b = &before[i++], a = &after[j++];
            append(path, base, (b ? b : a)->name);
            entries(b, a, path, depth);
        }
        path.resize(base);
    }

    void one_side(ChangeKind kind, const TreeEntry& e, std::string& path, std::size_t depth) {
        TreeChange c{kind, path};
        if (kind == ChangeKind::Added) {
            c.after = &e;
            c.bytes_added = stored_bytes(e);
        } else {
            c.before = &e;
            c.bytes_removed = stored_bytes(e);
        }
        on_change_(c);
        if (e.type == EntryType::Dir) contents(kind, e, path, depth);
    }

    // Everything below directory `dir`, reported as `kind` (Added or Removed).
    void contents(ChangeKind kind, const TreeEntry& dir, std::string& path, std::size_t depth) {
        check_depth(path, depth + 1);
        const std::size_t base = path.size();
        for (const auto& e : repo_.load_tree(dir.subtree)) {
            append(path, base, e.name);
            one_side(kind, e, path, depth + 1);
        }
        path.resize(base);
    }

    static void append(std::string& path, std::size_t base, const std::string& name) {
        path.resize(base);
        if (base) path += '/';
        path += name;
    }

    RepositoryReader& repo_;
    const std::function<void(const TreeChange&)>& on_change_;
};

}  // namespace

std::uint32_t changed_fields(const TreeEntry& b, const TreeEntry& a) {
    std::uint32_t f = 0;
    switch (a.type) {
        case EntryType::File:
            if (a.size != b.size || !same_chunks(a, b)) f |= kContentChanged;
            break;
        case EntryType::Symlink:
            if (a.target != b.target) f |= kContentChanged;
            break;
        case EntryType::CharDev:
        case EntryType::BlockDev:
            if (a.rdev != b.rdev) f |= kContentChanged;
            break;
        case EntryType::Dir:  // its content is its subtree, which the walk compares
        case EntryType::Fifo:
        case EntryType::Socket:
            break;
    }
    if (a.mode != b.mode) f |= kModeChanged;
    if (a.uid != b.uid || a.gid != b.gid || a.user != b.user || a.group != b.group)
        f |= kOwnerChanged;
    if (a.mtime_sec != b.mtime_sec || a.mtime_nsec != b.mtime_nsec) f |= kMtimeChanged;
    if (a.xattrs != b.xattrs) f |= kXattrsChanged;
    // A directory's link count follows its subdirectories, which are reported themselves.
    if (a.type != EntryType::Dir && a.nlink != b.nlink) f |= kLinksChanged;
    return f;
}

void diff_entries(RepositoryReader& repo, const TreeEntry* before, const TreeEntry* after,
                  const std::string& path,
                  const std::function<void(const TreeChange&)>& on_change) {
    if (!before && !after) return;
    std::string buffer = path;
    Differ(repo, on_change).entries(before, after, buffer, 1);
}

}  // namespace strata
