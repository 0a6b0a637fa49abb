// A repository is input too. Snapshots crafted with the store API hold tree entries named "..",
// ".", "", "a/b" (at the root and deeper down); restore, ls and cat must refuse them with a message
// and restore must write nothing outside its target.
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "store/blob_writer.h"
#include "store/repository.h"
#include "store/snapshot.h"
#include "store/tree.h"
#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

TreeEntry file_entry(const std::string& name, const BlobId& data, std::uint32_t size) {
    TreeEntry e;
    e.name = name;
    e.type = EntryType::File;
    e.mode = 0644;
    e.size = size;
    e.mtime_sec = 1600000000;
    e.chunks = {{0, data, size}};
    return e;
}

TreeEntry dir_entry(const std::string& name, const BlobId& subtree) {
    TreeEntry e;
    e.name = name;
    e.type = EntryType::Dir;
    e.mode = 0755;
    e.mtime_sec = 1600000000;
    e.subtree = subtree;
    return e;
}

class CraftedRepository : public ::testing::Test {
protected:
    void SetUp() override {
        Repository::init(repo(), default_init_options());
        repo_ = Repository::open(repo());
        lock_ = repo_->lock_for_writing("crafting");
        writer_ = std::make_unique<BlobWriter>(*repo_, 1);
        const std::string evil = "written outside the target\n";
        evil_ = writer_->put(Bytes(evil.begin(), evil.end()), format::BlobType::Data);
        evil_size_ = static_cast<std::uint32_t>(evil.size());
    }

    BlobId tree(const std::vector<TreeEntry>& entries) {
        // encode_tree does not validate names: exactly what a hostile writer could store.
        return writer_->put(encode_tree(entries), format::BlobType::Tree);
    }

    // Saves a snapshot whose root tree is `root`; returns its id.
    std::string snapshot(const BlobId& root, const std::string& note) {
        writer_->flush();
        SnapshotRecord rec;
        rec.time_sec = 1600000000 + static_cast<std::int64_t>(++count_);
        rec.host = "crafted";
        rec.paths = {"/crafted"};
        rec.note = note;
        rec.root = root;
        rec.root_meta = dir_entry("", root);
        return repo_->save_snapshot(rec).hex();
    }

    // Restores `id` into <fresh parent>/target, expects a refusal, and checks that nothing exists
    // in the parent but the target, and nothing in the target but `allowed` (relative paths).
    void expect_refused_and_contained(const std::string& id, const std::set<std::string>& allowed,
                                      const std::string& what) {
        SCOPED_TRACE(what);
        const std::string parent = dir_ / ("restore-" + std::to_string(++count_));
        ASSERT_EQ(::mkdir(parent.c_str(), 0755), 0);
        const std::string target = parent + "/target";
        RunResult r = run_strata({"restore", repo(), id, target});
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_NE(r.err.find("invalid entry name"), std::string::npos) << r.err;
        for (const auto& [path, e] : scan_tree(parent)) {
            if (path.empty() || path == "target") continue;
            const std::string inside = path.rfind("target/", 0) == 0 ? path.substr(7) : "";
            EXPECT_TRUE(!inside.empty() && allowed.count(inside)) << "restore wrote " << printable_path(path);
        }
        // Nothing escaped anywhere in the test directory either.
        for (const auto& [path, e] : scan_tree(dir_.path()))
            if (path.rfind("repo", 0) != 0) {
                EXPECT_NE(e.sha256, sha256_of_evil()) << "evil content found at " << printable_path(path);
            }
        RunResult ls = run_strata({"ls", "-R", repo(), id});
        EXPECT_EQ(ls.exit_code, 1) << describe(ls);
        EXPECT_NE(ls.err.find("invalid entry name"), std::string::npos) << ls.err;
    }

    std::string sha256_of_evil() {
        static std::string digest;
        if (digest.empty()) {
            write_file(dir_ / "evil-reference", "written outside the target\n");
            digest = scan_tree(dir_.path()).at("evil-reference").sha256;
            ::unlink((dir_ / "evil-reference").c_str());
        }
        return digest;
    }

    std::string repo() const { return dir_ / "repo"; }

    TempDir dir_;
    std::unique_ptr<Repository> repo_;
    std::unique_ptr<WriterLock> lock_;
    std::unique_ptr<BlobWriter> writer_;
    BlobId evil_;
    std::uint32_t evil_size_ = 0;
    int count_ = 0;
};

