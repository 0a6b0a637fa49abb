// The repository's own files are readable by their owner only: after init, ingest, forget, prune
// and repair-index, every file under the repository is 0600 and every directory 0700, whatever
// the umask (022 and 000 tried), LMDB's data.mdb and lock.mdb included.
#include <dirent.h>
#include <sys/stat.h>

#include <cstring>

#include "tests/e2e/e2e_support.h"

namespace strata::testing {
namespace {

// Every path under `root` (itself included) whose permission bits are not 0600 (files) or 0700
// (directories), with its mode, one per line; also counts what was looked at.
void collect_loose_modes(const std::string& path, std::string& loose, int& files, int& dirs) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
        loose += path + ": cannot stat: " + std::strerror(errno) + "\n";
        return;
    }
    const mode_t bits = st.st_mode & 07777;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(bits));
    if (S_ISDIR(st.st_mode)) {
        ++dirs;
        if (bits != 0700) loose += path + ": directory mode " + mode + "\n";
        DIR* d = ::opendir(path.c_str());
        if (!d) return;
        while (dirent* e = ::readdir(d))
            if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
                collect_loose_modes(path + "/" + e->d_name, loose, files, dirs);
        ::closedir(d);
    } else {
        ++files;
        if (!S_ISREG(st.st_mode))
            loose += path + ": not a regular file\n";
        else if (bits != 0600)
            loose += path + ": file mode " + mode + "\n";
    }
}

class RepositoryModes : public ::testing::TestWithParam<mode_t> {};

TEST_P(RepositoryModes, EveryFileIs0600AndEveryDirectory0700) {
    TempDir dir;
    const std::string repo = dir / "repo", src = dir / "src";
    ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
    write_random_file(src + "/big.bin", 3u << 20, 1);
    write_file(src + "/small.txt", "small\n");
    const mode_t old = ::umask(GetParam());
    init_repo(repo);
    Ingested first = ingest(repo, {src});
    write_file(src + "/added-later.txt", "more\n");
    Ingested second = ingest(repo, {src});
    RunResult forget = run_strata({"forget", repo, first.id});
    RunResult prune = run_strata({"prune", repo, "--grace", "0"});
    RunResult repair = run_strata({"repair-index", repo});
    RunResult verify = run_strata({"verify", repo});
    ::umask(old);
    ASSERT_EQ(first.run.exit_code, 0) << describe(first.run);
    ASSERT_EQ(second.run.exit_code, 0) << describe(second.run);
    EXPECT_EQ(forget.exit_code, 0) << describe(forget);
    EXPECT_EQ(prune.exit_code, 0) << describe(prune);
    EXPECT_EQ(repair.exit_code, 0) << describe(repair);
    EXPECT_EQ(verify.exit_code, 0) << describe(verify);

    std::string loose;
    int files = 0, dirs = 0;
    collect_loose_modes(repo, loose, files, dirs);
    EXPECT_EQ(loose, "") << "umask " << std::oct << GetParam();
    // What must have been looked at: config, data.mdb, lock.mdb, locks/writer, a pack, a snapshot.
    for (const char* p :
         {"/config", "/index/data.mdb", "/index/lock.mdb", "/locks/writer", "/snapshots"})
        EXPECT_EQ(::access((repo + p).c_str(), F_OK), 0) << p;
    EXPECT_GE(files, 6);
    EXPECT_GE(dirs, 6);
}

INSTANTIATE_TEST_SUITE_P(Umask, RepositoryModes, ::testing::Values(mode_t{022}, mode_t{0}),
                         [](const auto& info) {
                             return info.param == 0 ? "umask000" : "umask022";
                         });

}  // namespace
}  // namespace strata::testing
