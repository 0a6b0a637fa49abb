// The mounted tree without a kernel: MountLayout over an in-memory repository.
#include "fs/layout.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <set>

#include "tests/fs/fake_repository.h"

namespace strata::fs {
namespace {

using testing::dir_entry;
using testing::FakeRepository;
using testing::file_entry;
using testing::symlink_entry;

constexpr std::int64_t kDay = 86400;

std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

const std::int64_t t1 = utc(2026, 11, 1, 10);

// Follows `path` from the root, remembering every node as the kernel's lookups would.
NodePtr walk(MountLayout& layout, const std::string& path) {
    NodePtr cur = layout.root();
    std::size_t pos = 0;
    while (pos < path.size()) {
        std::size_t slash = path.find('/', pos);
        std::string part =
            path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        pos = slash == std::string::npos ? path.size() : slash + 1;
        auto child = layout.find_child(cur, part);
        if (!child) return nullptr;
        cur = layout.remember(std::move(child->node));
    }
    return cur;
}

std::vector<std::string> names(MountLayout& layout, const NodePtr& dir) {
    auto listing = layout.list(dir);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < listing.size(); ++i)
        if (auto c = layout.child_at(dir, listing, i)) out.push_back(c->node.name);
    return out;
}

struct stat stat_of(MountLayout& layout, const NodePtr& n) {
    return MountLayout::stat_of(*n, layout.attributes(*n));
}

std::string read_all(FakeRepository& repo, MountLayout& layout, const Node& node) {
    FileContent c = layout.content(node);
    std::string out;
    for (const auto& p : c.plan_read(0, c.size())) {
        if (p.chunk == FileContent::kHole) {
            out.append(p.length, '\0');
        } else {
            Bytes b = repo.load_data(c.chunks()[p.chunk].id);
            out.append(reinterpret_cast<const char*>(b.data()) + p.offset_in_chunk, p.length);
        }
    }
    return out;
}

class LayoutTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // Snapshot 1 (host web1, tag daily).
        TreeEntry hard1 = file_entry(repo, "hard1", "linked content");
        hard1.link_group = 1;
        hard1.nlink = 2;
        TreeEntry hard2 = hard1;
        hard2.name = "hard2";
        TreeEntry sparse;
        sparse.name = "sparse";
        sparse.type = EntryType::File;
        sparse.mode = 0600;
        sparse.size = 1 << 20;
        sparse.chunks.push_back({4096, repo.add_data(std::string(1000, 'S')), 1000});
        TreeEntry dev;
        dev.name = "dev";
        dev.type = EntryType::CharDev;
        dev.mode = 0660;
        dev.rdev = 0x0501;
        TreeEntry attrs = file_entry(repo, "attrs", "x");
        attrs.xattrs = {{"system.posix_acl_access", std::string("\x02\0\0\0", 4)},
                        {"user.color", "blue"}};
        docs1 = repo.add_tree({file_entry(repo, "report.txt", "version one"),
                               file_entry(repo, "notes.txt", "notes")});
        TreeEntry docs = dir_entry("docs", docs1, 0750);
        docs.uid = 1000;
        root1 = repo.add_tree(
            {docs, symlink_entry("link", "docs/report.txt"), hard1, hard2, sparse, dev, attrs});
        s1 = repo.add_snapshot(root1, t1, "web1", {"daily"}, 250);
        // Snapshot 2, a day later: the report changes, a file is added.
        BlobId docs2 = repo.add_tree({file_entry(repo, "report.txt", "version two"),
                                      file_entry(repo, "notes.txt", "notes"),
                                      file_entry(repo, "new.txt", "new")});
        BlobId root2 = repo.add_tree(
            {dir_entry("docs", docs2, 0750), symlink_entry("link", "docs/report.txt")});
        s2 = repo.add_snapshot(root2, t1 + kDay, "web1");
        // Snapshot 3, another day later, host db: the report is back to version one; link is a dir.
        TreeEntry report3 = file_entry(repo, "report.txt", "version one");
        report3.mode = 0600;  // metadata changes alone make no new version
        BlobId docs3 = repo.add_tree({report3});
        BlobId inner = repo.add_tree({file_entry(repo, "inner", "i")});
        BlobId root3 = repo.add_tree({dir_entry("docs", docs3, 0700), dir_entry("link", inner)});
        s3 = repo.add_snapshot(root3, t1 + 2 * kDay, "db", {"daily", "weekly"});
    }

    FakeRepository repo;
    BlobId docs1, root1;
    Snapshot s1, s2, s3;
    LayoutOptions options{4242, 4343, kDefaultTreeCacheBytes};
};

