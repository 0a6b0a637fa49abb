// history/ as different users see it, without a kernel: a version is found only by a caller who
// could have searched every directory above it in its own snapshot, and a union directory lists
// only the names of the directory versions the caller could have listed, whatever owners, groups,
// modes or ACLs the same directories have in other snapshots.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>

#include "fs/layout.h"
#include "tests/fs/fake_repository.h"

namespace strata::fs {
namespace {

using testing::dir_entry;
using testing::FakeRepository;
using testing::file_entry;

constexpr std::int64_t t1 = 1793527200;  // 2026-11-01T10:00:00Z
constexpr const char* kFirst = "2026-11-01T10:00:00Z";
constexpr const char* kSecond = "2026-11-01T10:00:01Z";

Caller user(std::uint32_t uid, std::uint32_t gid, std::vector<std::uint32_t> groups = {}) {
    return Caller(uid, gid, [groups] { return groups; });
}
const Caller nobody = user(65534, 65534);

TreeEntry owned(TreeEntry e, std::uint32_t uid, std::uint32_t gid, std::uint32_t mode) {
    e.uid = uid;
    e.gid = gid;
    e.mode = mode;
    return e;
}

class HistoryAccessTest : public ::testing::Test {
  protected:
    // Walks `path` as `caller`; nothing if a name is not found (std::nullopt), the errno of a
    // refusal in `error`.
    NodePtr walk(const std::string& path, const Caller& caller, int* error = nullptr) {
        NodePtr cur = layout->root();
        std::size_t pos = 0;
        if (error) *error = 0;
        while (pos < path.size()) {
            std::size_t slash = path.find('/', pos);
            std::string part =
                path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
            pos = slash == std::string::npos ? path.size() : slash + 1;
            try {
                auto child = layout->find_child(cur, part, caller);
                if (!child) {
                    if (error) *error = ENOENT;
                    return nullptr;
                }
                cur = layout->remember(std::move(child->node));
            } catch (const FsError& e) {
                if (error) *error = e.error;
                return nullptr;
            }
        }
        return cur;
    }
    std::vector<std::string> names(const std::string& path, const Caller& caller) {
        NodePtr dir = walk(path, Caller::root());
        EXPECT_TRUE(dir) << path;
        if (!dir) return {};
        auto listing = layout->list(dir, caller);
        std::vector<std::string> out;
        for (std::size_t i = 0; i < listing.size(); ++i)
            if (auto c = layout->child_at(dir, listing, i)) out.push_back(c->node.name);
        return out;
    }
    int refusal(const std::string& path, const Caller& caller) {
        int error = 0;
        walk(path, caller, &error);
        return error;
    }
    void mount() { layout.emplace(repo, LayoutOptions{}); }

    FakeRepository repo;
    std::optional<MountLayout> layout;
};

// The reported leak: a file under a 0700 root directory in the first snapshot, that directory
// 0755 in the second.
TEST_F(HistoryAccessTest, AVersionUnderAnUnsearchableDirectoryIsHidden) {
    BlobId p1 = repo.add_tree({file_entry(repo, "inner.txt", "INNER-SECRET")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("private", p1), 0, 0, 0700)}), t1);
    BlobId p2 = repo.add_tree({file_entry(repo, "inner.txt", "public")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("private", p2), 0, 0, 0755)}), t1 + 1);
    mount();
    const std::string first = std::string("history/private/inner.txt/") + kFirst;
    const std::string second = std::string("history/private/inner.txt/") + kSecond;
    EXPECT_FALSE(walk(first, nobody));
    EXPECT_EQ(refusal(first, nobody), ENOENT);  // hidden, as if it had never been
    EXPECT_TRUE(walk(second, nobody));          // no over-blocking
    EXPECT_EQ(names("history/private/inner.txt", nobody), (std::vector<std::string>{kSecond}));
    EXPECT_EQ(names("history/private", nobody), (std::vector<std::string>{"inner.txt"}));
    // Root, and the owner, see both.
    EXPECT_TRUE(walk(first, Caller::root()));
    EXPECT_TRUE(walk(first, user(0, 5)));
    EXPECT_EQ(names("history/private/inner.txt", Caller::root()),
              (std::vector<std::string>{kFirst, kSecond}));
    // Under history/ the kernel may keep no name: the next walk asks again, as its own user.
    EXPECT_EQ(layout->entry_timeout(*walk("history/private", Caller::root())), 0);
    EXPECT_EQ(layout->entry_timeout(*walk("history", Caller::root())), 0);
}

