// mount(8) and fstab through the installed helper: `mount -t strata`, an fstab line (the issue's,
// with noauto and x-systemd.* options), `mount -a -T`, type fuse.strata and `strata#SOURCE` through
// mount.fuse3. Each scenario runs from an installed tree inside a private mount namespace (so
// mount(8) finds /sbin/mount.strata there and nowhere else), checks the mount answers the moment
// mount(8) returns, and unmounts, checking the mount's process ends.
#include <gtest/gtest.h>

#include "tests/e2e/systemd_test_support.h"

namespace strata::testing {
namespace {

class MountHelperMount : public ::testing::Test {
  protected:
    void SetUp() override {
        SKIP_IF_REASON(why_no_system_mount());
        SKIP_IF_REASON(why_no_mount_namespace());
        ASSERT_INSTALLED(tree);
        ASSERT_FALSE(sample.snapshot_id.empty());
    }

    // Runs `script` in the namespace with REPO and MNT set and MNT unmounted at the end.
    RunResult run(const std::string& script) {
        std::string vars =
            "REPO='" + sample.repo + "'\nMNT='" + sample.mnt + "'\nmounts=(\"$MNT\")\n";
        // What every scenario checks right after mount(8) returned, without waiting or retrying:
        // the mount is in the table, read-only, and serves the snapshot and a file's bytes.
        vars += R"SH(check_serving() {
    grep -F " $MNT " /proc/self/mountinfo | grep -q " - fuse.strata strata:$REPO ro," && echo "mounted ro"
    ls "$MNT/snapshots" | sed 's/^/listed /'
    echo "content $(cat "$MNT/snapshots/latest/hello.txt")"
}
unmount_and_wait() {
    umount "$MNT" && echo "unmounted"
    wait_gone "$MNT" && echo "process ended"
    mountpoint -q "$MNT" || echo "nothing mounted"
}
)SH";
        return run_in_mount_namespace(tree, sample.dir.path(), vars + script);
    }

    void expect_served_and_unmounted(const RunResult& r) {
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        EXPECT_NE(r.out.find("mounted ro\n"), std::string::npos) << r.out << r.err;
        EXPECT_NE(r.out.find("listed latest\n"), std::string::npos) << r.out << r.err;
        EXPECT_NE(r.out.find("content hello from strata\n"), std::string::npos) << r.out << r.err;
        EXPECT_NE(r.out.find("unmounted\nprocess ended\nnothing mounted\n"), std::string::npos)
            << r.out << r.err;
        EXPECT_TRUE(strata_mount_line(sample.mnt).empty()) << "a mount leaked out of the namespace";
    }

    InstalledTree tree;
    SampleRepository sample;
};

TEST_F(MountHelperMount, MountTypeStrataWithOptionsServesOnReturn) {
    RunResult r = run(R"SH(
mount -t strata "$REPO" "$MNT" -o allow_other,cache_size=512M
grep -F " $MNT " /proc/self/mountinfo | grep -q "allow_other" && echo "allow_other on"
check_serving
unmount_and_wait
)SH");
    expect_served_and_unmounted(r);
    EXPECT_NE(r.out.find("allow_other on\n"), std::string::npos) << r.out;
}

TEST_F(MountHelperMount, FstabLineWithSystemdOptions) {
    // The issue's line: noauto keeps it out of `mount -a`; naming the mountpoint mounts it.
    RunResult r = run(R"SH(
fstab=$WORK/fstab
echo "$REPO $MNT strata ro,noauto,x-systemd.automount,x-systemd.idle-timeout=10min,allow_other 0 0" >"$fstab"
mount -a -T "$fstab"
mountpoint -q "$MNT" || echo "noauto respected"
mount -T "$fstab" "$MNT"
check_serving
unmount_and_wait
)SH");
    expect_served_and_unmounted(r);
    EXPECT_NE(r.out.find("noauto respected\n"), std::string::npos) << r.out;
}

TEST_F(MountHelperMount, MountAllFromFstabWithGenericOptions) {
    RunResult r = run(R"SH(
fstab=$WORK/fstab
echo "$REPO $MNT strata defaults,nofail,_netdev,nosuid,nodev,noatime,comment=backups,x-systemd.requires=local-fs.target 0 0" >"$fstab"
mount -a -T "$fstab"
check_serving
unmount_and_wait
)SH");
    expect_served_and_unmounted(r);
}

TEST_F(MountHelperMount, FuseStrataThroughMountFuse3) {
    SKIP_IF_REASON(exists("/sbin/mount.fuse3") ? "" : "mount.fuse3 is not installed");
    // No mount.fuse.strata exists, so mount(8) runs mount.fuse, which runs `strata SOURCE
    // MOUNTPOINT -o ...,dev,suid`.
    RunResult r = run(R"SH(
[ ! -e /sbin/mount.fuse.strata ] && echo "through mount.fuse3"
mount -t fuse.strata "$REPO" "$MNT" -o allow_other,nofail
check_serving
unmount_and_wait
)SH");
    expect_served_and_unmounted(r);
    EXPECT_NE(r.out.find("through mount.fuse3\n"), std::string::npos) << r.out;
}

TEST_F(MountHelperMount, TypeHashSourceThroughMountFuse3) {
    SKIP_IF_REASON(exists("/sbin/mount.fuse3") ? "" : "mount.fuse3 is not installed");
    RunResult r = run(R"SH(
mount -t fuse "strata#$REPO" "$MNT"
check_serving
unmount_and_wait
)SH");
    expect_served_and_unmounted(r);
}

TEST_F(MountHelperMount, FailuresReachMountWithTheReason) {
    RunResult r = run(R"SH(
rc=0; mount -t strata "$REPO" "$MNT" -o bogus_option 2>"$WORK/err1" || rc=$?
echo "bogus rc=$rc"; cat "$WORK/err1"
rc=0; mount -t strata "$WORK/no-such-repo" "$MNT" 2>"$WORK/err2" || rc=$?
echo "missing rc=$rc"; cat "$WORK/err2"
mountpoint -q "$MNT" || echo "nothing mounted"
)SH");
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_NE(r.out.find("bogus rc=1\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("unknown mount option \"bogus_option\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("missing rc=32\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("mount.strata: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/no-such-repo does not exist; create it with `strata init "),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("nothing mounted\n"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace strata::testing
