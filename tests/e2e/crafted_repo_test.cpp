// A repository is input too. Snapshots crafted with the store API hold tree entries named "..",
// ".", "", "a/b" (at the root and deeper down); restore, ls and cat must refuse them with a message
// and restore must write nothing outside its target. Crafted shapes (an index that makes a tree
// contain itself, trees nested far deeper than any path, shared subtrees that describe 2^60
// paths, chunks that lie about their size, absurd file sizes) must make ls, restore, verify,
// stats, ingest and the mount fail cleanly or finish: no crash, no hang, no memory blow-up.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "store/ingest/blob_writer.h"
#include "store/format/pack.h"
#include "tests/testlib/pack_builder.h"
#include "store/repo/repository.h"
#include "store/format/snapshot.h"
#include "store/format/tree.h"
#include "tests/e2e/e2e_support.h"
#include "tests/testlib/mount_support.h"

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

    // Stores `content` as a tree blob under the id `claimed`, which is not its hash, in a pack of
    // its own that is indexed like any other: what a crafted or damaged repository can hold.
    void put_lying_tree(const BlobId& claimed, const Bytes& content) {
        PackBuilder pack;
        pack.add(claimed, format::BlobType::Tree, format::Codec::Raw, content,
                 static_cast<std::uint32_t>(content.size()));
        const std::vector<PackEntry> entries = pack.entries();
        BlobId pack_id;
        Bytes bytes = pack.finish(pack_id);
        repo_->objects().put(pack_object_name(pack_id), bytes);
        repo_->index().add_pack(pack_id, bytes.size(), entries);
    }

    // Saves a snapshot whose root tree is `root`; returns its id.
    std::string snapshot(const BlobId& root, const std::string& note,
                         const std::string& path = "/crafted") {
        writer_->flush();
        SnapshotRecord rec;
        rec.time_sec = 1600000000 + static_cast<std::int64_t>(++count_);
        rec.host = "crafted";
        rec.paths = {path};
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

    // Lets other writers (a strata ingest) in: the crafting is done.
    void release() {
        writer_.reset();
        lock_.reset();
    }

    // `strata ARGS...` stopped after `seconds` (exit 124, then SIGKILL 5 s later): a crafted
    // repository must never make a command hang.
    static RunResult strata_bounded(const std::vector<std::string>& args, int seconds = 60) {
        std::vector<std::string> argv{"timeout", "--kill-after=5", std::to_string(seconds), strata_binary()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    }

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

// --- crafted shapes ------------------------------------------------------------------------------

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Exit status, a signal or a timeout, and the first lines of stderr: for assertion messages.
std::string outcome(const RunResult& r) {
    return describe(r).substr(0, 2000);
}

// Neither killed by a signal nor stopped by `timeout` (124, or 137 after its SIGKILL).
void expect_finished(const RunResult& r, const std::string& what) {
    EXPECT_EQ(r.signal, 0) << what << ": " << outcome(r);
    EXPECT_NE(r.exit_code, 124) << what << " did not finish in time: " << outcome(r);
    EXPECT_NE(r.exit_code, 137) << what << " did not finish in time: " << outcome(r);
}

class SelfContainingTree : public CraftedRepository {
protected:
    // Trees are named by their hash, so no tree can hold itself. This one tries: its subdirectory
    // "loop" names `claimed_`, and the index maps `claimed_` to the tree itself. Every reader
    // checks the hash, so it is damage to report, never a loop to follow.
    void SetUp() override {
        CraftedRepository::SetUp();
        claimed_ = sha256(bytes_of("not the hash of any tree"));
        put_lying_tree(claimed_, encode_tree({dir_entry("loop", claimed_), file_entry("f", evil_, evil_size_)}));
        src_ = dir_ / "src";
        ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
        ASSERT_EQ(::mkdir((src_ + "/loop").c_str(), 0755), 0);
        write_file(src_ + "/loop/f", "fresh\n");
        write_file(src_ + "/ok", "written outside the target\n");
        id_ = snapshot(tree({dir_entry("loop", claimed_), file_entry("ok", evil_, evil_size_)}),
                       "self-containing", src_);
        release();
    }
    BlobId claimed_;
    std::string src_, id_;
};

TEST_F(SelfContainingTree, LsRestoreVerifyAndStatsReportItAndStop) {
    RunResult ls = strata_bounded({"ls", "-R", repo(), id_});
    expect_finished(ls, "ls -R");
    EXPECT_EQ(ls.exit_code, 1) << outcome(ls);
    EXPECT_NE(ls.err.find(claimed_.short_hex()), std::string::npos) << ls.err;

    RunResult restore = strata_bounded({"restore", repo(), id_, dir_ / "restored"});
    expect_finished(restore, "restore");
    EXPECT_EQ(restore.exit_code, 1) << outcome(restore);
    EXPECT_NE(restore.err.find(claimed_.short_hex()), std::string::npos) << restore.err;

    RunResult verify = strata_bounded({"verify", repo()});
    expect_finished(verify, "verify");
    EXPECT_EQ(verify.exit_code, 1) << outcome(verify);
    EXPECT_NE(verify.out.find(claimed_.hex()), std::string::npos) << verify.out;
    EXPECT_NE(verify.out.find("/loop/"), std::string::npos) << "the affected path is named: " << verify.out;

    RunResult stats = strata_bounded({"stats", repo()});
    expect_finished(stats, "stats");
    EXPECT_EQ(stats.exit_code, 1) << outcome(stats);
    EXPECT_NE(stats.err.find(claimed_.short_hex()), std::string::npos) << stats.err;
}

// The next ingest of the same source has the crafted snapshot as its parent: a parent tree that
// cannot be read is only a lost shortcut, so the new snapshot is complete and restores exactly.
TEST_F(SelfContainingTree, AnIngestWithItAsParentReadsTheSourceAgain) {
    Ingested next = ingest(repo(), {src_}, {"--host", "crafted"});
    ASSERT_EQ(next.run.exit_code, 0) << describe(next.run);
    EXPECT_EQ(restore_and_compare(repo(), next.id, dir_ / "next", src_), "");
}

TEST_F(SelfContainingTree, TheMountAnswersEioForItAndServesTheRest) {
    SKIP_WITHOUT_FUSE();
    const std::string mnt = dir_ / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    MountProcess mount(repo(), mnt);
    const std::string snap = mnt + "/snapshots/latest";
    EXPECT_EQ(read_file(snap + "/ok"), "written outside the target\n");
    struct stat st;
    ASSERT_EQ(::stat((snap + "/loop").c_str(), &st), 0) << std::strerror(errno);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    int err = 0;
    if (DIR* d = ::opendir((snap + "/loop").c_str())) {
        errno = 0;
        while (::readdir(d)) {
        }
        err = errno;
        ::closedir(d);
    } else {
        err = errno;
    }
    EXPECT_EQ(err, EIO) << std::strerror(err);
    RunResult find = run_process({"timeout", "60", "find", snap + "/"});
    EXPECT_NE(find.exit_code, 124) << "find did not finish";
    EXPECT_NE(find.out.find("/ok\n"), std::string::npos) << find.out;
    mount.stop();
    EXPECT_NE(mount.log().find("loop"), std::string::npos) << "the damage is logged with its path: " << mount.log();
}

// Opens the directory `levels` levels of "d" below `top` (descriptor by descriptor: the path is
// longer than PATH_MAX); -1 if one is missing.
int open_nested(const std::string& top, std::size_t levels) {
    int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (std::size_t i = 0; i < levels && fd >= 0; ++i) {
        int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ::close(fd);
        fd = next;
    }
    return fd;
}

// Directories nested down to the format's limit (format::kMaxTreeDepth) restore and list; a
// crafted tree nested deeper is refused as damage, with a message, by restore and ls -R, and
// verify and stats finish on it.
TEST_F(CraftedRepository, TreesNestedPastTheDepthLimitAreRefusedAndUpToItWork) {
    auto chain = [&](std::size_t dirs) {
        BlobId t = tree({file_entry("bottom", evil_, evil_size_)});
        for (std::size_t i = 0; i < dirs; ++i) t = tree({dir_entry("d", t)});
        return t;
    };
    // kMaxTreeDepth - 1 directories below the root: "bottom" is at level kMaxTreeDepth.
    const std::string deepest = snapshot(chain(format::kMaxTreeDepth - 1), "deepest allowed");
    const std::string too_deep = snapshot(chain(format::kMaxTreeDepth + 1000), "too deep");
    release();

    RunResult ok = strata_bounded({"restore", repo(), deepest, dir_ / "deepest"}, 120);
    expect_finished(ok, "restore of the deepest allowed tree");
    EXPECT_EQ(ok.exit_code, 0) << outcome(ok);
    int fd = open_nested(dir_ / "deepest", format::kMaxTreeDepth - 1);
    EXPECT_GE(fd, 0) << "the deepest directory was not restored";
    if (fd >= 0) {
        struct stat st;
        EXPECT_EQ(::fstatat(fd, "bottom", &st, 0), 0) << "the deepest file was not restored";
        ::close(fd);
    }
    RunResult ls_ok = strata_bounded({"ls", "-R", repo(), deepest}, 120);
    EXPECT_EQ(ls_ok.exit_code, 0) << outcome(ls_ok);
    EXPECT_NE(ls_ok.out.find("/d/bottom\n"), std::string::npos);

    const std::string limit = "nested deeper than " + std::to_string(format::kMaxTreeDepth) + " levels";
    RunResult ls = strata_bounded({"ls", "-R", repo(), too_deep}, 120);
    expect_finished(ls, "ls -R");
    EXPECT_EQ(ls.exit_code, 1) << outcome(ls);
    EXPECT_NE(ls.err.find(limit), std::string::npos) << ls.err.substr(ls.err.size() > 300 ? ls.err.size() - 300 : 0);
    RunResult restore = strata_bounded({"restore", repo(), too_deep, dir_ / "too-deep"}, 120);
    expect_finished(restore, "restore");
    EXPECT_EQ(restore.exit_code, 1) << outcome(restore);
    EXPECT_NE(restore.err.find(limit), std::string::npos)
        << restore.err.substr(restore.err.size() > 300 ? restore.err.size() - 300 : 0);
    for (const auto& [what, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"verify --read-data", {"verify", "--read-data", repo()}}, {"stats", {"stats", repo()}}}) {
        RunResult r = strata_bounded(args, 120);
        expect_finished(r, what);
        EXPECT_EQ(r.exit_code, 0) << what << ": " << outcome(r);
    }
}

// A source nested deeper than the limit: ingest saves it down to the limit, warns about the
// directory it did not save and exits 3 (snapshot saved, not everything in it).
TEST(SourceDepth, IngestSavesASourceDownToTheDepthLimitAndWarnsAboutTheRest) {
    TempDir dir;
    const std::string src = dir / "src", repo = dir / "repo";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    int fd = ::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (std::size_t i = 0; i < format::kMaxTreeDepth + 3 && fd >= 0; ++i) {
        ASSERT_EQ(::mkdirat(fd, "d", 0755), 0) << std::strerror(errno);
        int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ::close(fd);
        fd = next;
    }
    ASSERT_GE(fd, 0);
    int file = ::openat(fd, "bottom", O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(file, 0);
    ::close(file);
    ::close(fd);
    init_repo(repo);
    Ingested in = ingest(repo, {src});
    ASSERT_EQ(in.run.exit_code, 3) << describe(in.run).substr(0, 2000);
    EXPECT_NE(in.run.err.find("nested deeper than " + std::to_string(format::kMaxTreeDepth)), std::string::npos)
        << in.run.err.substr(0, 300);
    RunResult r = run_strata({"restore", repo, in.id, dir / "restored"});
    ASSERT_EQ(r.exit_code, 0) << describe(r).substr(0, 2000);
    // Levels 1 … kMaxTreeDepth - 1 hold directories "d"; the one at level kMaxTreeDepth was not
    // saved (its contents would be deeper than the limit).
    int last = open_nested(dir / "restored", format::kMaxTreeDepth - 1);
    EXPECT_GE(last, 0) << "the deepest saved level is missing";
    if (last >= 0) {
        struct stat st;
        EXPECT_NE(::fstatat(last, "d", &st, AT_SYMLINK_NOFOLLOW), 0) << "a directory past the limit was saved";
        ::close(last);
    }
}

// Shared subtrees: 60 levels of directories "a" and "b" that name the same tree describe 2^60
// paths in 61 tree blobs. A chunk at the bottom is missing. verify must report it (naming
// some paths and counting them) in time linear in the trees, not in the paths; stats and a
// prune plan likewise.
TEST_F(CraftedRepository, SharedSubtreesThatDescribeAstronomicallyManyPathsDoNotHang) {
    constexpr int kLevels = 60;
    const BlobId missing = sha256(bytes_of("a chunk that was never stored"));
    BlobId t = tree({file_entry("f", missing, 10)});
    for (int i = 0; i < kLevels; ++i) t = tree({dir_entry("a", t), dir_entry("b", t)});
    snapshot(t, "2^60 paths");
    release();
    RunResult verify = strata_bounded({"verify", "--json", repo()});
    expect_finished(verify, "verify");
    EXPECT_EQ(verify.exit_code, 1) << outcome(verify);
    EXPECT_NE(verify.out.find(missing.hex()), std::string::npos) << verify.out.substr(0, 2000);
    std::string first_path;
    for (int i = 0; i < kLevels; ++i) first_path += "/a";
    EXPECT_NE(verify.out.find(first_path + "/f\""), std::string::npos) << verify.out.substr(0, 2000);
    EXPECT_NE(verify.out.find("\"damaged_paths_total\":" + std::to_string(1ull << kLevels)), std::string::npos)
        << "2^60 damaged paths (a or b at each of 60 levels), counted: " << verify.out.substr(0, 2000);
    RunResult stats = strata_bounded({"stats", "--json", repo()});
    expect_finished(stats, "stats");
    EXPECT_EQ(stats.exit_code, 0) << outcome(stats);
    EXPECT_NE(stats.out.find("\"missing_blobs\":1"), std::string::npos) << stats.out.substr(0, 500);
    // prune will not delete anything while snapshots use blobs it cannot find; it says so at once.
    RunResult prune = strata_bounded({"prune", "--dry-run", repo()});
    expect_finished(prune, "prune --dry-run");
    EXPECT_EQ(prune.exit_code, 1) << outcome(prune);
    EXPECT_NE(prune.err.find("not in the index"), std::string::npos) << prune.err;
}

// A file whose only chunk claims 1 MiB, naming a blob of 27 bytes: reading it is an error, never
// 27 bytes and then zeroes or whatever lies beyond.
TEST_F(CraftedRepository, AChunkThatLiesAboutItsSizeIsAnErrorEverywhere) {
    constexpr std::uint32_t kClaimed = 1u << 20;
    TreeEntry liar = file_entry("liar", evil_, kClaimed);
    const std::string id = snapshot(tree({liar, file_entry("ok", evil_, evil_size_)}), "liar");
    release();
    RunResult cat = strata_bounded({"cat", repo(), id, "liar"});
    expect_finished(cat, "cat");
    EXPECT_EQ(cat.exit_code, 1) << outcome(cat);
    EXPECT_EQ(cat.out, "") << "cat printed bytes of a chunk it could not check";
    RunResult restore = strata_bounded({"restore", repo(), id, dir_ / "restored"});
    expect_finished(restore, "restore");
    EXPECT_EQ(restore.exit_code, 1) << outcome(restore);
    EXPECT_NE(restore.err.find("liar"), std::string::npos) << restore.err;
    RunResult verify = strata_bounded({"verify", repo()});
    expect_finished(verify, "verify");
    EXPECT_EQ(verify.exit_code, 1) << outcome(verify);
    EXPECT_NE(verify.out.find("/liar"), std::string::npos) << verify.out;
    EXPECT_EQ(verify.out.find("/ok"), std::string::npos) << verify.out;

    if (!why_no_fuse().empty()) GTEST_SKIP() << "real-mount part skipped: " << why_no_fuse();
    const std::string mnt = dir_ / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    MountProcess mount(repo(), mnt);
    int fd = ::open((mnt + "/snapshots/latest/liar").c_str(), O_RDONLY);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string buf(kClaimed, '\0');
    errno = 0;
    ssize_t n = ::read(fd, buf.data(), buf.size());
    int err = errno;
    ::close(fd);
    EXPECT_EQ(n, -1) << "read returned bytes of a chunk that lies about its size";
    EXPECT_EQ(err, EIO) << std::strerror(err);
    EXPECT_EQ(read_file(mnt + "/snapshots/latest/ok"), "written outside the target\n");
}

// A file of 4 EiB holding 27 bytes of data, the rest a hole: legal in the format, impossible on
// a real filesystem. Restore fails on it with the path and errno; the mount shows its size and
// serves its data and zeroes.
TEST_F(CraftedRepository, AFileOfAbsurdSizeFailsRestoreCleanlyAndMountsAsAHole) {
    constexpr std::uint64_t kSize = 1ull << 62;
    TreeEntry huge = file_entry("huge", evil_, evil_size_);
    huge.size = kSize;
    const std::string id = snapshot(tree({huge}), "huge");
    release();
    RunResult restore = strata_bounded({"restore", repo(), id, dir_ / "restored"});
    expect_finished(restore, "restore");
    EXPECT_EQ(restore.exit_code, 1) << outcome(restore);
    EXPECT_NE(restore.err.find("huge"), std::string::npos) << restore.err;
    RunResult verify = strata_bounded({"verify", "--read-data", repo()});
    expect_finished(verify, "verify");
    EXPECT_EQ(verify.exit_code, 0) << outcome(verify);

    if (!why_no_fuse().empty()) GTEST_SKIP() << "real-mount part skipped: " << why_no_fuse();
    const std::string mnt = dir_ / "mnt";
    ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
    MountProcess mount(repo(), mnt);
    const std::string path = mnt + "/snapshots/latest/huge";
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << std::strerror(errno);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), kSize);
    int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string head(evil_size_, '\0');
    EXPECT_EQ(::pread(fd, head.data(), head.size(), 0), static_cast<ssize_t>(evil_size_));
    EXPECT_EQ(head, "written outside the target\n");
    std::string far(4096, 'x');
    EXPECT_EQ(::pread(fd, far.data(), far.size(), static_cast<off_t>(kSize / 2)), 4096);
    EXPECT_EQ(far, std::string(4096, '\0'));
    EXPECT_EQ(::lseek(fd, 4096, SEEK_DATA), -1);
    ::close(fd);
}

}  // namespace
}  // namespace strata::testing