TEST_F(CraftedRepository, BadNamesAtTheRootAreRefused) {
    std::vector<std::pair<std::string, std::string>> cases;  // id, description
    for (const std::string& bad :
         std::vector<std::string>{"..", ".", "", "a/b", "../../escaped", std::string("nul\0byte", 8)})
        cases.push_back({snapshot(tree({file_entry(bad, evil_, evil_size_)}), "file " + bad),
                         "file named \"" + printable_path(bad) + "\""});
    // A directory named ".." would make a restore that trusts names write into the target's parent.
    BlobId inner = tree({file_entry("escaped.txt", evil_, evil_size_)});
    cases.push_back({snapshot(tree({dir_entry("..", inner)}), "dir .."), "directory named \"..\""});
    TreeEntry link;
    link.name = "x/y";
    link.type = EntryType::Symlink;
    link.mode = 0777;
    link.target = "/etc/passwd";
    link.size = link.target.size();
    cases.push_back({snapshot(tree({link}), "symlink x/y"), "symlink named \"x/y\""});

    for (const auto& [id, what] : cases) {
        // Decoding the root tree itself refuses the name.
        auto snaps = repo_->snapshots();
        const Snapshot& s = resolve_snapshot(snaps, id);
        EXPECT_THROW(repo_->load_tree(s.rec.root), StoreError) << what;
        expect_refused_and_contained(id, {}, what);
    }
}

TEST_F(CraftedRepository, BadNamesDeeperDownAreRefused) {
    BlobId escape = tree({file_entry("escaped.txt", evil_, evil_size_)});
    BlobId bad_level = tree({dir_entry("..", escape)});
    BlobId ok_level = tree({dir_entry("ok", bad_level)});
    std::string id = snapshot(ok_level, "nested ..");
    // The directory "ok" may have been created before its bad child was found; nothing else.
    expect_refused_and_contained(id, {"ok"}, "\"..\" below ok/");

    BlobId slash = tree({file_entry("a/b", evil_, evil_size_)});
    id = snapshot(tree({dir_entry("ok", slash)}), "nested a/b");
    expect_refused_and_contained(id, {"ok"}, "\"a/b\" below ok/");

    RunResult cat = run_strata({"cat", repo(), id, "ok/a/b"});
    EXPECT_NE(cat.exit_code, 0) << describe(cat);
    EXPECT_EQ(cat.out, "");
}

TEST_F(CraftedRepository, UnsortedOrDuplicateEntriesAreRefused) {
    std::string id = snapshot(tree({file_entry("b", evil_, evil_size_), file_entry("a", evil_, evil_size_)}),
                              "unsorted");
    RunResult r = run_strata({"restore", repo(), id, dir_ / "t1"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("not sorted"), std::string::npos) << r.err;
    id = snapshot(tree({file_entry("a", evil_, evil_size_), file_entry("a", evil_, evil_size_)}), "duplicate");
    r = run_strata({"restore", repo(), id, dir_ / "t2"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
}

// A hostile *target* is not followed either: with --overwrite, a symlink where the snapshot has a
// directory is replaced, not written through.
TEST_F(CraftedRepository, OverwriteDoesNotFollowSymlinksInTheTarget) {
    BlobId inner = tree({file_entry("f", evil_, evil_size_)});
    std::string id = snapshot(tree({dir_entry("sub", inner), file_entry("top", evil_, evil_size_)}), "normal");
    const std::string outside = dir_ / "outside", target = dir_ / "target";
    ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
    ASSERT_EQ(::symlink(outside.c_str(), (target + "/sub").c_str()), 0);
    write_file(outside + "/victim", "keep\n");
    ASSERT_EQ(::symlink((outside + "/victim").c_str(), (target + "/top").c_str()), 0);
    RunResult r = run_strata({"restore", repo(), id, target, "--overwrite"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    TreeScan out = scan_tree(outside);
    EXPECT_EQ(out.size(), 2u) << "restore wrote through a symlink into " << outside;
    EXPECT_EQ(read_file(outside + "/victim"), "keep\n");
    TreeScan t = scan_tree(target);
    EXPECT_EQ(t.at("sub").type, static_cast<unsigned>(S_IFDIR));
    EXPECT_EQ(t.at("top").type, static_cast<unsigned>(S_IFREG));
    EXPECT_EQ(read_file(target + "/sub/f"), "written outside the target\n");
}

}  // namespace
}  // namespace strata::testing