TEST_F(HistoryAccessTest, AChownBetweenSnapshotsMovesWhoMayReachEachVersion) {
    BlobId d1 = repo.add_tree({file_entry(repo, "f", "alice's")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("home", d1), 1000, 1000, 0700)}), t1);
    BlobId d2 = repo.add_tree({file_entry(repo, "f", "bob's")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("home", d2), 2000, 2000, 0700)}), t1 + 1);
    mount();
    const Caller alice = user(1000, 1000), bob = user(2000, 2000);
    EXPECT_EQ(names("history/home/f", alice), (std::vector<std::string>{kFirst}));
    EXPECT_EQ(names("history/home/f", bob), (std::vector<std::string>{kSecond}));
    EXPECT_TRUE(walk(std::string("history/home/f/") + kFirst, alice));
    EXPECT_FALSE(walk(std::string("history/home/f/") + kSecond, alice));
    EXPECT_TRUE(walk(std::string("history/home/f/") + kSecond, bob));
    EXPECT_FALSE(walk(std::string("history/home/f/") + kFirst, bob));
    // Someone who could search neither is refused every name, existing or not.
    EXPECT_EQ(refusal("history/home/f", nobody), EACCES);
    EXPECT_EQ(refusal("history/home/never", nobody), EACCES);
    try {
        layout->list(walk("history/home", Caller::root()), nobody);
        ADD_FAILURE() << "history/home listed for nobody";
    } catch (const FsError& e) {
        EXPECT_EQ(e.error, EACCES);
    }
}

TEST_F(HistoryAccessTest, AChgrpWithAGroupOnlyModeFollowsTheGroupOfEachSnapshot) {
    BlobId d1 = repo.add_tree({file_entry(repo, "plan", "v1")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("team", d1), 0, 100, 0070)}), t1);
    BlobId d2 = repo.add_tree({file_entry(repo, "plan", "v2")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("team", d2), 0, 200, 0070)}), t1 + 1);
    mount();
    EXPECT_EQ(names("history/team/plan", user(1000, 100)), (std::vector<std::string>{kFirst}));
    // Membership through a supplementary group counts.
    EXPECT_EQ(names("history/team/plan", user(1000, 1000, {200})),
              (std::vector<std::string>{kSecond}));
    EXPECT_EQ(names("history/team/plan", user(1000, 1000, {100, 200})),
              (std::vector<std::string>{kFirst, kSecond}));
    EXPECT_FALSE(walk(std::string("history/team/plan/") + kSecond, user(1000, 100)));
    // Someone in neither group may search neither version of team/.
    EXPECT_EQ(refusal("history/team/plan", user(3000, 3000)), EACCES);
}

TEST_F(HistoryAccessTest, ADirectoryThreeLevelsUpGuardsEveryVersionBelowIt) {
    auto deep = [&](const std::string& content, std::uint32_t top_mode) {
        BlobId c = repo.add_tree({file_entry(repo, "leaf.txt", content)});
        BlobId b = repo.add_tree({dir_entry("c", c)});
        BlobId a = repo.add_tree({dir_entry("b", b)});
        return repo.add_tree({owned(dir_entry("a", a), 0, 0, top_mode)});
    };
    repo.add_snapshot(deep("deep secret", 0700), t1);
    repo.add_snapshot(deep("deep public", 0755), t1 + 1);
    mount();
    EXPECT_EQ(names("history/a/b/c/leaf.txt", nobody), (std::vector<std::string>{kSecond}));
    EXPECT_FALSE(walk(std::string("history/a/b/c/leaf.txt/") + kFirst, nobody));
    EXPECT_TRUE(walk(std::string("history/a/b/c/leaf.txt/") + kSecond, nobody));
    EXPECT_TRUE(walk(std::string("history/a/b/c/leaf.txt/") + kFirst, Caller::root()));
}

