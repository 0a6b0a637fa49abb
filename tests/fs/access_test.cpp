// Who may search and list a stored directory (fs/access.h), without a kernel: owner, group and
// other bits, supplementary groups, POSIX ACL entries and their mask, and root.
#include "fs/access.h"

#include <gtest/gtest.h>

#include <array>

namespace strata::fs {
namespace {

Caller user(std::uint32_t uid, std::uint32_t gid, std::vector<std::uint32_t> groups = {}) {
    return Caller(uid, gid, [groups] { return groups; });
}

DirPermissions dir(std::uint32_t uid, std::uint32_t gid, std::uint32_t mode, std::string acl = "") {
    return {uid, gid, mode, std::move(acl)};
}

// The system.posix_acl_access value of `entries` ({tag, perm, id}), sorted as the kernel keeps
// them.
std::string acl(std::initializer_list<std::array<std::uint32_t, 3>> entries) {
    std::string out;
    auto put = [&out](std::uint32_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out += static_cast<char>(v >> (8 * i));
    };
    put(2, 4);
    for (const auto& e : entries) {
        put(e[0], 2);
        put(e[1], 2);
        put(e[2], 4);
    }
    return out;
}
constexpr std::uint32_t kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kGroup = 0x08,
                        kMask = 0x10, kOther = 0x20, kNoId = 0xffffffff;

constexpr unsigned kList = kMayRead | kMaySearch;

TEST(DirPermissions, OwnerGroupAndOtherBitsDecideInThatOrder) {
    const DirPermissions d = dir(1000, 100, 0750);
    EXPECT_TRUE(d.permits(user(1000, 1), kList));
    EXPECT_TRUE(d.permits(user(2000, 100), kList));
    EXPECT_FALSE(d.permits(user(2000, 100), kMayRead | kMaySearch | 2));
    EXPECT_FALSE(d.permits(user(2000, 200), kMaySearch));
    // The owner gets the owner's bits only, even where others would get more.
    const DirPermissions owner_shut = dir(1000, 100, 0077);
    EXPECT_FALSE(owner_shut.permits(user(1000, 100), kMaySearch));
    EXPECT_TRUE(owner_shut.permits(user(2000, 200), kMaySearch));
    // A group member gets the group's bits, even where others would get more.
    const DirPermissions group_shut = dir(0, 100, 0705);
    EXPECT_FALSE(group_shut.permits(user(2000, 100), kMaySearch));
    EXPECT_TRUE(group_shut.permits(user(2000, 200), kMaySearch));
    // Search without read: enter, not list.
    const DirPermissions search_only = dir(0, 0, 0711);
    EXPECT_TRUE(search_only.permits(user(2000, 200), kMaySearch));
    EXPECT_FALSE(search_only.permits(user(2000, 200), kList));
}

TEST(DirPermissions, SupplementaryGroupsCountAndAreReadOnlyWhenAGroupDecides) {
    int loads = 0;
    Caller c(2000, 200, [&loads] {
        ++loads;
        return std::vector<std::uint32_t>{300, 100};
    });
    EXPECT_TRUE(dir(0, 100, 0750).permits(c, kList));
    EXPECT_FALSE(dir(0, 400, 0750).permits(c, kMaySearch));
    EXPECT_EQ(loads, 1);  // read once, kept for the request
    Caller owner(1000, 200, [&loads] {
        ++loads;
        return std::vector<std::uint32_t>{};
    });
    EXPECT_TRUE(dir(1000, 100, 0700).permits(owner, kList));
    EXPECT_TRUE(dir(0, 200, 0070).permits(owner, kList));  // its own gid needs no lookup
    EXPECT_EQ(loads, 1);
}

TEST(DirPermissions, RootMayDoAnything) {
    EXPECT_TRUE(dir(1000, 100, 0000).permits(Caller::root(), kList));
    EXPECT_TRUE(
        dir(1000, 100, 0000, acl({{kUserObj, 0, kNoId}, {kGroupObj, 0, kNoId}, {kOther, 0, kNoId}}))
            .permits(Caller::root(), kList));
    SearchChainPtr chain = extend(extend(nullptr, dir(1000, 100, 0700)), dir(1000, 100, 0));
    EXPECT_TRUE(may_traverse(chain, Caller::root()));
    EXPECT_FALSE(may_traverse(chain, user(2000, 200)));
}

TEST(DirPermissions, AclUserAndGroupEntriesAreLimitedByTheMask) {
    // setfacl -m u:2000:rx,g:300:rx,m::r-x on a 0750 root:100 directory.
    const std::string rx = acl({{kUserObj, 7, kNoId},
                                {kUser, 5, 2000},
                                {kGroupObj, 5, kNoId},
                                {kGroup, 5, 300},
                                {kMask, 5, kNoId},
                                {kOther, 0, kNoId}});
    const DirPermissions d = dir(0, 100, 0750, rx);
    EXPECT_TRUE(d.permits(user(2000, 999), kList));         // named user
    EXPECT_TRUE(d.permits(user(3000, 999, {300}), kList));  // named group, supplementary
    EXPECT_TRUE(d.permits(user(3000, 100), kList));         // owning group
    EXPECT_FALSE(d.permits(user(3000, 999), kMaySearch));   // other: nothing
    EXPECT_FALSE(d.permits(user(65534, 65534), kMaySearch));
    // The same entries under a mask of r--: the named user and groups may no longer search.
    const DirPermissions masked = dir(0, 100, 0740,
                                      acl({{kUserObj, 7, kNoId},
                                           {kUser, 5, 2000},
                                           {kGroupObj, 5, kNoId},
                                           {kGroup, 5, 300},
                                           {kMask, 4, kNoId},
                                           {kOther, 0, kNoId}}));
    EXPECT_FALSE(masked.permits(user(2000, 999), kMaySearch));
    EXPECT_TRUE(masked.permits(user(2000, 999), kMayRead));
    EXPECT_FALSE(masked.permits(user(3000, 999, {300}), kMaySearch));
    EXPECT_FALSE(masked.permits(user(1, 999), kMaySearch));
    // The owner keeps the owner's bits whatever the ACL says.
    EXPECT_TRUE(masked.permits(user(0, 0), kList));
}

TEST(DirPermissions, AMatchingGroupWithoutTheBitsShutsOutOtherEvenIfOtherMayEnter) {
    // (With an ACL the mode's group bits are the mask; were they clear, the kernel would not
    // look at the ACL at all.)
    const DirPermissions d = dir(0, 100, 0755,
                                 acl({{kUserObj, 7, kNoId},
                                      {kGroupObj, 0, kNoId},
                                      {kGroup, 0, 300},
                                      {kMask, 5, kNoId},
                                      {kOther, 5, kNoId}}));
    EXPECT_FALSE(d.permits(user(2000, 300), kMaySearch));
    EXPECT_FALSE(d.permits(user(2000, 100), kMaySearch));
    EXPECT_TRUE(d.permits(user(2000, 999), kMaySearch));
    // A group entry granting what is asked wins over another matching one that does not.
    const DirPermissions two = dir(0, 100, 0750,
                                   acl({{kUserObj, 7, kNoId},
                                        {kGroupObj, 0, kNoId},
                                        {kGroup, 5, 300},
                                        {kMask, 5, kNoId},
                                        {kOther, 0, kNoId}}));
    EXPECT_TRUE(two.permits(user(2000, 100, {300}), kList));
    // Group bits clear: the ACL is not consulted, as in the kernel.
    const DirPermissions ignored = dir(0, 100, 0705,
                                       acl({{kUserObj, 7, kNoId},
                                            {kGroupObj, 0, kNoId},
                                            {kGroup, 0, 300},
                                            {kMask, 0, kNoId},
                                            {kOther, 5, kNoId}}));
    EXPECT_TRUE(ignored.permits(user(2000, 300), kMaySearch));
}

TEST(DirPermissions, AnUnreadableAclRefuses) {
    EXPECT_FALSE(
        dir(0, 100, 0755, std::string("\x02\0\0\0\x01", 5)).permits(user(1, 1), kMaySearch));
    EXPECT_FALSE(dir(0, 100, 0755, acl({{0x40, 7, kNoId}})).permits(user(1, 1), kMaySearch));
}

TEST(DirPermissions, OnlyDirectoriesSomeoneMayNotSearchJoinAChain) {
    EXPECT_TRUE(dir(0, 0, 0755).searchable_by_anyone());
    EXPECT_TRUE(dir(0, 0, 0111).searchable_by_anyone());
    EXPECT_FALSE(dir(0, 0, 0750).searchable_by_anyone());
    EXPECT_FALSE(dir(0, 0, 0601).searchable_by_anyone());  // the owner may not
    EXPECT_FALSE(dir(0, 0, 0755,
                     acl({{kUserObj, 7, kNoId},
                          {kUser, 0, 5},
                          {kGroupObj, 5, kNoId},
                          {kMask, 5, kNoId},
                          {kOther, 5, kNoId}}))
                     .searchable_by_anyone());
    EXPECT_EQ(extend(nullptr, dir(0, 0, 0755)), nullptr);
    SearchChainPtr one = extend(nullptr, dir(0, 0, 0700));
    EXPECT_EQ(extend(one, dir(0, 0, 0755)), one);
}

}  // namespace
}  // namespace strata::fs
