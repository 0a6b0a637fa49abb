// strata on a repository in a real S3 store (radosgw): init, ingest, list, read, restore and
// verify by URL; a second host (another cache) that knows only the URL; two hosts ingesting into
// one repository; a lost cache; and the mistakes a user makes with a URL.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "store/repo/storage.h"
#include "tests/e2e/e2e_support.h"
#include "tests/s3/s3_support.h"
#include "tests/testlib/mount_support.h"

namespace strata::testing {
namespace {

struct S3Repository : ::testing::Test {
    TempDir dir;
    std::string repo = fresh_s3_location("alice");
    std::string src = dir / "src";
    // Each "host" has its own cache.
    std::string cache_a = dir / "cache-a", cache_b = dir / "cache-b";

    void SetUp() override { make_every_kind_tree(src); }
    RunResult strata(std::vector<std::string> args, const std::string& cache) {
        args.insert(args.begin() + 1, {"--cache-dir", cache});
        return run_strata(args);
    }
    std::vector<std::string> snapshot_ids_with(const std::string& repository,
                                               const std::string& cache) {
        RunResult r = strata({"snapshots", "--json", repository}, cache);
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        std::vector<std::string> ids;
        Json j = Json::parse(r.out, nullptr, false);
        if (j.is_array())
            for (const auto& s : j) ids.push_back(s["id"].get<std::string>());
        return ids;
    }
};

TEST_F(S3Repository, InitIngestListCatRestoreVerifyByUrl) {
    RunResult r = strata({"init", "--encryption", "none", repo}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = strata({"ingest", "--json", repo, src}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json summary = Json::parse(r.out, nullptr, false);
    ASSERT_TRUE(summary.is_object()) << r.out;
    const std::string id = summary["id"].get<std::string>();

    r = strata({"snapshots", repo}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find(id.substr(0, 8)), std::string::npos) << r.out;
    r = strata({"ls", repo, "latest", "/"}, cache_a);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    r = strata({"restore", repo, id, dir / "restored"}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "restored"), "");
    r = strata({"verify", "--read-data", repo}, cache_a);
    EXPECT_EQ(r.exit_code, 0) << describe(r);

    // A second ingest of the same tree stores nothing new.
    r = strata({"ingest", "--json", repo, src}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json again = Json::parse(r.out, nullptr, false);
    EXPECT_EQ(again["bytes_added"], 0) << r.out;
}

TEST_F(S3Repository, ASecondHostNeedsOnlyTheUrlAndBothIngestIntoIt) {
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    RunResult r = strata({"ingest", "--json", repo, src}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string first = Json::parse(r.out)["id"].get<std::string>();

    // Host B: an empty cache, built from the bucket.
    r = strata({"snapshots", "--json", repo}, cache_b);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find(first), std::string::npos) << r.out;
    r = strata({"restore", repo, first, dir / "on-b"}, cache_b);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "on-b"), "");

    // B ingests a changed tree: it dedups against what A stored.
    write_file(src + "/new-on-b.txt", "from host b\n");
    r = strata({"ingest", "--json", repo, src, "--host", "host-b"}, cache_b);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json b = Json::parse(r.out);
    const std::string second = b["id"].get<std::string>();
    EXPECT_LT(b["bytes_added"].get<std::uint64_t>(), 4096u) << r.out;

    // A's cache learns B's snapshot and packs at its next command.
    r = strata({"snapshots", "--json", repo}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find(second), std::string::npos) << r.out;
    r = strata({"cat", repo, second, "new-on-b.txt"}, cache_a);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out, "from host b\n");