TEST_F(HistoryAccessTest, AUnionListsOnlyNamesOfDirectoriesTheCallerCouldList) {
    BlobId d1 = repo.add_tree(
        {file_entry(repo, "common.txt", "c"), file_entry(repo, "hidden-name.txt", "h")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("d", d1), 0, 0, 0700)}), t1);
    BlobId d2 = repo.add_tree({file_entry(repo, "common.txt", "c2")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("d", d2), 0, 0, 0755)}), t1 + 1);
    // A third snapshot where d may be searched but not read: its names are not listed either.
    BlobId d3 = repo.add_tree({file_entry(repo, "search-only.txt", "s")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("d", d3), 0, 0, 0711)}), t1 + 2);
    mount();
    EXPECT_EQ(names("history/d", nobody), (std::vector<std::string>{"common.txt"}));
    EXPECT_EQ(names("history/d", Caller::root()),
              (std::vector<std::string>{"common.txt", "hidden-name.txt", "search-only.txt"}));
    EXPECT_EQ(refusal("history/d/hidden-name.txt", nobody), ENOENT);
    // A name it could have looked up (x, not r) it may still look up, as in the snapshot.
    EXPECT_TRUE(walk("history/d/search-only.txt", nobody));
    EXPECT_EQ(names("history/d/common.txt", nobody), (std::vector<std::string>{kSecond}));
}

TEST_F(HistoryAccessTest, AnAclOnAnAncestorGrantsAndItsMaskTakesAway) {
    auto acl = [](std::uint16_t user_perm, std::uint16_t mask) {
        std::string out;
        auto put = [&out](std::uint32_t v, int bytes) {
            for (int i = 0; i < bytes; ++i) out += static_cast<char>(v >> (8 * i));
        };
        put(2, 4);
        for (auto [tag, perm, id] : {std::array<std::uint32_t, 3>{0x01, 7, ~0u},
                                     {0x02, user_perm, 65534},
                                     {0x04, 0, ~0u},
                                     {0x10, mask, ~0u},
                                     {0x20, 0, ~0u}}) {
            put(tag, 2);
            put(perm, 2);
            put(id, 4);
        }
        return out;
    };
    auto snap = [&](const std::string& content, std::uint16_t mask, std::int64_t when) {
        TreeEntry d = owned(dir_entry("acl", repo.add_tree({file_entry(repo, "f", content)})), 0, 0,
                            0700 | (mask << 3));
        d.xattrs = {{"system.posix_acl_access", acl(5, mask)}};
        repo.add_snapshot(repo.add_tree({d}), when);
    };
    snap("granted", 5, t1);     // u:65534:r-x, mask r-x
    snap("masked", 4, t1 + 1);  // u:65534:r-x, mask r--
    mount();
    EXPECT_EQ(names("history/acl/f", nobody), (std::vector<std::string>{kFirst}));
    EXPECT_EQ(names("history/acl", nobody), (std::vector<std::string>{"f"}));
    EXPECT_FALSE(walk(std::string("history/acl/f/") + kSecond, nobody));
    EXPECT_EQ(names("history/acl/f", user(1000, 1000)), std::vector<std::string>{});
}

TEST_F(HistoryAccessTest, SnapshotsAreLeftToTheKernel) {
    BlobId p1 = repo.add_tree({file_entry(repo, "inner.txt", "x")});
    repo.add_snapshot(repo.add_tree({owned(dir_entry("private", p1), 0, 0, 0700)}), t1);
    mount();
    // The kernel checks the stored 0700 there itself; the layout answers as it always did.
    EXPECT_TRUE(walk(std::string("snapshots/") + kFirst + "/private/inner.txt", nobody));
    EXPECT_GT(layout->entry_timeout(*walk(std::string("snapshots/") + kFirst, nobody)), 0);
}

}  // namespace
}  // namespace strata::fs
