// The installed mount.strata run directly, as mount(8) runs it: which options it applies, which
// it ignores, which it refuses (and with what exit code), -f/-s/-v/-N, the same translation for
// `strata SOURCE MOUNTPOINT` (mount.fuse3's call), and a real mount that answers the moment the
// helper returns.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/e2e/systemd_test_support.h"

namespace strata::testing {
namespace {

class MountHelperOptions : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_INSTALLED(tree);
        ASSERT_FALSE(sample.snapshot_id.empty());
    }
    RunResult helper(std::vector<std::string> args) {
        args.insert(args.begin(), tree.mount_helper());
        return run_process(args);
    }

    InstalledTree tree;
    SampleRepository sample;
};

TEST_F(MountHelperOptions, FakeMountTranslatesStrataOptionsAndIgnoresMountTableOnes) {
    SKIP_IF_REASON(why_no_system_mount());  // -f still checks /dev/fuse
    const std::string generic =
        "ro,rw,defaults,noauto,auto,nofail,_netdev,user,users,nouser,x-systemd.automount,"
        "x-systemd.idle-timeout=10min,x-systemd.requires=foo.service,comment=backups,dev,suid,"
        "nodev,nosuid,exec,noexec,noatime,relatime";
    RunResult r = helper({sample.repo, sample.mnt, "-f", "-v", "-n", "-o",
                          generic + ",allow_other,cache_size=512M"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("would mount " + sample.repo + " at " + sample.mnt +
                         " read-only (allow_other=yes, cache_size=536870912)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("ignoring " + generic + " ("), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nothing mounted (-f)"), std::string::npos) << r.out;
    EXPECT_TRUE(strata_mount_line(sample.mnt).empty());
    EXPECT_TRUE(list_dir(sample.mnt).empty());
}

TEST_F(MountHelperOptions, UnknownOptionIsRefusedByNameUnlessSloppy) {
    SKIP_IF_REASON(why_no_system_mount());
    RunResult r = helper({sample.repo, sample.mnt, "-o", "allow_other,uid=1000"});
    EXPECT_EQ(r.exit_code, 1) << describe(r);
    EXPECT_NE(r.err.find("unknown mount option \"uid=1000\""), std::string::npos) << r.err;
    EXPECT_TRUE(strata_mount_line(sample.mnt).empty());

    RunResult sloppy =
        helper({sample.repo, sample.mnt, "-s", "-f", "-v", "-o", "uid=1000,allow_other"});
    EXPECT_EQ(sloppy.exit_code, 0) << describe(sloppy);
    EXPECT_NE(sloppy.err.find("skipping unknown option \"uid=1000\" (-s)"), std::string::npos)
        << sloppy.err;
    EXPECT_NE(sloppy.out.find("allow_other=yes"), std::string::npos) << sloppy.out;
}

TEST_F(MountHelperOptions, BadInvocationsExitOneWithTheReason) {
    struct Case {
        std::vector<std::string> args;
        std::string says;
    } cases[] = {
        {{}, "no REPOSITORY and MOUNTPOINT given"},
        {{sample.repo}, "no MOUNTPOINT given"},
        {{sample.repo, sample.mnt, "extra"}, "too many arguments"},
        {{sample.repo, sample.mnt, "-o"}, "-o needs a value"},
        {{sample.repo, sample.mnt, "-x"}, "unknown flag -x"},
        {{sample.repo, sample.mnt, "-o", "remount"}, "remount is not supported"},
        {{sample.repo, sample.mnt, "-o", "cache_size=lots"}, "\"lots\" is not a size"},
        {{sample.repo, "/dev/fd/3"}, "drop_privileges"},
    };
    for (const auto& c : cases) {
        RunResult r = helper(c.args);
        EXPECT_EQ(r.exit_code, 1) << describe(r);
        EXPECT_NE(r.err.find(c.says), std::string::npos)
            << "expected \"" << c.says << "\" in: " << r.err;
        EXPECT_NE(r.err.find("usage: mount.strata"), std::string::npos) << r.err;
    }
    RunResult help = helper({"-h"});
    EXPECT_EQ(help.exit_code, 0) << describe(help);
    EXPECT_NE(help.out.find("x-systemd.*"), std::string::npos) << help.out;
}

TEST_F(MountHelperOptions, MountFailuresExitThirtyTwoWithWhatToDo) {
    SKIP_IF_REASON(why_no_system_mount());
    ::mkdir((sample.dir / "not-empty").c_str(), 0755);
    write_file(sample.dir / "not-empty/file", "");
    RunResult busy = helper({sample.repo, sample.dir / "not-empty"});
    EXPECT_EQ(busy.exit_code, 32) << describe(busy);
    EXPECT_NE(busy.err.find("is not empty"), std::string::npos) << busy.err;

    RunResult missing = helper({sample.repo, sample.dir / "no-such-dir", "-f"});
    EXPECT_EQ(missing.exit_code, 32) << describe(missing);
    EXPECT_NE(missing.err.find("mkdir -p"), std::string::npos) << missing.err;

    RunResult norepo = helper({sample.dir / "src", sample.mnt, "-f"});
    EXPECT_EQ(norepo.exit_code, 32) << describe(norepo);
    EXPECT_NE(norepo.err.find(sample.dir / "src"), std::string::npos) << norepo.err;

    RunResult bad_ns = helper({sample.repo, sample.mnt, "-f", "-N", sample.dir / "no-namespace"});
    EXPECT_EQ(bad_ns.exit_code, 32) << describe(bad_ns);
    EXPECT_NE(bad_ns.err.find("cannot open mount namespace"), std::string::npos) << bad_ns.err;
    EXPECT_TRUE(strata_mount_line(sample.mnt).empty());
}

TEST_F(MountHelperOptions, NamespaceByPidOrFile) {
    SKIP_IF_REASON(why_no_system_mount());
    for (const std::string& ns : {std::to_string(::getpid()), std::string("/proc/self/ns/mnt")}) {
        RunResult r = helper({sample.repo, sample.mnt, "-f", "-N", ns});
        EXPECT_EQ(r.exit_code, 0) << ns << ": " << describe(r);
    }
}

TEST_F(MountHelperOptions, ReturnsOnlyOnceTheMountServes) {
    SKIP_IF_REASON(why_no_system_mount());
    MountGuard guard(sample.mnt);
    RunResult r = helper({sample.repo, sample.mnt, "-o", "rw,allow_other,cache_size=32M"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    // No polling: the helper has returned, so the mount must answer now.
    std::string line = strata_mount_line(sample.mnt);
    EXPECT_NE(line.find(" ro,"), std::string::npos) << line;  // rw was ignored: read-only
    EXPECT_NE(line.find("allow_other"), std::string::npos) << line;
    EXPECT_EQ(list_dir(sample.mnt + "/snapshots").size(), 2u);  // the snapshot and latest
    EXPECT_EQ(read_file(sample.mnt + "/snapshots/latest/sub/deep.txt"), "deep\n");
}

TEST_F(MountHelperOptions, StrataTakesMountFuse3sCall) {
    SKIP_IF_REASON(why_no_system_mount());
    MountGuard guard(sample.mnt);
    // What mount.fuse3 runs for `mount -t fuse.strata REPO MNT -o allow_other`.
    RunResult r =
        run_process({tree.strata(), sample.repo, sample.mnt, "-o", "rw,allow_other,dev,suid"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_FALSE(strata_mount_line(sample.mnt).empty());
    EXPECT_EQ(read_file(sample.mnt + "/snapshots/latest/hello.txt"), "hello from strata\n");

    // A mistyped command is still a mistyped command, not a mount.
    RunResult typo = run_process({tree.strata(), "mnt", sample.repo, sample.mnt});
    EXPECT_EQ(typo.exit_code, 2) << describe(typo);
    EXPECT_NE(typo.err.find("unknown command \"mnt\""), std::string::npos) << typo.err;
}

}  // namespace
}  // namespace strata::testing