TEST_F(LayoutTest, RootHoldsTheTopDirectories) {
    MountLayout layout(repo, options);
    EXPECT_EQ(names(layout, layout.root()),
              (std::vector<std::string>{"snapshots", "ids", "hosts", "tags", "at", "history"}));
    NodePtr snaps = walk(layout, "snapshots");
    ASSERT_TRUE(snaps);
    struct stat st = stat_of(layout, snaps);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_uid, 4242u);
    EXPECT_EQ(st.st_gid, 4343u);
    EXPECT_FALSE(walk(layout, "nothing"));
    EXPECT_EQ(stat_of(layout, layout.root()).st_ino, kRootInode);
}

TEST_F(LayoutTest, SnapshotsAreNamedByTimeWithLatest) {
    MountLayout layout(repo, options);
    NodePtr snaps = walk(layout, "snapshots");
    EXPECT_EQ(names(layout, snaps),
              (std::vector<std::string>{"2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z",
                                        "2026-11-03T10:00:00Z", "latest"}));
    NodePtr latest = walk(layout, "snapshots/latest");
    ASSERT_TRUE(latest);
    EXPECT_TRUE(S_ISLNK(stat_of(layout, latest).st_mode));
    EXPECT_EQ(layout.link_target(*latest), "2026-11-03T10:00:00Z");
    NodePtr root = walk(layout, "snapshots/2026-11-01T10:00:00Z");
    ASSERT_TRUE(root);
    EXPECT_EQ(names(layout, root), (std::vector<std::string>{"attrs", "dev", "docs", "hard1",
                                                             "hard2", "link", "sparse"}));
    EXPECT_EQ(MountLayout::path_of(*walk(layout, "snapshots/2026-11-01T10:00:00Z/docs/notes.txt")),
              "snapshots/2026-11-01T10:00:00Z/docs/notes.txt");
}

TEST_F(LayoutTest, StoredEntriesKeepTheirMetadata) {
    MountLayout layout(repo, options);
    const std::string base = "snapshots/2026-11-01T10:00:00Z/";
    struct stat report = stat_of(layout, walk(layout, base + "docs/report.txt"));
    EXPECT_EQ(report.st_mode, S_IFREG | 0644u);
    EXPECT_EQ(report.st_uid, 1000u);
    EXPECT_EQ(report.st_gid, 100u);
    EXPECT_EQ(report.st_size, 11);
    EXPECT_EQ(report.st_mtim.tv_sec, 1700000000);
    EXPECT_EQ(report.st_mtim.tv_nsec, 123456789);
    EXPECT_EQ(report.st_blocks, 8);  // one 4 KiB block, as a restore allocates it
    struct stat docs = stat_of(layout, walk(layout, base + "docs"));
    EXPECT_EQ(docs.st_mode, S_IFDIR | 0750u);
    EXPECT_EQ(docs.st_size, 4096);
    EXPECT_EQ(docs.st_blocks, 8);
    struct stat sparse = stat_of(layout, walk(layout, base + "sparse"));
    EXPECT_EQ(sparse.st_size, 1 << 20);
    EXPECT_EQ(sparse.st_blocks, 8);  // 1000 stored bytes in one block, not 1 MiB
    struct stat dev = stat_of(layout, walk(layout, base + "dev"));
    EXPECT_TRUE(S_ISCHR(dev.st_mode));
    EXPECT_EQ(dev.st_rdev, 0x0501u);
    NodePtr link = walk(layout, base + "link");
    EXPECT_TRUE(S_ISLNK(stat_of(layout, link).st_mode));
    EXPECT_EQ(layout.link_target(*link), "docs/report.txt");
    EXPECT_EQ(stat_of(layout, link).st_size, 15);
    EXPECT_EQ(stat_of(layout, link).st_blocks, 0);  // a short target lives in the inode
    NodePtr attrs = walk(layout, base + "attrs");
    ASSERT_EQ(layout.xattrs(*attrs).size(), 2u);
    EXPECT_EQ(layout.xattrs(*attrs)[1].name, "user.color");
    EXPECT_EQ(layout.xattrs(*attrs)[1].value, "blue");
    EXPECT_TRUE(layout.xattrs(*walk(layout, "snapshots")).empty());
    EXPECT_EQ(read_all(repo, layout, *walk(layout, base + "docs/report.txt")), "version one");
    std::string sparse_bytes = read_all(repo, layout, *walk(layout, base + "sparse"));
    EXPECT_EQ(sparse_bytes.size(), 1u << 20);
    EXPECT_EQ(sparse_bytes.substr(4096, 1000), std::string(1000, 'S'));
    EXPECT_EQ(sparse_bytes.find_first_not_of('\0', 5096), std::string::npos);
    EXPECT_THROW(layout.content(*walk(layout, base + "docs")), FsError);
    EXPECT_THROW(layout.find_child(walk(layout, base + "docs/notes.txt"), "x"), FsError);
}

