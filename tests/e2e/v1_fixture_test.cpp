// A repository written by the previous version (tests/fixtures/v1-repo.tar.gz, made by
// tests/fixtures/make_v1_repo.sh with strata at commit 9f1c0ae): today's strata lists, reads,
// restores, verifies and mounts it without changing a byte of its packs or snapshot records, adds
// a snapshot to it and prunes it; and what it stored is what today's codecs write (trees and
// snapshot records re-encode to the same bytes, a fresh ingest of the same tree yields data
// blobs with the same ids).
#include <filesystem>
#include <map>
#include <set>

#include "store/format/format.h"
#include "store/format/object_names.h"
#include "store/format/pack.h"
#include "store/format/snapshot.h"
#include "store/format/tree.h"
#include "store/repo/repository.h"
#include "tests/e2e/e2e_support.h"
#include "tests/testlib/mount_support.h"

namespace strata::testing {
namespace {

namespace stdfs = std::filesystem;

const std::string kFixtureDir = std::string(STRATA_SOURCE_DIR) + "/tests/fixtures";

class V1Repository : public ::testing::Test {
  protected:
    void SetUp() override {
        RunResult r =
            run_process({"tar", "-xzf", kFixtureDir + "/v1-repo.tar.gz", "-C", dir_.path()});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        ASSERT_TRUE(stdfs::is_directory(repo() + "/" + format::kPackDir));
    }

    std::string repo() const { return dir_ / "v1-repo"; }

    // The source tree of a state of make_v1_repo.sh (first, second, final), made as it made it.
    // In DIR/`name` (default: source-`state`).
    std::string source_tree(const std::string& state, std::string name = "") {
        std::string path = dir_ / (name.empty() ? "source-" + state : name);
        RunResult r =
            run_process({"bash", kFixtureDir + "/make_v1_repo.sh", "--tree", state, path});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return path;
    }

    // Object names ("packs/ab/….pack", "snapshots/…") under `subdir` of `repo`, with the
    // SHA-256 of each object's bytes.
    static std::map<std::string, std::string> object_checksums(const std::string& repo,
                                                               const std::string& subdir) {
        std::map<std::string, std::string> sums;
        for (const auto& e : stdfs::recursive_directory_iterator(repo + "/" + subdir)) {
            if (!e.is_regular_file()) continue;
            std::string content = read_file(e.path().string());
            sums[stdfs::relative(e.path(), repo).string()] = sha256(as_bytes(content)).hex();
        }
        return sums;
    }

    std::map<std::string, std::string> stored_bytes() const {
        auto sums = object_checksums(repo(), format::kPackDir);
        for (auto& [name, sum] : object_checksums(repo(), format::kSnapshotDir)) sums[name] = sum;
        return sums;
    }

    // Every blob in the packs of `repo`, read from the packs' trailers: id → type.
    static std::map<BlobId, format::BlobType> blobs_in_packs(const std::string& repo) {
        auto r = Repository::open(repo);
        std::map<BlobId, format::BlobType> blobs;
        for (const auto& [name, sum] : object_checksums(repo, format::kPackDir)) {
            EXPECT_TRUE(pack_id_from_name(name)) << name;
            for (const auto& e : read_pack_trailer(r->objects(), r->codec(), name))
                blobs[e.id] = e.type;
        }
        return blobs;
    }

    // The snapshots, oldest first, as `strata snapshots --json` gives them.
    Json snapshots() {
        RunResult r = run_strata({"snapshots", "--json", repo()});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        return Json::parse(r.out, nullptr, false);
    }

    TempDir dir_;
};

CompareOptions restore_compare_options() {
    CompareOptions o;
    o.owners = running_as_root();  // the fixture was written by root; restore sets owners as root
    return o;
}

TEST_F(V1Repository, ReadsRestoresVerifiesAndMountsWithoutChangingStoredBytes) {
    const auto before = stored_bytes();
    ASSERT_FALSE(before.empty());

    Json snaps = snapshots();
    ASSERT_TRUE(snaps.is_array());
    ASSERT_EQ(snaps.size(), 2u) << snaps.dump();  // first and final; the second was forgotten
    for (const auto& s : snaps) EXPECT_EQ(s["host"], "fixture-host");
    const std::string first = snaps[0]["id"], final_id = snaps[1]["id"];

    RunResult ls = run_strata({"ls", repo(), final_id});
    ASSERT_EQ(ls.exit_code, 0) << describe(ls);
    EXPECT_NE(ls.out.find("hello.txt"), std::string::npos) << ls.out;
    EXPECT_NE(ls.out.find("docs"), std::string::npos) << ls.out;
    RunResult ls_data = run_strata({"ls", "-l", repo(), final_id, "data"});
    ASSERT_EQ(ls_data.exit_code, 0) << describe(ls_data);
    for (const char* name : {"a.bin", "a-hardlink.bin", "big.txt", "sparse.img"})
        EXPECT_NE(ls_data.out.find(name), std::string::npos) << ls_data.out;
    RunResult ls_first = run_strata({"ls", repo(), first, "data"});
    ASSERT_EQ(ls_first.exit_code, 0) << describe(ls_first);
    EXPECT_EQ(ls_first.out.find("big.txt"), std::string::npos) << ls_first.out;

    RunResult cat = run_strata({"cat", repo(), final_id, "hello.txt"});
    ASSERT_EQ(cat.exit_code, 0) << describe(cat);
    EXPECT_EQ(cat.out, "hello from strata v1\n");
    RunResult cat_first = run_strata({"cat", repo(), first, "hello.txt"});
    ASSERT_EQ(cat_first.exit_code, 0) << describe(cat_first);
    EXPECT_EQ(cat_first.out, "hello, first version\n");

    // Restore: every byte, hole, xattr, mode, mtime and the hard link, as the tree was.
    EXPECT_EQ(restore_and_compare(repo(), final_id, dir_ / "restored-final", source_tree("final"),
                                  restore_compare_options()),
              "");
    EXPECT_EQ(restore_and_compare(repo(), first, dir_ / "restored-first", source_tree("first"),
                                  restore_compare_options()),
              "");

    RunResult verify = run_strata({"verify", "--read-data", repo()});
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);

