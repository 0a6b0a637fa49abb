// Who may search and list the directories of a snapshot, decided by the mount itself rather than
// the kernel. Under snapshots/ the kernel checks every directory on the path (default_permissions)
// and nothing here is used. Under history/ the directories on the mount path are synthetic unions
// of many snapshots' directories, so the directories a version really lived under are checked
// here, the way the kernel's generic_permission() would have checked them: the owner's bits for
// the owner, else the access ACL (system.posix_acl_access) when one is stored, else the group's
// bits for a member of the owning group, else the other bits. uid 0 may do anything (the mount is
// read-only, so that is CAP_DAC_OVERRIDE for reading).
//
// Threads: everything here is immutable or used by one request at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/format/tree.h"

namespace strata::fs {

// The permission bits asked for, as in access(2).
inline constexpr unsigned kMayRead = 4;
inline constexpr unsigned kMaySearch = 1;

// The user a request comes from: its filesystem uid and gid, and its supplementary groups,
// fetched only when a group decides (reading them costs a look at /proc for a FUSE request).
class Caller {
  public:
    using GroupsLoader = std::function<std::vector<std::uint32_t>()>;
    Caller(std::uint32_t uid, std::uint32_t gid, GroupsLoader groups);
    static Caller root();

    std::uint32_t uid() const { return uid_; }
    bool is_root() const { return uid_ == 0; }
    // Whether `gid` is the caller's gid or one of its supplementary groups.
    bool in_group(std::uint32_t gid) const;

  private:
    std::uint32_t uid_, gid_;
    GroupsLoader load_groups_;
    mutable std::optional<std::vector<std::uint32_t>> groups_;
};

// What deciding access to one stored directory needs: its owner, group and mode, and its access
// ACL as the system.posix_acl_access xattr stores it ("" if none).
struct DirPermissions {
    std::uint32_t uid = 0, gid = 0;
    std::uint32_t mode = 0;  // permission bits
    std::string acl;

    bool operator==(const DirPermissions&) const = default;

    static DirPermissions of(const TreeEntry& dir);
    // True if every user may search it (owner, group and other bits all have x, and no ACL
    // could take that away), so a chain of directories need not hold it.
    bool searchable_by_anyone() const;
    // Whether `caller` has every bit of `want` (kMayRead | kMaySearch) on it.
    bool permits(const Caller& caller, unsigned want) const;
};

// The directories above a version in its snapshot (its snapshot root included) that not every
// user may search, nearest last: a version is reachable by a caller iff it may search each of
// them. Shared between the versions below the same directories; null when there are none, as
// for almost every path.
struct SearchChain {
    DirPermissions dir;
    std::shared_ptr<const SearchChain> up;
};
using SearchChainPtr = std::shared_ptr<const SearchChain>;

// The chain below `dir`, given the chain above it: `above` itself if anyone may search `dir`.
SearchChainPtr extend(const SearchChainPtr& above, DirPermissions dir);
// Whether `caller` may search every directory of `chain`.
bool may_traverse(const SearchChainPtr& chain, const Caller& caller);

}  // namespace strata::fs