TEST_F(LayoutTest, InodeNumbersComeFromWhatANodeIs) {
    std::uint64_t report_ino, hard1_ino, docs_ino;
    const std::string base = "snapshots/2026-11-01T10:00:00Z/";
    {
        MountLayout layout(repo, options);
        report_ino = walk(layout, base + "docs/report.txt")->ino;
        hard1_ino = walk(layout, base + "hard1")->ino;
        docs_ino = walk(layout, base + "docs")->ino;
        EXPECT_EQ(walk(layout, base + "hard2")->ino, hard1_ino);  // hard links share one inode
        EXPECT_NE(walk(layout, "snapshots/2026-11-02T10:00:00Z/docs/notes.txt")->ino,
                  walk(layout, base + "docs/notes.txt")->ino);  // same content, other snapshot
    }
    // Another mount, visiting in another order, numbers them the same.
    MountLayout again(repo, options);
    EXPECT_EQ(walk(again, base + "hard2")->ino, hard1_ino);
    EXPECT_EQ(walk(again, base + "docs/report.txt")->ino, report_ino);
    EXPECT_EQ(walk(again, base + "docs")->ino, docs_ino);
    std::set<std::uint64_t> seen;
    for (const auto& n : names(again, walk(again, "snapshots/2026-11-01T10:00:00Z")))
        seen.insert(walk(again, base + n)->ino);
    EXPECT_EQ(seen.size(), 6u);  // seven names, two of them one inode
}

TEST_F(LayoutTest, ListingsAgreeWithLookups) {
    MountLayout layout(repo, options);
    for (const std::string dir :
         {"", "snapshots", "ids", "hosts", "hosts/web1", "tags", "tags/daily", "history",
          "history/docs", "snapshots/2026-11-02T10:00:00Z/docs"}) {
        NodePtr d = dir.empty() ? layout.root() : walk(layout, dir);
        ASSERT_TRUE(d) << dir;
        auto listing = layout.list(d);
        for (std::size_t i = 0; i < listing.size(); ++i) {
            auto listed = layout.child_at(d, listing, i);
            ASSERT_TRUE(listed) << dir;
            auto looked_up = layout.find_child(d, listed->node.name);
            ASSERT_TRUE(looked_up) << dir << "/" << listed->node.name;
            EXPECT_EQ(looked_up->node.key, listed->node.key) << dir << "/" << listed->node.name;
            EXPECT_EQ(looked_up->attr.mode, listed->attr.mode);
            EXPECT_EQ(looked_up->attr.mtime_sec, listed->attr.mtime_sec);
            const std::uint64_t number = layout.number_of(listed->node);
            NodePtr remembered = layout.remember(std::move(looked_up->node));
            EXPECT_EQ(number, remembered->ino);
            // What a later getattr says matches what the listing said.
            EXPECT_EQ(layout.attributes(*remembered).mode, listed->attr.mode);
            EXPECT_EQ(layout.attributes(*remembered).size, listed->attr.size);
        }
    }
}

