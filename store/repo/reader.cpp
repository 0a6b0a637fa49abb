#include "store/repo/reader.h"

#include <algorithm>
#include <cctype>

#include "store/backend/s3/s3_location.h"
#include "store/repo/repository.h"

namespace strata {

std::unique_ptr<RepositoryReader> open_repository_reader(const std::string& location) {
    return Repository::open(location);
}

bool is_local_location(const std::string& location) { return !s3::is_s3_location(location); }

const Snapshot& resolve_snapshot(const std::vector<Snapshot>& all, const std::string& name) {
    if (all.empty()) throw_not_found("the repository has no snapshots yet");
    if (name == "latest") return all.back();
    if (name.size() < 4 || name.size() > 64 ||
        name.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        throw_usage("\"" + name +
                    "\" is not a snapshot name: give its id, a prefix of at least 4 hex digits, "
                    "or `latest`");
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const Snapshot* found = nullptr;
    std::size_t matches = 0;
    for (const auto& s : all) {
        if (s.id.hex().compare(0, lower.size(), lower) == 0) {
            found = &s;
            matches++;
        }
    }
    if (matches == 0) throw_not_found("no snapshot has an id starting with " + lower);
    if (matches > 1)
        throw_usage("snapshot prefix " + lower + " is ambiguous (" + std::to_string(matches) +
                    " snapshots match); give more digits");
    return *found;
}

TreeEntry snapshot_root_entry(const Snapshot& s) {
    TreeEntry e = s.rec.root_meta;
    e.subtree = s.rec.root;
    return e;
}

TreeEntry find_path(RepositoryReader& repo, const Snapshot& s, const std::string& path) {
    TreeEntry cur = snapshot_root_entry(s);
    std::string walked;
    std::size_t pos = 0;
    while (pos < path.size()) {
        std::size_t slash = path.find('/', pos);
        std::string part =
            path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        pos = slash == std::string::npos ? path.size() : slash + 1;
        if (part.empty() || part == ".") continue;
        if (cur.type != EntryType::Dir)
            throw_not_found(walked + " is not a directory in snapshot " + s.id.short_hex());
        auto entries = repo.load_tree(cur.subtree);
        const TreeEntry* found = find_entry(entries, part);
        walked += (walked.empty() ? "" : "/") + part;
        if (!found)
            throw_not_found(walked + ": no such file or directory in snapshot " + s.id.short_hex());
        cur = *found;
    }
    return cur;
}

}  // namespace strata
