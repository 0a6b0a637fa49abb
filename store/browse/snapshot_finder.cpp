#include "store/browse/snapshot_finder.h"

#include <fnmatch.h>

#include <algorithm>

#include "store/base/errors.h"
#include "store/format/format.h"

namespace strata {

std::string glob_pattern_error(const std::string& p) {
    if (p.empty()) return "the pattern is empty";
    if (p.find('\0') != std::string::npos) return "the pattern holds a NUL byte";
    if (p.size() > 1 && p.back() == '/')
        return "the pattern ends with '/'; give it without (\"" + p.substr(0, p.size() - 1) + "\")";
    for (std::size_t i = 0; i < p.size(); i++) {
        if (p[i] == '\\') {
            if (++i == p.size()) return "the pattern ends with a lone '\\'; write '\\\\' for one";
        } else if (p[i] == '[') {
            // As fnmatch reads a bracket expression: a ']' right after '[', "[!" or "[^" is a
            // member, and the first ']' after that closes it.
            std::size_t j = i + 1;
            if (j < p.size() && (p[j] == '!' || p[j] == '^')) j++;
            if (j < p.size() && p[j] == ']') j++;
            while (j < p.size() && p[j] != ']') j++;
            if (j == p.size())
                return "the '[' at position " + std::to_string(i + 1) +
                       " is never closed; write '\\[' to match a '['";
            i = j;
        }
    }
    return "";
}

GlobMatcher::GlobMatcher(const std::string& pattern)
    : pattern_(pattern), whole_path_(pattern.find('/') != std::string::npos) {
    while (whole_path_ && pattern_.size() > 1 && pattern_.front() == '/') pattern_.erase(0, 1);
    if (!whole_path_) return;
    components_ = static_cast<std::size_t>(std::count(pattern_.begin(), pattern_.end(), '/')) + 1;
    if (pattern_.find_first_of("[\\") != std::string::npos) return;
    for (std::size_t slash = pattern_.find('/'); slash != std::string::npos;
         slash = pattern_.find('/', slash + 1))
        prefixes_.push_back(pattern_.substr(0, slash));
}

bool GlobMatcher::may_match_below(const std::string& dir_path) const {
    if (!whole_path_ || dir_path.empty()) return true;
    const std::size_t depth =
        static_cast<std::size_t>(std::count(dir_path.begin(), dir_path.end(), '/')) + 1;
    if (depth >= components_) return false;
    return prefixes_.empty() ||
           ::fnmatch(prefixes_[depth - 1].c_str(), dir_path.c_str(), FNM_PATHNAME) == 0;
}

bool GlobMatcher::matches(const std::string& path, const std::string& name) const {
    if (whole_path_) return ::fnmatch(pattern_.c_str(), path.c_str(), FNM_PATHNAME) == 0;
    return ::fnmatch(pattern_.c_str(), name.c_str(), 0) == 0;
}

void SnapshotFinder::add(std::size_t snapshot, const TreeEntry& start, const std::string& path) {
    if (!path.empty()) {
        std::string name = path.substr(path.rfind('/') + 1);
        if (matcher_.matches(path, name))
            versions_[version_of(path, start)].snapshots.push_back(snapshot);
    }
    if (start.type == EntryType::Dir && matcher_.may_match_below(path))
        collect(snapshot, node_for(start.subtree, path, 1));
}

std::uint32_t SnapshotFinder::node_for(const BlobId& tree, const std::string& path,
                                       std::size_t depth) {
    std::string key = path;
    key += '\0';
    key.append(reinterpret_cast<const char*>(tree.bytes.data()), tree.bytes.size());
    if (auto it = node_of_.find(key); it != node_of_.end()) return it->second;
    if (depth > format::kMaxTreeDepth)
        throw_corruption(path + ": directories nested deeper than " +
                         std::to_string(format::kMaxTreeDepth) +
                         " levels (damaged or crafted tree)");
    trees_loaded_++;
    Node node;
    std::string child;
    for (const auto& e : repo_.load_tree(tree)) {
        child = path.empty() ? e.name : path + "/" + e.name;
        if (matcher_.matches(child, e.name)) node.versions.push_back(version_of(child, e));
        if (e.type == EntryType::Dir && matcher_.may_match_below(child))
            if (std::uint32_t c = node_for(e.subtree, child, depth + 1)) node.children.push_back(c);
    }
    std::uint32_t index = 0;
    if (!node.versions.empty() || !node.children.empty()) {
        index = static_cast<std::uint32_t>(nodes_.size());
        nodes_.push_back(std::move(node));
    }
    node_of_.emplace(std::move(key), index);
    return index;
}

std::uint32_t SnapshotFinder::version_of(const std::string& path, const TreeEntry& e) {
    // What makes two versions of one path the same: everything but the source's identity
    // (inode, device, ctime), the link count and grouping (another name of a file coming or
    // going) and a directory's subtree.
    Encoder enc;
    enc.str(path);
    enc.u8(static_cast<std::uint8_t>(e.type));
    enc.varint(e.mode);
    enc.varint(e.uid);
    enc.varint(e.gid);
    enc.str(e.user);
    enc.str(e.group);
    enc.svarint(e.mtime_sec);
    enc.varint(e.mtime_nsec);
    enc.varint(e.size);
    enc.varint(e.rdev);
    enc.str(e.target);
    enc.varint(e.xattrs.size());
    for (const auto& x : e.xattrs) {
        enc.str(x.name);
        enc.str(x.value);
    }
    for (const auto& c : e.chunks) {
        enc.varint(c.offset);
        enc.raw(c.id.bytes);
        enc.varint(c.size);
    }
    BlobId key = sha256(enc.bytes());
    auto [it, added] = version_.emplace(key, static_cast<std::uint32_t>(versions_.size()));
    if (added) versions_.push_back(Version{path, e, {}});
    return it->second;
}

void SnapshotFinder::collect(std::size_t snapshot, std::uint32_t node) {
    // A snapshot holds each path once, so it reaches each node once.
    for (std::uint32_t v : nodes_[node].versions) versions_[v].snapshots.push_back(snapshot);
    for (std::uint32_t c : nodes_[node].children) collect(snapshot, c);
}

}  // namespace strata
