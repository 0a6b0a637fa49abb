#include "fs/access.h"

#include <algorithm>

namespace strata::fs {

namespace {

constexpr const char* kAccessAclXattr = "system.posix_acl_access";

// The xattr's layout (linux/posix_acl_xattr.h): a little-endian u32 version 2, then entries of
// u16 tag, u16 perm, u32 id, sorted by tag and then id.
constexpr std::uint32_t kAclVersion = 2;
constexpr std::uint16_t kAclUserObj = 0x01, kAclUser = 0x02, kAclGroupObj = 0x04, kAclGroup = 0x08,
                        kAclMask = 0x10, kAclOther = 0x20;

struct AclEntry {
    std::uint16_t tag, perm;
    std::uint32_t id;
};

std::uint32_t le(const std::string& s, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
    return v;
}

std::optional<std::vector<AclEntry>> parse_acl(const std::string& value) {
    if (value.size() < 4 || (value.size() - 4) % 8 != 0 || le(value, 0, 4) != kAclVersion)
        return std::nullopt;
    std::vector<AclEntry> out;
    for (std::size_t at = 4; at < value.size(); at += 8)
        out.push_back({static_cast<std::uint16_t>(le(value, at, 2)),
                       static_cast<std::uint16_t>(le(value, at + 2, 2)), le(value, at + 4, 4)});
    return out;
}

// posix_acl_permission() of the kernel (fs/posix_acl.c), for a caller who is not the owner.
bool acl_permits(const std::vector<AclEntry>& acl, const DirPermissions& dir, const Caller& caller,
                 unsigned want) {
    auto masked = [&](std::size_t i) {
        for (std::size_t m = i + 1; m < acl.size(); ++m)
            if (acl[m].tag == kAclMask) return (acl[i].perm & acl[m].perm & want) == want;
        return (acl[i].perm & want) == want;
    };
    bool found_group = false;
    for (std::size_t i = 0; i < acl.size(); ++i) {
        const AclEntry& e = acl[i];
        switch (e.tag) {
            case kAclUserObj:
                if (dir.uid == caller.uid()) return (e.perm & want) == want;
                break;
            case kAclUser:
                if (e.id == caller.uid()) return masked(i);
                break;
            case kAclGroupObj:
            case kAclGroup:
                if (caller.in_group(e.tag == kAclGroupObj ? dir.gid : e.id)) {
                    found_group = true;
                    if ((e.perm & want) == want) return masked(i);
                }
                break;
            case kAclMask:
                break;
            case kAclOther:
                return !found_group && (e.perm & want) == want;
            default:
                return false;  // the kernel answers EIO
        }
    }
    return false;
}

}  // namespace

Caller::Caller(std::uint32_t uid, std::uint32_t gid, GroupsLoader groups)
    : uid_(uid), gid_(gid), load_groups_(std::move(groups)) {}

Caller Caller::root() { return Caller(0, 0, nullptr); }

bool Caller::in_group(std::uint32_t gid) const {
    if (gid == gid_) return true;
    if (!groups_) groups_ = load_groups_ ? load_groups_() : std::vector<std::uint32_t>{};
    return std::find(groups_->begin(), groups_->end(), gid) != groups_->end();
}

DirPermissions DirPermissions::of(const TreeEntry& dir) {
    DirPermissions p;
    p.uid = dir.uid;
    p.gid = dir.gid;
    p.mode = dir.mode & 07777;
    for (const auto& x : dir.xattrs)
        if (x.name == kAccessAclXattr) p.acl = x.value;
    return p;
}

bool DirPermissions::searchable_by_anyone() const { return acl.empty() && (mode & 0111) == 0111; }

bool DirPermissions::permits(const Caller& caller, unsigned want) const {
    if (caller.is_root()) return true;
    // acl_permission_check() of the kernel (fs/namei.c): the owner gets the owner's bits, ACLs
    // or not; an ACL decides for everyone else when the group bits are not all clear.
    if (caller.uid() == uid) return ((mode >> 6) & want) == want;
    if (!acl.empty() && (mode & 0070) != 0) {
        auto entries = parse_acl(acl);
        if (!entries) return false;  // the kernel would fail the check with EIO
        return acl_permits(*entries, *this, caller, want);
    }
    if (caller.in_group(gid)) return ((mode >> 3) & want) == want;
    return (mode & want) == want;
}

SearchChainPtr extend(const SearchChainPtr& above, DirPermissions dir) {
    if (dir.searchable_by_anyone()) return above;
    return std::make_shared<const SearchChain>(SearchChain{std::move(dir), above});
}

bool may_traverse(const SearchChainPtr& chain, const Caller& caller) {
    if (caller.is_root()) return true;
    for (const SearchChain* c = chain.get(); c; c = c->up.get())
        if (!c->dir.permits(caller, kMaySearch)) return false;
    return true;
}

}  // namespace strata::fs