    // Forget on A: B no longer lists it.
    r = strata({"forget", repo, first}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = strata({"snapshots", "--json", repo}, cache_b);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.out.find(first), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(second), std::string::npos) << r.out;
}

TEST_F(S3Repository, TwoHostsIngestAtTheSameTime) {
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    // Each host its own tree with shared content, so both upload packs at once.
    const std::string tree_a = dir / "a", tree_b = dir / "b";
    for (const auto& t : {tree_a, tree_b}) {
        ASSERT_EQ(::mkdir(t.c_str(), 0755), 0);
        write_random_file(t + "/shared.bin", 24 << 20, 77);
    }
    write_random_file(tree_a + "/own.bin", 20 << 20, 1);
    write_random_file(tree_b + "/own.bin", 20 << 20, 2);
    ChildProcess a({strata_binary(), "ingest", "--json", "--cache-dir", cache_a, repo, tree_a});
    ChildProcess b({strata_binary(), "ingest", "--json", "--cache-dir", cache_b, repo, tree_b});
    RunResult ra = a.wait(), rb = b.wait();
    ASSERT_EQ(ra.exit_code, 0) << describe(ra);
    ASSERT_EQ(rb.exit_code, 0) << describe(rb);
    const std::string ia = Json::parse(ra.out)["id"].get<std::string>();
    const std::string ib = Json::parse(rb.out)["id"].get<std::string>();
    // A third host sees both, restores both exactly, and the repository verifies.
    const std::string cache_c = dir / "cache-c";
    EXPECT_EQ(snapshot_ids_with(repo, cache_c).size(), 2u);
    RunResult r = strata({"restore", repo, ia, dir / "ra"}, cache_c);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(tree_a, dir / "ra"), "");
    r = strata({"restore", repo, ib, dir / "rb"}, cache_c);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(tree_b, dir / "rb"), "");
    r = strata({"verify", "--read-data", repo}, cache_c);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(S3Repository, ALostCacheIsRebuiltFromTheBucket) {
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    RunResult r = strata({"ingest", "--json", repo, src}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string id = Json::parse(r.out)["id"].get<std::string>();
    remove_tree(cache_a);
    r = strata({"restore", repo, id, dir / "again"}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "again"), "");
    // A damaged cache too: it is only a cache.
    for (const auto& sub : list_dir(cache_a)) {
        std::string data = cache_a + "/" + sub + "/index/data.mdb";
        if (::access(data.c_str(), F_OK) == 0) {
            ASSERT_EQ(::truncate(data.c_str(), 5000), 0);
        }
    }
    r = strata({"ls", repo, id, "/"}, cache_a);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(S3Repository, MountsAndReadsLikeALocalRepository) {
    SKIP_WITHOUT_FUSE();
    // A tree cp -a can copy whole (the every-kind tree holds paths longer than PATH_MAX).
    const std::string plain = dir / "plain";
    ASSERT_EQ(::mkdir(plain.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((plain + "/docs").c_str(), 0750), 0);
    write_random_file(plain + "/docs/big.bin", 5 << 20, 11);
    write_file(plain + "/docs/note.txt", "first\n");
    ASSERT_EQ(::symlink("docs/note.txt", (plain + "/link").c_str()), 0);
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    RunResult r = strata({"ingest", repo, plain}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    write_file(plain + "/docs/note.txt", "second\n");
    r = strata({"ingest", repo, plain}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);

    const std::string mnt = dir / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    {
        // Another host's cache: the mount builds it from the bucket.
        MountProcess m(repo, mnt, {"--cache-dir", cache_b});
        RunResult cp = run_process({"cp", "-a", mnt + "/snapshots/latest/", dir / "copied"});
        ASSERT_EQ(cp.exit_code, 0) << describe(cp);
        EXPECT_EQ(tree_differences(plain, dir / "copied"), "");
        // Both versions of the note, one ls away.
        EXPECT_EQ(list_dir(mnt + "/history/docs/note.txt").size(), 2u);
        EXPECT_EQ(m.stop(), 0) << m.log();
    }
    EXPECT_FALSE(is_mounted(mnt));
}

// An encrypted repository in the bucket: a second host opens it with the password alone,
// restores, mounts and verifies it; no object in the bucket holds a file name or a stretch of
// content; and `verify --without-password` checks the packs' checksums with no key.
TEST_F(S3Repository, AnEncryptedRepositoryHidesNamesAndVerifiesWithoutThePassword) {
    const std::string pw = dir / "pw";
    write_file(pw, "s3 secret\n");
    const std::string plain = dir / "plain";
    ASSERT_EQ(::mkdir(plain.c_str(), 0755), 0);
    const std::string content = random_data(300000, 21);
    write_file(plain + "/Unusual-Secret-Name.bin", content);
    RunResult r = strata({"init", "--password-file", pw, "--kdf-memory", "8", repo}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = strata({"ingest", "--password-file", pw, repo, plain}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);

    r = strata({"restore", "--password-file", pw, repo, "latest", dir / "restored"}, cache_b);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(plain, dir / "restored"), "");
    r = strata({"verify", "--read-data", "--password-file", pw, repo}, cache_b);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(strata({"snapshots", "--password-file", dir / "nope", repo}, cache_b).exit_code, 0);

    RepositoryObjects bucket = open_repository_objects(repo);
    std::size_t objects = 0;
    for (const auto& o : bucket.objects->list("")) {
        const Bytes data = bucket.objects->read_all(o.name);
        const std::string text(data.begin(), data.end());
        EXPECT_EQ(text.find("Unusual-Secret-Name"), std::string::npos) << o.name;
        EXPECT_EQ(text.find(content.substr(1000, 32)), std::string::npos) << o.name;
        ++objects;
    }
    EXPECT_GE(objects, 4u);  // config, a key, a pack, a record

    r = run_strata({"verify", "--without-password", "--read-data", "--cache-dir", cache_b, repo},
                   {"STRATA_PASSWORD_FILE"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("checked without the password"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("read-data  1 packs"), std::string::npos) << r.out;
    std::string pack;
    for (const auto& o : bucket.objects->list("packs")) pack = o.name;
    ASSERT_FALSE(pack.empty());
    Bytes damaged = bucket.objects->read_all(pack);
    damaged[damaged.size() / 2] ^= 0x01;
    bucket.objects->put(pack, damaged);
    r = run_strata({"verify", "--without-password", "--read-data", "--cache-dir", cache_b, repo},
                   {"STRATA_PASSWORD_FILE"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.out.find("pack-checksum  " + pack), std::string::npos) << r.out;

    if (why_no_fuse().empty()) {
        damaged[damaged.size() / 2] ^= 0x01;
        bucket.objects->put(pack, damaged);
        const std::string mnt = dir / "mnt";
        ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
        MountProcess m(repo, mnt, {"--cache-dir", cache_b, "--password-file", pw});
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/Unusual-Secret-Name.bin"), content);
        EXPECT_EQ(m.stop(), 0) << m.log();
    }
}

TEST_F(S3Repository, MountTakesCredentialsFromAFileAndCacheDirAsOptions) {
    SKIP_WITHOUT_FUSE();
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    write_file(dir / "one.txt", "one\n");
    ASSERT_EQ(strata({"ingest", repo, dir / "one.txt"}, cache_a).exit_code, 0);
    // The file holds the good keys under a profile; the environment a wrong secret, which the
    // mount must not use.
    write_file(dir / "aws-credentials",
               std::string("[backup]\naws_access_key_id = ") + std::getenv("AWS_ACCESS_KEY_ID") +
                   "\naws_secret_access_key = " + std::getenv("AWS_SECRET_ACCESS_KEY") + "\n");
    const std::string mnt = dir / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    const std::string saved = std::getenv("AWS_SECRET_ACCESS_KEY");
    ::setenv("AWS_SECRET_ACCESS_KEY", "wrong", 1);
    {
        MountProcess m(repo, mnt,
                       {"-o", "credentials_file=" + dir / "aws-credentials" +
                                  ",profile=backup,cache_dir=" + dir / "mount-cache"});
        ::setenv("AWS_SECRET_ACCESS_KEY", saved.c_str(), 1);
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/one.txt"), "one\n");
        EXPECT_FALSE(list_dir(dir / "mount-cache").empty());
        // Nothing secret in the mount table or the process's arguments.
        EXPECT_EQ(strata_mount_line(mnt).find(saved), std::string::npos);
        EXPECT_EQ(read_file("/proc/" + std::to_string(m.pid()) + "/cmdline").find(saved),
                  std::string::npos);
        EXPECT_EQ(m.stop(), 0) << m.log();
    }
    ::setenv("AWS_SECRET_ACCESS_KEY", saved.c_str(), 1);
}

// Requests radosgw has answered so far (its log has one "req done" line each).
std::size_t rgw_requests() {
    std::ifstream in(std::string(STRATA_CEPH_DIR) + "/log/client.rgw.log");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);)
        if (line.find("req done") != std::string::npos) ++n;
    return n;
}

// Requests radosgw has answered for paths starting with `path` ("/bucket/prefix/packs/"), by
// method: its access log has a line per request, `"GET /bucket/key?query HTTP/1.1"`.
std::size_t rgw_requests_for(const std::string& method, const std::string& path) {
    std::ifstream in(std::string(STRATA_CEPH_DIR) + "/log/client.rgw.log");
    const std::string needle = "\"" + method + " " + path;
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);)
        if (line.find(needle) != std::string::npos) ++n;
    return n;
}

TEST_F(S3Repository, AFreshHostReadsIndexObjectsNotPackTrailers) {
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    ASSERT_EQ(strata({"ingest", repo, src}, cache_a).exit_code, 0);
    write_file(src + "/added.txt", "a second version\n");
    ASSERT_EQ(strata({"ingest", repo, src}, cache_a).exit_code, 0);
    // "/bucket/alice/": the path of the repository's objects.
    const std::string path = repo.substr(repo.find('/', std::string("s3:http://").size()));
    ::usleep(300000);  // radosgw logs a request once it has answered it
    const std::size_t packs_before = rgw_requests_for("GET", path + "/packs/");
    const std::size_t indexes_before = rgw_requests_for("GET", path + "/indexes/");
    EXPECT_EQ(snapshot_ids_with(repo, cache_b).size(), 2u);
    ::usleep(300000);
    EXPECT_EQ(rgw_requests_for("GET", path + "/packs/"), packs_before) << "no pack trailer read";
    EXPECT_EQ(rgw_requests_for("GET", path + "/indexes/") - indexes_before, 2u)
        << "one index object per ingest";
    RunResult r = strata({"restore", repo, "latest", dir / "on-b"}, cache_b);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(src, dir / "on-b"), "");
}

// An ingest of a tree that has not changed sends a handful of requests (14, docs/remote.md): the
// config, the marker and the refresh of the cache under it, the parent's lookup, the snapshot
// record, the keep check and the marker's removal. The cache is refreshed once, under the marker,
// not also at open; packs are not listed again to adopt those the refresh has just indexed; and
// compacting this host's cache afterwards writes nothing to the bucket.
// An unchanged re-ingest: a handful of requests. An encrypted repository adds the LIST of keys/
// and the GET of its key object that opening it takes.
void unchanged_reingest_requests(S3Repository& t, bool encrypted) {
    std::vector<std::string> password;
    if (encrypted) {
        write_file(t.dir / "pw", "s3 secret\n");
        password = {"--password-file", t.dir / "pw"};
    }
    std::vector<std::string> init = {"init"};
    if (encrypted)
        init.insert(init.end(), {"--kdf-memory", "8", "--password-file", t.dir / "pw"});
    else
        init.insert(init.end(), {"--encryption", "none"});
    init.push_back(t.repo);
    ASSERT_EQ(t.strata(init, t.cache_a).exit_code, 0);
    std::vector<std::string> args = {"ingest", t.repo, t.src};
    args.insert(args.end(), password.begin(), password.end());
    RunResult r = t.strata(args, t.cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string path = t.repo.substr(t.repo.find('/', std::string("s3:http://").size()));
    const std::string bucket = path.substr(0, path.find('/', 1));
    ::usleep(300000);  // radosgw logs a request once it has answered it
    const std::size_t all_before = rgw_requests();
    const std::size_t markers_before = rgw_requests_for("PUT", path + "/writers/");
    const std::size_t listings_before = rgw_requests_for("GET", bucket + "?");
    // Compaction forced: it must still leave the bucket alone.
    args = {"ingest", "--cache-dir", t.cache_a, "--json", t.repo, t.src};
    args.insert(args.end(), password.begin(), password.end());
    r = run_strata(args, {"STRATA_TEST_COMPACT_INDEX=1"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(Json::parse(r.out)["bytes_added"], 0) << r.out;
    ::usleep(300000);
    EXPECT_EQ(rgw_requests_for("PUT", path + "/writers/") - markers_before, 2u)
        << "one marker, written and renewed once; none for compacting the cache";
    const std::size_t listings = rgw_requests_for("GET", bucket + "?") - listings_before;
    EXPECT_LE(listings, encrypted ? 6u : 5u)
        << "packs/, snapshots/ and deletions/ under the marker, snapshots/ for the parent, and "
           "deletions/ once more at the snapshot; keys/ to open an encrypted one";
    EXPECT_LE(rgw_requests() - all_before, encrypted ? 16u : 14u);
    // The cache it compacted serves the next command.
    args = {"restore", t.repo, "latest", t.dir / "again"};
    args.insert(args.end(), password.begin(), password.end());
    r = t.strata(args, t.cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(t.src, t.dir / "again"), "");
}

TEST_F(S3Repository, AnUnchangedReingestSendsAHandfulOfRequests) {
    unchanged_reingest_requests(*this, false);
}

TEST_F(S3Repository, AnUnchangedReingestOfAnEncryptedRepositorySendsAHandfulToo) {
    unchanged_reingest_requests(*this, true);
}

TEST_F(S3Repository, TreesAreKeptOnThisHostAndADamagedCopyIsFetchedAgain) {
    // 60 directories: without the tree cache, listing them all costs a GET each.
    const std::string deep = dir / "deep";
    ASSERT_EQ(::mkdir(deep.c_str(), 0755), 0);
    for (int i = 0; i < 60; ++i) {
        const std::string d = deep + "/d" + std::to_string(i);
        ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
        write_file(d + "/f", std::to_string(i) + "\n");
    }
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    RunResult r = strata({"ingest", "--json", repo, deep}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string id = Json::parse(r.out)["id"].get<std::string>();
    // The ingest kept the trees it wrote: a restore reads none of them over the network.
    const std::size_t before = rgw_requests();
    r = strata({"restore", repo, id, dir / "r1"}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(deep, dir / "r1"), "");
    ::usleep(300000);  // radosgw logs a request once it has answered it
    EXPECT_LT(rgw_requests() - before, 60u + 20u) << "60 file chunks and a few listings expected";
    // Damage every kept tree: each is found wrong, fetched again and the restore is exact.
    std::size_t damaged = 0;
    for (const auto& sub : list_dir(cache_a)) {
        const std::string trees = cache_a + "/" + sub + "/trees";
        if (::access(trees.c_str(), F_OK) != 0) continue;
        for (const auto& hh : list_dir(trees))
            for (const auto& t : list_dir(trees + "/" + hh)) {
                write_file(trees + "/" + hh + "/" + t, "not a tree, same length? no");
                ++damaged;
            }
    }
    EXPECT_GE(damaged, 61u);
    r = strata({"restore", repo, id, dir / "r2"}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(deep, dir / "r2"), "");
}

// The files of the chunk cache of the repository in `cache` (<cache>/<id>/chunks/<hh>/<hex>), and
// their bytes in all.
std::vector<std::string> chunk_cache_files(const std::string& cache, std::uint64_t* bytes) {
    std::vector<std::string> files;
    *bytes = 0;
    for (const auto& sub : list_dir(cache)) {
        const std::string chunks = cache + "/" + sub + "/chunks";
        if (::access(chunks.c_str(), F_OK) != 0) continue;
        for (const auto& hh : list_dir(chunks))
            for (const auto& f : list_dir(chunks + "/" + hh)) {
                files.push_back(chunks + "/" + hh + "/" + f);
                struct stat st;
                if (::stat(files.back().c_str(), &st) == 0) *bytes += st.st_size;
            }
    }
    return files;
}

TEST_F(S3Repository, TheMountKeepsChunksOnDiskSoASecondReadIsLocal) {
    SKIP_WITHOUT_FUSE();
    const std::string data = dir / "data";
    ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
    write_random_file(data + "/big.bin", 6 << 20, 21);
    const std::string want = read_file(data + "/big.bin");
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    RunResult r = strata({"ingest", repo, data}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string path = repo.substr(repo.find('/', std::string("s3:http://").size()));
    const std::string mnt = dir / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    auto read_through_mount = [&](const std::vector<std::string>& options) {
        MountProcess m(repo, mnt, options);
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/big.bin"), want);
        EXPECT_EQ(m.stop(), 0) << m.log();
    };
    auto pack_reads = [&] {
        ::usleep(300000);  // radosgw logs a request once it has answered it
        return rgw_requests_for("GET", path + "/packs/");
    };

    std::size_t before = pack_reads();
    read_through_mount({"--cache-dir", cache_b});
    std::uint64_t kept = 0;
    EXPECT_FALSE(chunk_cache_files(cache_b, &kept).empty());
    EXPECT_GE(kept, 6u << 20) << "the file's chunks, as their pack stores them (random: no gain)";
    EXPECT_GT(pack_reads(), before);
    // A new mount (the kernel's page cache gone with the old one) reads the file from disk.
    before = pack_reads();
    read_through_mount({"--cache-dir", cache_b});
    EXPECT_EQ(pack_reads(), before) << "no pack read over the network";

    // Damaged copies are found out by the codec's check, dropped and fetched again.
    for (const auto& f : chunk_cache_files(cache_b, &kept)) {
        std::string bytes = read_file(f);
        bytes[bytes.size() / 2] ^= 0x10;
        write_file(f, bytes);
    }
    before = pack_reads();
    read_through_mount({"--cache-dir", cache_b});
    EXPECT_GT(pack_reads(), before);

    // A smaller bound drops what is over it; 0 keeps nothing.
    read_through_mount({"--cache-dir", cache_b, "-o", "disk_cache_size=2M"});
    chunk_cache_files(cache_b, &kept);
    EXPECT_LE(kept, 2u << 20);
    const std::string cache_c = dir / "cache-c";
    read_through_mount({"--cache-dir", cache_c, "--disk-cache-size", "0"});
    EXPECT_TRUE(chunk_cache_files(cache_c, &kept).empty());
    EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(S3Repository, AMountSeesOtherHostsSnapshotsAndThisHostsIngestsStillRun) {
    SKIP_WITHOUT_FUSE();
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    write_file(src + "/from-a.txt", "one\n");
    ASSERT_EQ(strata({"ingest", repo, src}, cache_a).exit_code, 0);
    const std::string mnt = dir / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    MountProcess m(repo, mnt, {"--cache-dir", cache_b, "-o", "refresh=1"});
    auto snapshots_in_mount = [&] {
        std::size_t n = 0;
        for (const auto& name : list_dir(mnt + "/snapshots")) n += name != "latest";
        return n;
    };
    EXPECT_EQ(snapshots_in_mount(), 1u);
    // Host A ingests: host B's mount shows it within a few refreshes, with its content.
    write_file(src + "/from-a.txt", "two\n");
    ASSERT_EQ(strata({"ingest", repo, src}, cache_a).exit_code, 0);
    for (int i = 0; i < 100 && snapshots_in_mount() < 2; ++i) ::usleep(100000);
    EXPECT_EQ(snapshots_in_mount(), 2u);
    EXPECT_EQ(read_file(mnt + "/snapshots/latest/from-a.txt"), "two\n");
    // Ingests on the mount's own host, sharing its cache, are not refused while it refreshes.
    for (int i = 0; i < 4; ++i) {
        write_file(src + "/from-b.txt", std::to_string(i));
        RunResult r = strata({"ingest", repo, src}, cache_b);
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        ::usleep(300000);
    }
    for (int i = 0; i < 50 && snapshots_in_mount() < 6; ++i) ::usleep(100000);
    EXPECT_EQ(snapshots_in_mount(), 6u);
    // A forget on host A: the snapshot goes from the mount too.
    RunResult r = strata({"forget", repo, "--keep-last", "1"}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    for (int i = 0; i < 100 && snapshots_in_mount() > 1; ++i) ::usleep(100000);
    EXPECT_EQ(snapshots_in_mount(), 1u);
    EXPECT_EQ(m.stop(), 0) << m.log();
}

// radosgw's https endpoint serves a certificate of the harness's private CA: strata trusts it only
// when told to with --cacert (or the mount's cacert=), refuses it at once otherwise, and says how
// to trust it.
TEST_F(S3Repository, HttpsTrustsAPrivateCaOnlyWhenGivenItsCertificate) {
    ceph_endpoint();  // loads the harness's environment
    const char* tls = std::getenv("STRATA_TEST_S3_TLS_ENDPOINT");
    const char* ca = std::getenv("STRATA_TEST_S3_CA_FILE");
    const char* other_ca = std::getenv("STRATA_TEST_S3_OTHER_CA_FILE");
    ASSERT_TRUE(tls && ca && other_ca) << "the harness's env has no https endpoint";
    const std::string https = std::string("s3:") + tls + "/" + fresh_bucket() + "/alice";
    ASSERT_EQ(https.rfind("s3:https://", 0), 0u) << https;

    RunResult r = strata({"init", "--encryption", "none", "--cacert", ca, https}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    write_file(dir / "one.txt", "one\n");
    r = strata({"ingest", "--cacert", ca, https, dir / "one.txt"}, cache_a);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    // A fresh host, over https only.
    r = strata({"restore", "--cacert", ca, https, "latest", dir / "restored"}, cache_b);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(read_file(dir / "restored/one.txt"), "one\n");

    // Without the CA (the system's store does not hold it) and with a CA that did not issue the
    // certificate: refused at once, not retried, with what to do.
    for (const std::vector<std::string>& trust :
         {std::vector<std::string>{}, std::vector<std::string>{"--cacert", other_ca}}) {
        std::vector<std::string> args{"snapshots"};
        args.insert(args.end(), trust.begin(), trust.end());
        args.push_back(https);
        r = strata(args, dir / "cache-c");
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(trust.empty() ? "the system's certificate store" : other_ca),
                  std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("--cacert FILE"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("trying again"), std::string::npos) << r.err;
    }
    r = strata({"snapshots", "--cacert", dir / "no-such.pem", https}, cache_a);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("--cacert " + dir / "no-such.pem" + ": no such file"), std::string::npos)
        << r.err;

    SKIP_WITHOUT_FUSE();  // the rest mounts
    const std::string mnt = dir / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    {
        MountProcess m(https, mnt, {"-o", std::string("cacert=") + ca + ",cache_dir=" + cache_b});
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/one.txt"), "one\n");
        EXPECT_EQ(m.stop(), 0) << m.log();
    }
    EXPECT_FALSE(is_mounted(mnt));
}

TEST_F(S3Repository, MistakesWithTheUrlGetClearMessages) {
    // No repository there yet.
    RunResult r = strata({"snapshots", repo}, cache_a);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("holds no strata repository"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("strata init " + repo), std::string::npos) << r.err;
    // Malformed.
    r = strata({"snapshots", "s3:http://127.0.0.1/x"}, cache_a);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("not a valid bucket name"), std::string::npos) << r.err;
    // init twice.
    ASSERT_EQ(strata({"init", "--encryption", "none", repo}, cache_a).exit_code, 0);
    r = strata({"init", "--encryption", "none", repo}, cache_a);
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("holds a strata repository already"), std::string::npos) << r.err;
    // No credentials.
    r = run_strata({"snapshots", "--cache-dir", cache_a, repo},
                   {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "HOME=" + dir.path()});
    EXPECT_EQ(r.exit_code, 2) << describe(r);
    EXPECT_NE(r.err.find("no S3 credentials"), std::string::npos) << r.err;
    // Wrong secret.
    r = run_strata({"snapshots", "--cache-dir", cache_a, repo}, {"AWS_SECRET_ACCESS_KEY=wrong"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::testing
