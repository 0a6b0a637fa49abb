// Encrypted repositories through the strata binary: what the storage host sees (no plaintext, no
// file name, no plain SHA-256 of a chunk in any stored object), what damage and swapped objects
// do (never wrong plaintext), and the passwords: where they come from, wrong or missing ones,
// `strata key` add, remove and passwd, a key object from another repository.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "store/base/hash.h"
#include "tests/e2e/e2e_support.h"
#include "tests/testlib/mount_support.h"

namespace strata::testing {
namespace {

// The files below `root`, relative to it, sorted, leaving out the folders named in `skip`.
void files_below(const std::string& root, const std::string& rel, std::vector<std::string>& out,
                 const std::vector<std::string>& skip = {}) {
    for (const auto& name : list_dir(root + (rel.empty() ? "" : "/" + rel))) {
        const std::string r = rel.empty() ? name : rel + "/" + name;
        if (std::find(skip.begin(), skip.end(), r) != skip.end()) continue;
        struct stat st;
        if (::lstat((root + "/" + r).c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            files_below(root, r, out, skip);
        else if (S_ISREG(st.st_mode))
            out.push_back(r);
    }
}

// The objects a repository stores (what a storage host holds): everything but the local index,
// lock and partial writes.
std::vector<std::string> stored_objects(const std::string& repo) {
    std::vector<std::string> out;
    files_below(repo, "", out, {"index", "locks", "tmp"});
    return out;
}

std::vector<std::string> snapshot_ids_with(const std::string& repo,
                                           const std::vector<std::string>& env) {
    RunResult r = run_strata({"snapshots", "--json", repo}, env);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    std::vector<std::string> ids;
    for (const auto& s : Json::parse(r.out)) ids.push_back(s["id"].get<std::string>());
    return ids;
}

class Encrypted : public ::testing::Test {
  protected:
    void SetUp() override {
        repo = dir / "repo";
        pw = dir / "pw";
        write_file(pw, "correct horse battery staple\n");
        // 8 MiB, the least Argon2id is allowed: the tests open repositories often.
        RunResult r = run_strata({"init", "--password-file", pw, "--kdf-memory", "8", repo});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        ASSERT_NE(r.out.find("created encrypted strata repository"), std::string::npos) << r.out;
    }
    RunResult strata(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
        return run_strata(args, with_password(env));
    }
    // The password, and this test's own cache folder (the state of rollback_check.h).
    std::vector<std::string> with_password(std::vector<std::string> env) const {
        env.push_back("STRATA_PASSWORD_FILE=" + pw);
        env.push_back("XDG_CACHE_HOME=" + (dir / "cache"));
        return env;
    }
    std::string ingest_ok(const std::string& src) {
        Ingested i = ingest(repo, {src}, {}, with_password({}));
        EXPECT_EQ(i.run.exit_code, 0) << describe(i.run);
        return i.id;
    }

    TempDir dir;
    std::string repo, pw;
};

// Random bytes (incompressible: a plain repository stores them as they are) in files smaller than
// the smallest chunk, so each file is one chunk whose plain SHA-256 is the file's.
struct Corpus {
    std::vector<std::string> contents;
    std::vector<std::string> names;
};

Corpus make_corpus(const std::string& src) {
    Corpus c;
    ::mkdir(src.c_str(), 0755);
    ::mkdir((src + "/Quarterly-Report-Folder").c_str(), 0755);
    for (int i = 0; i < 6; ++i) {
        const std::string name =
            "Quarterly-Report-Folder/confidential-plan-" + std::to_string(i) + ".odt";
        c.contents.push_back(random_data(20000 + i * 1000, 1000 + i));
        c.names.push_back("confidential-plan-" + std::to_string(i) + ".odt");
        write_file(src + "/" + name, c.contents.back());
    }
    c.names.push_back("Quarterly-Report-Folder");
    // Compressible text too: zstd alone would hide none of it.
    std::string text;
    for (int i = 0; i < 200; ++i) text += "The merger with Initech closes on Friday. ";
    write_file(src + "/memo.txt", text);
    c.contents.push_back(text);
    c.names.push_back("memo.txt");
    return c;
}

// Whether `needle` occurs anywhere in any stored object of `repo`; names the first one.
std::string where_found(const std::string& repo, const std::string& needle) {
    for (const auto& rel : stored_objects(repo)) {
        const std::string data = read_file(repo + "/" + rel);
        if (data.find(needle) != std::string::npos) return rel;
    }
    return "";
}

// What the test checks for: every file name, 32-byte stretches of every file's content, and the
// raw and hex plain SHA-256 of every chunk.
std::vector<std::pair<std::string, std::string>> secrets_of(const Corpus& c) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& n : c.names) out.push_back({"the name " + n, n});
    for (const auto& content : c.contents) {
        for (std::size_t at = 0; at + 32 <= content.size(); at += content.size() / 4)
            out.push_back({"content", content.substr(at, 32)});
        const BlobId id = sha256(as_bytes(content));
        out.push_back({"a chunk's SHA-256", std::string(id.bytes.begin(), id.bytes.end())});
        out.push_back({"a chunk's SHA-256 in hex", id.hex()});
    }
    return out;
}

TEST_F(Encrypted, NoPlaintextNameOrPlainChunkIdReachesAnyStoredObject) {
    const Corpus c = make_corpus(dir / "src");
    ingest_ok(dir / "src");
    write_file(dir / "src/memo.txt", "changed");
    ingest_ok(dir / "src");
    ASSERT_EQ(strata({"forget", repo, "--keep-last", "1"}).exit_code, 0);
    ASSERT_EQ(strata({"prune", repo, "--grace", "0"}).exit_code, 0);
    ASSERT_FALSE(stored_objects(repo).empty());
    for (const auto& [what, needle] : secrets_of(c))
        EXPECT_EQ(where_found(repo, needle), "") << what << " is readable in the repository";

    // The same corpus in a plain repository shows all of it: the check above can fail.
    const std::string plain = dir / "plain";
    init_repo(plain);
    ASSERT_EQ(ingest(plain, {dir / "src"}).run.exit_code, 0);
    write_file(dir / "src/memo.txt", c.contents.back());
    ASSERT_EQ(ingest(plain, {dir / "src"}).run.exit_code, 0);
    std::size_t found = 0;
    for (const auto& [what, needle] : secrets_of(c)) found += !where_found(plain, needle).empty();
    EXPECT_GT(found, secrets_of(c).size() / 2);
}

// A local repository keeps its index beside its objects: the snapshot records in it (host,
// paths, tags, note) are sealed as the objects are, so a copy of the whole directory tells no
// more than the objects. The plain repository shows them, so the check can fail.
TEST_F(Encrypted, TheIndexBesideTheObjectsHoldsNoSnapshotMetadataInTheClear) {
    const std::string src = dir / "Src-Folder-Secret-Path";
    ::mkdir(src.c_str(), 0755);
    write_file(src + "/a.txt", "alpha");
    const std::vector<std::string> extra = {
        "--tag", "Secret-Tag-Value", "--note", "Secret note text", "--host", "secret-host-name"};
    Ingested i = ingest(repo, {src}, extra, with_password({}));
    ASSERT_EQ(i.run.exit_code, 0) << describe(i.run);
    // Read back from the index: listed with its metadata, found by tag.
    RunResult r = strata({"snapshots", "--tag", "Secret-Tag-Value", repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find(i.id.substr(0, 8)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("secret-host-name"), std::string::npos) << r.out;
    auto found_anywhere = [](const std::string& root, const std::string& needle) {
        std::vector<std::string> files;
        files_below(root, "", files);
        for (const auto& rel : files)
            if (read_file(root + "/" + rel).find(needle) != std::string::npos) return rel;
        return std::string();
    };
    ASSERT_TRUE(std::filesystem::exists(repo + "/index/data.mdb"));
    for (const char* secret :
         {"Src-Folder-Secret-Path", "Secret-Tag-Value", "Secret note text", "secret-host-name"})
        EXPECT_EQ(found_anywhere(repo + "/index", secret), "") << secret;
    // repair-index rebuilds it sealed too.
    ASSERT_EQ(strata({"repair-index", repo}).exit_code, 0);
    EXPECT_EQ(found_anywhere(repo + "/index", "Secret-Tag-Value"), "");
    EXPECT_EQ(strata({"snapshots", "--tag", "Secret-Tag-Value", repo}).exit_code, 0);

    const std::string plain = dir / "plain";
    init_repo(plain);
    ASSERT_EQ(ingest(plain, {src}, extra).run.exit_code, 0);
    EXPECT_NE(found_anywhere(plain + "/index", "Secret-Tag-Value"), "");
}

TEST_F(Encrypted, IngestRestoreVerifyAndTheMountWork) {
    make_every_kind_tree(dir / "src");
    write_random_file(dir / "src/big.bin", 5 << 20, 7);
    const std::string id = ingest_ok(dir / "src");
    ASSERT_FALSE(id.empty());
    write_file(dir / "src/new.txt", "second");
    const std::string second = ingest_ok(dir / "src");
    ASSERT_FALSE(second.empty());

    RunResult r = strata({"restore", repo, second, dir / "out"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(dir / "src", dir / "out"), "");
    r = strata({"verify", "--read-data", repo});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    r = strata({"stats", "--json", repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(Json::parse(r.out)["encryption"], "aes-256-gcm");
    r = strata({"snapshots", repo});
    EXPECT_EQ(r.out.find("not encrypted"), std::string::npos) << r.out;
    // Dedup: the second snapshot added only the new file.
    r = strata({"snapshots", "--json", repo});
    Json snaps = Json::parse(r.out);
    ASSERT_EQ(snaps.size(), 2u);
    EXPECT_LT(snaps[1]["bytes_added"].get<std::uint64_t>(), 64u << 10) << r.out;

    SKIP_WITHOUT_FUSE();
    const std::string mnt = dir / "mnt";
    ::mkdir(mnt.c_str(), 0755);
    {
        MountProcess m(repo, mnt, {"--password-file", pw});
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/new.txt"), "second");
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/big.bin"), read_file(dir / "src/big.bin"));
    }
    {  // as mount(8) and fstab give it: -o password_file=
        MountProcess m(repo, mnt, {"-o", "password_file=" + pw});
        EXPECT_EQ(read_file(mnt + "/snapshots/latest/big.bin").size(), 5u << 20);
    }
}

TEST_F(Encrypted, ThePlainRepositorySaysItIsNotEncrypted) {
    const std::string plain = dir / "plain";
    init_repo(plain);
    RunResult r = run_strata({"snapshots", plain});
    EXPECT_NE(r.out.find("0 snapshots (the repository is not encrypted)"), std::string::npos)
        << r.out;
    r = run_strata({"stats", "--json", plain});
    EXPECT_EQ(Json::parse(r.out)["encryption"], "none");
    EXPECT_EQ(read_file(plain + "/config").find("encryption"), std::string::npos);
}

TEST_F(Encrypted, AWrongOrMissingPasswordIsAClearErrorWithExitCodeOne) {
    write_file(dir / "wrong", "Tr0ub4dor&3\n");
    RunResult r = run_strata({"snapshots", repo}, {"STRATA_PASSWORD_FILE=" + (dir / "wrong")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("wrong password for the repository " + repo), std::string::npos) << r.err;
    r = run_strata({"snapshots", repo},
                   {"STRATA_PASSWORD_FILE", "STRATA_PASSWORD", "STRATA_PASSWORD_COMMAND"});
    EXPECT_EQ(r.exit_code, 1);
    for (const char* where : {"--password-file", "$STRATA_PASSWORD_FILE",
                              "$STRATA_PASSWORD_COMMAND", "$STRATA_PASSWORD"})
        EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
    // Every other source, in its order of precedence.
    const std::string right = "correct horse battery staple";
    EXPECT_EQ(run_strata({"snapshots", repo}, {"STRATA_PASSWORD=" + right}).exit_code, 0);
    EXPECT_EQ(
        run_strata({"snapshots", repo}, {"STRATA_PASSWORD_COMMAND=printf '%s\\n' '" + right + "'"})
            .exit_code,
        0);
    r = run_strata({"snapshots", repo}, {"STRATA_PASSWORD_COMMAND=exit 3"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("failed with exit status 3"), std::string::npos) << r.err;
    // --password-file before the variables.
    r = run_strata({"snapshots", "--password-file", pw, repo},
                   {"STRATA_PASSWORD_FILE=" + (dir / "wrong")});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    r = run_strata({"snapshots", repo}, {"STRATA_PASSWORD_FILE=" + (dir / "missing")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(dir / "missing"), std::string::npos) << r.err;
    // A new repository without a password says how to give one or choose none.
    r = run_strata({"init", dir / "other"}, {"STRATA_PASSWORD_FILE", "STRATA_PASSWORD"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--encryption none"), std::string::npos) << r.err;
}

TEST_F(Encrypted, KeysAreAddedRemovedAndChangedWithoutTouchingData) {
    ::mkdir((dir / "src").c_str(), 0755);
    write_file(dir / "src/a.txt", "alpha");
    const std::string id = ingest_ok(dir / "src");
    std::vector<std::string> before;
    files_below(repo, "", before, {"index", "locks", "tmp", "keys"});

    write_file(dir / "second", "a second password\n");
    RunResult r =
        strata({"key", "add", repo, "--new-password-file", dir / "second", "--kdf-memory", "8"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = run_strata({"cat", repo, id, "a.txt"}, {"STRATA_PASSWORD_FILE=" + (dir / "second")});
    EXPECT_EQ(r.out, "alpha") << describe(r);
    r = strata({"key", "list", "--json", repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json keys = Json::parse(r.out);
    ASSERT_EQ(keys.size(), 2u);
    // The first key is the one the first password opens (both may be made in the same second).
    std::string first;
    for (const auto& k : keys) {
        EXPECT_EQ(k["kdf"]["memory_kib"], 8192);
        if (k["current"].get<bool>()) first = k["id"].get<std::string>();
    }
    ASSERT_EQ(first.size(), 64u) << r.out;

    // passwd with the second password: the second stops working, the first and the new one work.
    write_file(dir / "third", "a third password\n");
    r = run_strata(
        {"key", "passwd", repo, "--new-password-file", dir / "third", "--kdf-memory", "8"},
        {"STRATA_PASSWORD_FILE=" + (dir / "second")});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(
        run_strata({"snapshots", repo}, {"STRATA_PASSWORD_FILE=" + (dir / "second")}).exit_code, 1);
    EXPECT_EQ(
        run_strata({"cat", repo, id, "a.txt"}, {"STRATA_PASSWORD_FILE=" + (dir / "third")}).out,
        "alpha");

    // remove the first key: it stops working; the last usable key cannot be removed.
    r = run_strata({"key", "remove", repo, first.substr(0, 8)},
                   {"STRATA_PASSWORD_FILE=" + (dir / "third")});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(strata({"snapshots", repo}).exit_code, 1);
    r = run_strata({"key", "list", "--json", repo}, {"STRATA_PASSWORD_FILE=" + (dir / "third")});
    const std::string last = Json::parse(r.out)[0]["id"].get<std::string>();
    r = run_strata({"key", "remove", repo, last}, {"STRATA_PASSWORD_FILE=" + (dir / "third")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("only usable key"), std::string::npos) << r.err;

    // No data object changed.
    std::vector<std::string> after;
    files_below(repo, "", after, {"index", "locks", "tmp", "keys"});
    EXPECT_EQ(before, after);
}

TEST_F(Encrypted, AKeyObjectFromAnotherRepositoryDoesNotOpenIt) {
    const std::string other = dir / "other";
    ASSERT_EQ(run_strata({"init", "--password-file", dir / "pw2", "--kdf-memory", "8", other},
                         {"STRATA_PASSWORD=x"})
                  .exit_code,
              1);  // no such file: the password file is checked
    write_file(dir / "pw2", "other password\n");
    ASSERT_EQ(
        run_strata({"init", "--password-file", dir / "pw2", "--kdf-memory", "8", other}).exit_code,
        0);
    // The other repository's key object, copied into this one, with its password.
    for (const auto& k : list_dir(other + "/keys"))
        write_file(repo + "/keys/" + k, read_file(other + "/keys/" + k));
    RunResult r = run_strata({"snapshots", repo}, {"STRATA_PASSWORD_FILE=" + (dir / "pw2")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("wrong password"), std::string::npos) << r.err;
    r = strata({"key", "list", repo});
    EXPECT_NE(r.out.find("belongs to another repository"), std::string::npos) << describe(r);
}

// Every stored object damaged at a spread of places, one at a time, and two snapshot records
// and two packs swapped: restore either fails naming what it could not read or restores exactly
// the original, and verify --read-data always reports damage.
TEST_F(Encrypted, DamageAndSwappedObjectsAreDetectedNeverWrongPlaintext) {
    ::mkdir((dir / "src").c_str(), 0755);
    write_random_file(dir / "src/a.bin", 300000, 1);
    write_file(dir / "src/b.txt", "bravo");
    ingest_ok(dir / "src");
    write_random_file(dir / "src/c.bin", 300000, 2);
    const std::string second = ingest_ok(dir / "src");
    ASSERT_FALSE(second.empty());

    std::vector<std::string> objects;
    for (const auto& o : stored_objects(repo))
        if (o.rfind("packs/", 0) == 0 || o.rfind("snapshots/", 0) == 0) objects.push_back(o);
    ASSERT_GE(objects.size(), 4u);
    int restore_n = 0;
    for (const auto& rel : objects) {
        const std::string path = repo + "/" + rel;
        const std::string original = read_file(path);
        for (std::size_t k = 0; k < 8; ++k) {
            std::string damaged = original;
            const std::size_t at = k * (original.size() - 1) / 7;
            damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
            write_file(path, damaged);
            const std::string target = dir / ("r" + std::to_string(restore_n++));
            RunResult r = strata({"restore", repo, second, target});
            if (r.exit_code == 0) {
                EXPECT_EQ(tree_differences(dir / "src", target), "")
                    << "wrong plaintext after flipping byte " << at << " of " << rel;
            }
            remove_tree(target);
            r = strata({"verify", "--read-data", repo});
            EXPECT_NE(r.exit_code, 0)
                << "a flipped byte " << at << " of " << rel << " went unnoticed: " << describe(r);
            write_file(path, original);
        }
    }
    ASSERT_EQ(strata({"verify", "--read-data", repo}).exit_code, 0);
    // Swaps within a kind.
    for (const char* kind : {"snapshots/", "packs/"}) {
        std::vector<std::string> same;
        for (const auto& o : objects)
            if (o.rfind(kind, 0) == 0) same.push_back(o);
        if (same.size() < 2) continue;
        const std::string a = read_file(repo + "/" + same[0]), b = read_file(repo + "/" + same[1]);
        write_file(repo + "/" + same[0], b);
        write_file(repo + "/" + same[1], a);
        RunResult r = strata({"restore", repo, second, dir / "swapped"});
        if (r.exit_code == 0) {
            EXPECT_EQ(tree_differences(dir / "src", dir / "swapped"), "");
        }
        remove_tree(dir / "swapped");
        r = strata({"verify", "--read-data", repo});
        EXPECT_NE(r.exit_code, 0) << "swapping " << same[0] << " and " << same[1]
                                  << " went unnoticed: " << describe(r);
        write_file(repo + "/" + same[0], a);
        write_file(repo + "/" + same[1], b);
    }
}

// `verify --without-password`: what a host that holds the storage but not the password can
// check. Asks for no password; finds every flipped byte of a pack with --read-data (the pack's
// SHA-256 is its name), a pack's footer or trailer length without it, a swapped pack, a sealed
// record cut short, and a repository left without a sound key object.
TEST_F(Encrypted, VerifyWithoutThePasswordChecksWhatNeedsNoKey) {
    ::mkdir((dir / "src").c_str(), 0755);
    write_random_file(dir / "src/a.bin", 300000, 1);
    ingest_ok(dir / "src");
    write_random_file(dir / "src/c.bin", 300000, 2);
    ingest_ok(dir / "src");
    const std::vector<std::string> no_password = {"STRATA_PASSWORD_FILE", "STRATA_PASSWORD",
                                                  "STRATA_PASSWORD_COMMAND"};
    auto keyless = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = {"verify", "--without-password"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(repo);
        return run_strata(args, no_password);
    };
    RunResult r = run_strata({"verify", repo}, no_password);
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("--without-password"), std::string::npos) << "the way out: " << r.err;
    r = keyless({"--read-data"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("checked without the password"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no damage found"), std::string::npos) << r.out;
    EXPECT_EQ(run_strata({"verify", "--without-password", "--password-file", pw, repo}).exit_code,
              2);

    std::vector<std::string> packs, records;
    for (const auto& o : stored_objects(repo)) {
        if (o.rfind("packs/", 0) == 0) packs.push_back(o);
        if (o.rfind("snapshots/", 0) == 0) records.push_back(o);
    }
    ASSERT_GE(packs.size(), 2u);
    ASSERT_EQ(records.size(), 2u);
    auto problems_of = [](const RunResult& run) {
        std::vector<std::pair<std::string, std::string>> out;
        const Json report = Json::parse(run.out);
        for (const auto& p : report["problems"])
            out.emplace_back(p["kind"].get<std::string>(), p["object"].get<std::string>());
        return out;
    };
    using Problem = std::pair<std::string, std::string>;
    for (const auto& rel : packs) {
        const std::string path = repo + "/" + rel;
        const std::string original = read_file(path);
        for (std::size_t k = 0; k < 8; ++k) {
            std::string damaged = original;
            const std::size_t at = k * (original.size() - 1) / 7;
            damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
            write_file(path, damaged);
            r = keyless({"--read-data", "--json"});
            EXPECT_EQ(r.exit_code, 1) << "byte " << at << " of " << rel << ": " << describe(r);
            const auto found = problems_of(r);
            EXPECT_EQ(found.size(), 1u) << r.out;
            if (!found.empty()) EXPECT_EQ(found[0].second, rel) << r.out;
            if (at >= original.size() - 44) {  // the footer: found without reading the pack
                EXPECT_EQ(keyless({}).exit_code, 1) << "byte " << at << " of " << rel;
            }
        }
        write_file(path, original);
    }
    // Two packs swapped: each one's content is no longer what its name says.
    const std::string a = read_file(repo + "/" + packs[0]), b = read_file(repo + "/" + packs[1]);
    write_file(repo + "/" + packs[0], b);
    write_file(repo + "/" + packs[1], a);
    r = keyless({"--json"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(problems_of(r),
              (std::vector<Problem>{{"pack-checksum", packs[0]}, {"pack-checksum", packs[1]}}));
    write_file(repo + "/" + packs[0], a);
    write_file(repo + "/" + packs[1], b);

    // A record cut short; a pack cut short.
    ASSERT_EQ(::truncate((repo + "/" + records[0]).c_str(),
                         static_cast<off_t>(read_file(repo + "/" + records[0]).size() - 1)),
              0);
    r = keyless({"--json"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_EQ(problems_of(r), (std::vector<Problem>{{"sealed-object", records[0]}}));
    ASSERT_EQ(::truncate((repo + "/" + packs[0]).c_str(), static_cast<off_t>(a.size() - 100)), 0);
    r = keyless({});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.out.find(packs[0]), std::string::npos) << r.out;

    // No key object left: nobody can open it, and that is said.
    remove_tree(repo + "/keys");
    r = keyless({"--json"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    bool keys_reported = false;
    for (const auto& p : problems_of(r)) keys_reported |= p == Problem{"key-object", "keys/"};
    EXPECT_TRUE(keys_reported) << r.out;

    // A plain repository needs no password: checked whole, and said so.
    const std::string plain = dir / "plain";
    ASSERT_EQ(run_strata({"init", "--encryption", "none", plain}).exit_code, 0);
    r = run_strata({"verify", "--without-password", plain}, no_password);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("not encrypted: it was checked whole"), std::string::npos) << r.out;
}

// A plain repository's snapshots copied into an encrypted one, and from there into another
// encrypted one with another key: encrypted again under the destination's keys, exact when
// restored, and a second copy sends nothing.
TEST_F(Encrypted, CopyReencryptsFromAPlainRepositoryAndBetweenKeys) {
    const std::string plain = dir / "plain";
    init_repo(plain);
    make_every_kind_tree(dir / "src");
    write_random_file(dir / "src/big.bin", 3 << 20, 9);
    ASSERT_EQ(ingest(plain, {dir / "src"}).run.exit_code, 0);
    write_file(dir / "src/later.txt", "later");
    ASSERT_EQ(ingest(plain, {dir / "src"}).run.exit_code, 0);

    RunResult r = strata({"copy", "--json", plain, repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    Json copied = Json::parse(r.out);
    ASSERT_EQ(copied.size(), 2u);
    EXPECT_NE(copied[0]["id"], copied[0]["source_id"]);  // encoded again: another id
    EXPECT_GT(copied[0]["bytes_sent"].get<std::uint64_t>(), 3u << 20);
    EXPECT_LT(copied[1]["bytes_sent"].get<std::uint64_t>(), 64u << 10);  // dedup across them
    r = strata({"restore", repo, "latest", dir / "out"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(dir / "src", dir / "out"), "");
    EXPECT_EQ(strata({"verify", "--read-data", repo}).exit_code, 0);

    r = strata({"copy", "--json", plain, repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    for (const auto& c : Json::parse(r.out)) {
        EXPECT_TRUE(c["already_there"].get<bool>()) << r.out;
        EXPECT_EQ(c["bytes_sent"], 0) << r.out;
    }
    EXPECT_EQ(snapshot_ids_with(repo, with_password({})).size(), 2u);

    // Into another encrypted repository, whose password differs: --from-password-file.
    const std::string other = dir / "other";
    write_file(dir / "pw2", "the other one\n");
    ASSERT_EQ(
        run_strata({"init", "--password-file", dir / "pw2", "--kdf-memory", "8", other}).exit_code,
        0);
    r = run_strata(
        {"copy", "--from-password-file", pw, "--password-file", dir / "pw2", repo, other});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = run_strata({"restore", "--password-file", dir / "pw2", other, "latest", dir / "out2"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(tree_differences(dir / "src", dir / "out2"), "");
}

// The repository put back to an older copy of itself: the snapshots this host saw since are
// reported as gone without a forget, on every command until the state file is removed; a
// snapshot removed by `forget` is not reported.
TEST_F(Encrypted, ARollbackOfTheRepositoryIsReportedAndAForgetIsNot) {
    // This test's own cache folder, where the state of rollback_check.h is kept.
    const std::string cache = dir / "cache";
    auto strata = [&](std::vector<std::string> args) {
        args.insert(args.begin() + 1, {"--cache-dir", cache});
        return run_strata(args, with_password({}));
    };
    ::mkdir((dir / "src").c_str(), 0755);
    write_file(dir / "src/a.txt", "one");
    ingest_ok(dir / "src");
    const std::string old_copy = dir / "old-copy";
    std::filesystem::copy(repo, old_copy, std::filesystem::copy_options::recursive);
    write_file(dir / "src/a.txt", "two");
    const std::string second = ingest_ok(dir / "src");
    write_file(dir / "src/a.txt", "three");
    const std::string third = ingest_ok(dir / "src");
    RunResult r = strata({"snapshots", repo});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << r.err;

    r = strata({"forget", repo, third});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    r = strata({"snapshots", repo});
    EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << "a forget is no rollback: " << r.err;

    remove_tree(repo);
    std::filesystem::copy(old_copy, repo, std::filesystem::copy_options::recursive);
    for (int i = 0; i < 2; ++i) {  // told every time
        r = strata({"snapshots", repo});
        EXPECT_NE(r.err.find("WARNING: snapshot " + second.substr(0, 8)), std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("gone without a forget"), std::string::npos) << r.err;
    }
    // A record deleted by hand, in a repository that was not rolled back: the same.
    remove_tree(cache);
    r = strata({"snapshots", repo});
    EXPECT_EQ(r.err.find("WARNING"), std::string::npos) << "accepted as it is: " << r.err;
    for (const auto& name : list_dir(repo + "/snapshots"))
        ::unlink((repo + "/snapshots/" + name).c_str());
    r = strata({"snapshots", repo});
    EXPECT_NE(r.err.find("gone without a forget"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::testing