    if (why_no_fuse().empty()) {
        const std::string mnt = dir_ / "mnt";
        stdfs::create_directory(mnt);
        MountProcess mount(repo(), mnt);
        EXPECT_EQ(list_dir(mnt + "/snapshots").size(), 3u);  // two snapshots and "latest"
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/hello.txt"), "hello from strata v1\n");
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/data/big.txt"),
                  read_file(dir_ / "source-final/data/big.txt"));
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/data/sparse.img"),
                  read_file(dir_ / "source-final/data/sparse.img"));
        EXPECT_EQ(stdfs::read_symlink(mnt + "/snapshots/latest/docs/link-to-readme"), "readme.md");
        EXPECT_EQ(mount.stop(), 0) << mount.log();
    } else {
        std::cout << "mount part skipped: " << why_no_fuse() << "\n";
    }

    EXPECT_EQ(stored_bytes(), before) << "opening the repository read-only changed its packs or "
                                         "snapshot records";
}

TEST_F(V1Repository, StoredObjectsAreWhatTodaysCodecsWrite) {
    auto repository = Repository::open(repo());
    const auto blobs = blobs_in_packs(repo());
    std::size_t trees = 0;
    for (const auto& [id, type] : blobs) {
        if (type != format::BlobType::Tree) continue;
        ++trees;
        // Content addressing: the tree re-encoded from its decoded entries has the same id.
        EXPECT_EQ(sha256(encode_tree(repository->load_tree(id))), id) << id.hex();
    }
    EXPECT_GE(trees, 3u);  // at least the root, docs/ and data/ of one snapshot

    for (const auto& [name, sum] : object_checksums(repo(), format::kSnapshotDir)) {
        auto id = snapshot_id_from_name(name);
        ASSERT_TRUE(id) << name;
        std::string bytes = read_file(repo() + "/" + name);
        EXPECT_EQ(sha256(as_bytes(bytes)), *id) << name;
        Bytes again = encode_snapshot(decode_snapshot(as_bytes(bytes)));
        EXPECT_EQ(std::string(again.begin(), again.end()), bytes) << name;
    }

    // Today's ingest of the same tree into a fresh repository stores data blobs with the same ids
    // (the chunker and the blob ids are unchanged); its trees differ only where the source's
    // inode numbers and change times do, so they are checked by re-encoding above.
    const std::string fresh = dir_ / "fresh-repo";
    init_repo(fresh);
    Ingested in = ingest(fresh, {source_tree("final")}, {"--host", "fixture-host"});
    ASSERT_EQ(in.run.exit_code, 0) << describe(in.run);
    std::size_t data = 0;
    for (const auto& [id, type] : blobs_in_packs(fresh)) {
        if (type != format::BlobType::Data) continue;
        ++data;
        auto it = blobs.find(id);
        ASSERT_NE(it, blobs.end()) << "data blob " << id.hex() << " of today's ingest is not in "
                                   << "the fixture's packs";
        EXPECT_EQ(it->second, format::BlobType::Data);
    }
    EXPECT_GE(data, 4u);  // hello.txt, readme.md, a.bin, big.txt, sparse.img's extents
}

TEST_F(V1Repository, TakesANewSnapshotAndPrunes) {
    const std::string source = source_tree("final", "source-changed");
    write_file(source + "/added.txt", "added by today's strata\n");
    Ingested in = ingest(repo(), {source}, {"--host", "fixture-host"});
    ASSERT_EQ(in.run.exit_code, 0) << describe(in.run);
    ASSERT_EQ(snapshots().size(), 3u);

    RunResult prune = run_strata({"prune", repo()});
    ASSERT_EQ(prune.exit_code, 0) << describe(prune);
    RunResult verify = run_strata({"verify", "--read-data", repo()});
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);

    Json snaps = snapshots();
    ASSERT_EQ(snaps.size(), 3u);
    EXPECT_EQ(restore_and_compare(repo(), snaps[1]["id"], dir_ / "restored-final",
                                  source_tree("final"), restore_compare_options()),
              "");
    EXPECT_EQ(restore_and_compare(repo(), in.id, dir_ / "restored-new", source,
                                  restore_compare_options()),
              "");
    RunResult cat = run_strata({"cat", repo(), in.id, "added.txt"});
    EXPECT_EQ(cat.out, "added by today's strata\n") << describe(cat);
}

}  // namespace
}  // namespace strata::testing
