// store/browse: the tree differ walks only subtrees whose ids differ, and the finder loads each
// distinct subtree once however many snapshots share it. Both counted through a RepositoryReader
// that counts the trees it loads.
#include <gtest/gtest.h>

#include <map>

#include "store/browse/snapshot_finder.h"
#include "store/browse/tree_diff.h"
#include "tests/store/repo_fixture.h"

namespace strata {
namespace {

using testing::TestRepo;

class CountingReader : public RepositoryReader {
  public:
    explicit CountingReader(RepositoryReader& inner) : inner_(inner) {}
    std::vector<Snapshot> snapshots() override { return inner_.snapshots(); }
    std::uint64_t snapshot_generation() override { return inner_.snapshot_generation(); }
    std::vector<TreeEntry> load_tree(const BlobId& id) override {
        loads++;
        return inner_.load_tree(id);
    }
    Bytes load_data(const BlobId& id) override { return inner_.load_data(id); }

    std::uint64_t loads = 0;

  private:
    RepositoryReader& inner_;
};

// kDirs directories of kFiles files each, and one deep path d0/deep/er/file.bin.
constexpr int kDirs = 30, kFiles = 10;

void make_wide_tree(TestRepo& t) {
    for (int d = 0; d < kDirs; d++) {
        t.mkdir("d" + std::to_string(d));
        for (int f = 0; f < kFiles; f++)
            t.write("d" + std::to_string(d) + "/f" + std::to_string(f), 100, d * 100 + f);
    }
    t.mkdir("d0/deep");
    t.mkdir("d0/deep/er");
    t.write("d0/deep/er/file.bin", 1000, 7);
}

std::vector<TreeChange> diff(RepositoryReader& r, const Snapshot& a, const Snapshot& b,
                             std::vector<std::string>* paths = nullptr) {
    std::vector<TreeChange> out;
    TreeEntry ra = snapshot_root_entry(a), rb = snapshot_root_entry(b);
    diff_entries(r, &ra, &rb, "", [&](const TreeChange& c) {
        out.push_back(c);
        out.back().before = out.back().after = nullptr;  // not kept beyond the call
        if (paths) paths->push_back(c.path);
    });
    return out;
}

TEST(TreeDiff, LoadsOnlyTheTreesOnThePathToAChange) {
    TestRepo t;
    make_wide_tree(t);
    Snapshot a = t.ingest_src();
    t.write("d0/deep/er/file.bin", 1001, 8);  // a new size too: ingest cannot take it as unchanged
    Snapshot b = t.ingest_src();

    CountingReader counting(*t.repo);
    std::vector<std::string> paths;
    auto changes = diff(counting, a, b, &paths);
    ASSERT_EQ(changes.size(), 1u) << ::testing::PrintToString(paths);
    EXPECT_EQ(changes[0].kind, ChangeKind::Modified);
    EXPECT_EQ(changes[0].path, "d0/deep/er/file.bin");
    EXPECT_TRUE(changes[0].fields & kContentChanged);
    // Root, d0, deep and er, on each side: none of the other 29 directories.
    EXPECT_EQ(counting.loads, 8u);

    counting.loads = 0;
    EXPECT_TRUE(diff(counting, b, b).empty());
    EXPECT_EQ(counting.loads, 0u);  // equal roots: nothing loaded at all
}

TEST(TreeDiff, AddedAndRemovedDirectoriesListWhatTheyHold) {
    TestRepo t;
    make_wide_tree(t);
    Snapshot a = t.ingest_src();
    t.mkdir("fresh");
    t.write("fresh/one", 500, 1);
    t.write("fresh/two", 700, 2);
    for (int f = 0; f < kFiles; f++) t.remove("d5/f" + std::to_string(f));
    ::rmdir((t.src + "/d5").c_str());
    Snapshot b = t.ingest_src();

    std::map<std::string, ChangeKind> kinds;
    std::uint64_t added = 0, removed = 0;
    for (const auto& c : diff(*t.repo, a, b)) {
        kinds[c.path] = c.kind;
        added += c.bytes_added;
        removed += c.bytes_removed;
    }
    EXPECT_EQ(kinds.at("fresh"), ChangeKind::Added);
    EXPECT_EQ(kinds.at("fresh/one"), ChangeKind::Added);
    EXPECT_EQ(kinds.at("fresh/two"), ChangeKind::Added);
    EXPECT_EQ(kinds.at("d5"), ChangeKind::Removed);
    for (int f = 0; f < kFiles; f++)
        EXPECT_EQ(kinds.at("d5/f" + std::to_string(f)), ChangeKind::Removed);
    EXPECT_EQ(added, 1200u);
    EXPECT_EQ(removed, 100u * kFiles);
}

TEST(TreeDiff, ChangedFieldsNameWhatDiffers) {
    TreeEntry a;
    a.type = EntryType::File;
    a.mode = 0644;
    a.size = 10;
    a.chunks = {{0, sha256(as_bytes(std::string("x"))), 10}};
    TreeEntry b = a;
    EXPECT_EQ(changed_fields(a, b), 0u);
    b.chunks[0].id = sha256(as_bytes(std::string("y")));  // same size, other content
    EXPECT_EQ(changed_fields(a, b), static_cast<std::uint32_t>(kContentChanged));
    b = a;
    b.mode = 0600;
    b.mtime_sec = 5;
    EXPECT_EQ(changed_fields(a, b), static_cast<std::uint32_t>(kModeChanged | kMtimeChanged));
    b = a;
    b.user = "other";
    b.xattrs = {{"user.k", "v"}};
    EXPECT_EQ(changed_fields(a, b), static_cast<std::uint32_t>(kOwnerChanged | kXattrsChanged));
    b = a;
    b.inode = 99;  // the source's identity is not the entry's
    b.ctime_sec = 99;
    EXPECT_EQ(changed_fields(a, b), 0u);

    TreeEntry l;
    l.type = EntryType::Symlink;
    l.target = "a";
    TreeEntry m = l;
    m.target = "b";
    EXPECT_EQ(changed_fields(l, m), static_cast<std::uint32_t>(kContentChanged));
}

TEST(SnapshotFinder, LoadsEachDistinctSubtreeOnce) {
    TestRepo t;
    make_wide_tree(t);
    constexpr int kSnapshots = 5;
    std::vector<Snapshot> snaps;
    for (int i = 0; i < kSnapshots; i++) {
        if (i) t.write("d0/deep/er/file.bin", 1000 + i, 10 + i);
        snaps.push_back(t.ingest_src());
    }
    CountingReader counting(*t.repo);
    GlobMatcher matcher("*.bin");
    SnapshotFinder finder(counting, matcher);
    for (int i = 0; i < kSnapshots; i++) finder.add(i, snapshot_root_entry(snaps[i]), "");
    // The first snapshot's kDirs directories, deep, er and the root; of each later one only
    // the root, d0, deep and er are new (a walk of every snapshot would load 5 × 33).
    const std::uint64_t first = kDirs + 2 + 1;
    EXPECT_EQ(finder.trees_loaded(), first + (kSnapshots - 1) * 4u);
    EXPECT_EQ(counting.loads, finder.trees_loaded());
    ASSERT_EQ(finder.versions().size(), static_cast<std::size_t>(kSnapshots));
    for (int i = 0; i < kSnapshots; i++) {
        EXPECT_EQ(finder.versions()[i].path, "d0/deep/er/file.bin");
        EXPECT_EQ(finder.versions()[i].snapshots, std::vector<std::size_t>{std::size_t(i)});
    }

    // An unchanged file is one version held by every snapshot. Its pattern names the path, so
    // only the directories on it are read: the 5 roots and d7 once.
    CountingReader again(*t.repo);
    GlobMatcher f3("d7/f3");
    SnapshotFinder unchanged(again, f3);
    for (int i = 0; i < kSnapshots; i++) unchanged.add(i, snapshot_root_entry(snaps[i]), "");
    ASSERT_EQ(unchanged.versions().size(), 1u);
    EXPECT_EQ(unchanged.versions()[0].snapshots.size(), static_cast<std::size_t>(kSnapshots));
    EXPECT_EQ(again.loads, kSnapshots + 1u);
}

TEST(GlobPattern, ErrorsAndMatching) {
    EXPECT_EQ(glob_pattern_error("*.odt"), "");
    EXPECT_EQ(glob_pattern_error("[]x]*"), "");
    EXPECT_EQ(glob_pattern_error("a\\*"), "");
    EXPECT_NE(glob_pattern_error(""), "");
    EXPECT_NE(glob_pattern_error("[ab"), "");
    EXPECT_NE(glob_pattern_error("ab\\"), "");
    EXPECT_NE(glob_pattern_error("docs/"), "");

    GlobMatcher base("*.odt");
    EXPECT_TRUE(base.matches("docs/deep/r.odt", "r.odt"));
    EXPECT_FALSE(base.matches("r.odt/x", "x"));
    GlobMatcher path("docs/*.odt");
    EXPECT_TRUE(path.matches("docs/r.odt", "r.odt"));
    EXPECT_FALSE(path.matches("docs/deep/r.odt", "r.odt"));  // '*' stops at '/'
    EXPECT_FALSE(path.matches("other/docs/r.odt", "r.odt"));
    GlobMatcher rooted("/docs/*");
    EXPECT_TRUE(rooted.matches("docs/r.odt", "r.odt"));

    // What a walk may skip: directories off the pattern's path, and as deep as it or deeper.
    GlobMatcher deep("d*/x/*.odt");
    EXPECT_TRUE(deep.may_match_below(""));
    EXPECT_TRUE(deep.may_match_below("docs"));
    EXPECT_FALSE(deep.may_match_below("other"));
    EXPECT_TRUE(deep.may_match_below("docs/x"));
    EXPECT_FALSE(deep.may_match_below("docs/y"));
    EXPECT_FALSE(deep.may_match_below("docs/x/z"));
    EXPECT_TRUE(base.may_match_below("any/where/at/all"));
    GlobMatcher bracket("[dx]*/a");  // not split into components: pruned by depth only
    EXPECT_TRUE(bracket.may_match_below("other"));
    EXPECT_FALSE(bracket.may_match_below("docs/x"));
}

}  // namespace
}  // namespace strata