TEST_F(LayoutTest, IdsHostsAndTagsLinkIntoSnapshots) {
    MountLayout layout(repo, options);
    auto ids = names(layout, walk(layout, "ids"));
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids[0], s1.id.short_hex());
    EXPECT_EQ(layout.link_target(*walk(layout, "ids/" + ids[0])),
              "../snapshots/2026-11-01T10:00:00Z");
    EXPECT_EQ(layout.link_target(*walk(layout, "ids/" + s2.id.hex())),
              "../snapshots/2026-11-02T10:00:00Z");
    EXPECT_FALSE(walk(layout, "ids/zzzz"));
    EXPECT_EQ(names(layout, walk(layout, "hosts")), (std::vector<std::string>{"db", "web1"}));
    EXPECT_EQ(names(layout, walk(layout, "hosts/web1")),
              (std::vector<std::string>{"2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z"}));
    EXPECT_EQ(layout.link_target(*walk(layout, "hosts/db/2026-11-03T10:00:00Z")),
              "../../snapshots/2026-11-03T10:00:00Z");
    EXPECT_FALSE(walk(layout, "hosts/db/2026-11-01T10:00:00Z"));
    EXPECT_EQ(names(layout, walk(layout, "tags")), (std::vector<std::string>{"daily", "weekly"}));
    EXPECT_EQ(names(layout, walk(layout, "tags/daily")).size(), 2u);
}

TEST_F(LayoutTest, AtFindsTheNewestSnapshotAtOrBefore) {
    MountLayout layout(repo, options);
    EXPECT_TRUE(names(layout, walk(layout, "at")).empty());
    auto at = [&](const std::string& when) -> std::string {
        NodePtr n = walk(layout, "at/" + when);
        return n ? layout.link_target(*n) : "none";
    };
    EXPECT_EQ(at("2026-11-01"), "none");
    EXPECT_EQ(at("2026-11-01T09:59:59Z"), "none");
    EXPECT_EQ(at("2026-11-01T10:00"),
              "../snapshots/2026-11-01T10:00:00Z");  // includes its fraction
    EXPECT_EQ(at("2026-11-01T10:00:00Z"), "../snapshots/2026-11-01T10:00:00Z");
    EXPECT_EQ(at("2026-11-02"), "../snapshots/2026-11-01T10:00:00Z");
    EXPECT_EQ(at("2026-11-02T12"), "../snapshots/2026-11-02T10:00:00Z");
    EXPECT_EQ(at("2030-01-01"), "../snapshots/2026-11-03T10:00:00Z");
    EXPECT_EQ(at("yesterday"), "none");
}

TEST_F(LayoutTest, HistoryOfAFileListsEachDistinctContentOnce) {
    MountLayout layout(repo, options);
    NodePtr h = walk(layout, "history/docs/report.txt");
    ASSERT_TRUE(h);
    EXPECT_TRUE(S_ISDIR(stat_of(layout, h).st_mode));
    // Version one (first seen in 1, again in 3) and version two (2).
    EXPECT_EQ(names(layout, h),
              (std::vector<std::string>{"2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z"}));
    NodePtr v1 = walk(layout, "history/docs/report.txt/2026-11-01T10:00:00Z");
    NodePtr v2 = walk(layout, "history/docs/report.txt/2026-11-02T10:00:00Z");
    ASSERT_TRUE(v1 && v2);
    EXPECT_EQ(read_all(repo, layout, *v1), "version one");
    EXPECT_EQ(read_all(repo, layout, *v2), "version two");
    EXPECT_FALSE(walk(layout, "history/docs/report.txt/2026-11-03T10:00:00Z"));
    // A version is the very file of the snapshot that first has it: same inode.
    EXPECT_EQ(v1->ino, walk(layout, "snapshots/2026-11-01T10:00:00Z/docs/report.txt")->ino);
    EXPECT_EQ(MountLayout::path_of(*v2), "history/docs/report.txt/2026-11-02T10:00:00Z");
    // A file that appeared once.
    EXPECT_EQ(names(layout, walk(layout, "history/docs/new.txt")),
              (std::vector<std::string>{"2026-11-02T10:00:00Z"}));
}

TEST_F(LayoutTest, HistoryOfADirectoryIsTheUnionOfNames) {
    MountLayout layout(repo, options);
    EXPECT_EQ(
        names(layout, walk(layout, "history")),
        (std::vector<std::string>{"attrs", "dev", "docs", "hard1", "hard2", "link", "sparse"}));
    NodePtr docs = walk(layout, "history/docs");
    EXPECT_EQ(names(layout, docs),
              (std::vector<std::string>{"new.txt", "notes.txt", "report.txt"}));
    // Open to all, like the mount's own directories: the layout decides per caller what each
    // user sees in it (tests/fs/history_access_test.cpp), from each version's own snapshot.
    struct stat st = stat_of(layout, docs);
    EXPECT_EQ(st.st_mode, S_IFDIR | 0555u);
    EXPECT_EQ(st.st_uid, 4242u);
    // A path that was a symlink, then a directory: its versions and its children.
    EXPECT_EQ(names(layout, walk(layout, "history/link")),
              (std::vector<std::string>{"inner", "2026-11-01T10:00:00Z"}));
    EXPECT_EQ(layout.link_target(*walk(layout, "history/link/2026-11-01T10:00:00Z")),
              "docs/report.txt");
    EXPECT_FALSE(walk(layout, "history/never"));
    EXPECT_FALSE(walk(layout, "history/docs/report.txt/x"));
}

TEST_F(LayoutTest, RefreshShowsNewSnapshotsAndDropsForgottenOnes) {
    MountLayout layout(repo, options);
    EXPECT_FALSE(layout.refresh());
    NodePtr snaps = walk(layout, "snapshots");
    BlobId root4 = repo.add_tree({file_entry(repo, "fresh", "new data")});
    repo.add_snapshot(root4, t1 + 3 * kDay, "web1");
    EXPECT_EQ(names(layout, snaps).size(), 4u);  // not until the poll
    EXPECT_TRUE(layout.refresh());
    EXPECT_EQ(names(layout, snaps).size(), 5u);
    EXPECT_EQ(layout.link_target(*walk(layout, "snapshots/latest")), "2026-11-04T10:00:00Z");
    EXPECT_EQ(read_all(repo, layout, *walk(layout, "snapshots/2026-11-04T10:00:00Z/fresh")),
              "new data");
    EXPECT_EQ(names(layout, walk(layout, "history/fresh")),
              (std::vector<std::string>{"2026-11-04T10:00:00Z"}));
    // Forgetting: the name goes; a node the kernel still holds keeps working.
    NodePtr kept = walk(layout, "snapshots/2026-11-01T10:00:00Z/docs/report.txt");
    repo.forget_snapshot(s1.id);
    EXPECT_TRUE(layout.refresh());
    EXPECT_FALSE(walk(layout, "snapshots/2026-11-01T10:00:00Z"));
    EXPECT_EQ(names(layout, walk(layout, "history/docs/report.txt")),
              (std::vector<std::string>{"2026-11-02T10:00:00Z", "2026-11-03T10:00:00Z"}));
    EXPECT_EQ(read_all(repo, layout, *kept), "version one");
}

TEST_F(LayoutTest, ForgottenNodesLeaveTheTable) {
    MountLayout layout(repo, options);
    const std::size_t before = layout.inodes().size();
    NodePtr n = walk(layout, "snapshots/2026-11-01T10:00:00Z/docs/report.txt");
    EXPECT_EQ(layout.inodes().size(), before + 4);
    for (NodePtr cur = n; cur && cur->kind != NodeKind::Root; cur = cur->parent)
        layout.forget(cur->ino, 1);
    EXPECT_EQ(layout.inodes().size(), before);
    EXPECT_THROW(layout.node(n->ino), FsError);
}

TEST_F(LayoutTest, AMissingTreeIsDamageNotAbsence) {
    MountLayout layout(repo, options);
    NodePtr root = walk(layout, "snapshots/2026-11-01T10:00:00Z");
    NodePtr docs = walk(layout, "snapshots/2026-11-01T10:00:00Z/docs");
    repo.lose(docs1);
    try {
        layout.find_child(docs, "report.txt");
        ADD_FAILURE() << "no error";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << e.what();
    }
    repo.damage(root1);
    // The root's tree is cached from the first lookup; a fresh mount has to read it and fails.
    MountLayout fresh(repo, options);
    EXPECT_THROW(walk(fresh, "snapshots/2026-11-01T10:00:00Z/docs"), StoreError);
    EXPECT_TRUE(
        walk(fresh, "snapshots/2026-11-02T10:00:00Z/docs/new.txt"));  // the rest still serves
}

TEST_F(LayoutTest, MissingDataChunkIsDamage) {
    MountLayout layout(repo, options);
    FileContent c = layout.content(*walk(layout, "snapshots/2026-11-02T10:00:00Z/docs/new.txt"));
    repo.lose(c.chunks()[0].id);
    try {
        load_chunk(repo, c.chunks()[0].id);
        ADD_FAILURE() << "no error";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corruption) << e.what();
    }
}

}  // namespace
}  // namespace strata::fs
