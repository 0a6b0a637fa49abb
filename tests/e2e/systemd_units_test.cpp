// The installed units: `systemd-analyze verify` accepts them (and is shown to reject a broken
// one here, so its silence means something); they name the installed programs; the fstab line of
// docs/systemd.md becomes a .mount + .automount pair through systemd's own fstab generator, and
// those and the example pair verify too. And why strata-mount@.service has no file-system
// sandbox: a mount made in a mount namespace set up as systemd does it is invisible outside.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "tests/e2e/systemd_test_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;

std::string why_no_systemd_analyze() {
    if (!on_path("systemd-analyze"))
        return "systemd-analyze is not installed (apt-get install systemd; .ci/install-deps does)";
    return "";
}

// systemd-analyze verify FILES...; man pages looked up in the installed tree (or not at all if
// man is missing, since verify then fails on every Documentation=man: line).
RunResult verify(const InstalledTree& tree, const std::vector<std::string>& files) {
    std::vector<std::string> argv{"systemd-analyze", "verify"};
    if (!on_path("man")) argv.push_back("--man=no");
    argv.insert(argv.end(), files.begin(), files.end());
    return run_process(argv, {"MANPATH=" + tree.man_dir() + ":", "SYSTEMD_LOG_COLOR=0"});
}

std::string unit_setting(const std::string& unit_text, const std::string& key) {
    std::istringstream in(unit_text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    return "";
}

class SystemdUnits : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_INSTALLED(tree); }
    std::string unit(const std::string& name) const { return tree.unit_dir() + "/" + name; }
    InstalledTree tree;
};

TEST_F(SystemdUnits, VerifyAcceptsTheInstalledUnits) {
    SKIP_IF_REASON(why_no_systemd_analyze());
    RunResult r = verify(tree, {unit("strata-mount@.service"), unit("strata-ingest@.service"),
                                unit("strata-ingest@.timer")});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "") << "verify warned:\n" << r.err;

    // The same verifier rejects a unit whose program does not exist, so the pass above means
    // the programs were found.
    std::string broken = read_file(unit("strata-mount@.service"));
    broken.replace(broken.find(tree.strata()), tree.strata().size(),
                   tree.prefix + "/bin/no-such-strata");
    write_file(tree.dir / "broken@.service", broken);
    RunResult bad = verify(tree, {tree.dir / "broken@.service"});
    EXPECT_NE(bad.exit_code, 0) << describe(bad);
    EXPECT_NE(bad.err.find("no-such-strata"), std::string::npos) << bad.err;
}

TEST_F(SystemdUnits, UnitsNameTheInstalledPrograms) {
    std::string mount = read_file(unit("strata-mount@.service"));
    EXPECT_EQ(unit_setting(mount, "Type"), "notify");
    EXPECT_EQ(unit_setting(mount, "ExecStart"),
              tree.strata() + " mount --foreground %f ${MOUNTPOINT} -o ${OPTIONS}");
    EXPECT_EQ(unit_setting(mount, "DeviceAllow"), "/dev/fuse rw");
    EXPECT_EQ(unit_setting(mount, "NoNewPrivileges"), "yes");
    std::string ingest = read_file(unit("strata-ingest@.service"));
    EXPECT_EQ(unit_setting(ingest, "ExecStart"), tree.ingest_job() + " %i");
    EXPECT_EQ(::access(tree.ingest_job().c_str(), X_OK), 0);
    EXPECT_NE(read_file(tree.ingest_job()).find(tree.strata()), std::string::npos);
    EXPECT_EQ(unit_setting(read_file(unit("strata-ingest@.timer")), "Persistent"), "true");
}

TEST_F(SystemdUnits, DestdirInstallForUsrPutsTheHelperInSbinAndNamesUsrPaths) {
    // What a distribution's packaging does: prefix /usr, staged under DESTDIR.
    TempDir stage;
    RunResult r = run_process({cmake_command(), "--install", build_dir(), "--prefix", "/usr"},
                              {"DESTDIR=" + stage.path()});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_TRUE(exists(stage / "sbin/mount.strata"));  // mount(8) looks in /sbin only
    EXPECT_FALSE(exists(stage / "usr/sbin/mount.strata"));
    EXPECT_TRUE(exists(stage / "usr/bin/strata"));
    std::string mount = read_file(stage / "usr/lib/systemd/system/strata-mount@.service");
    EXPECT_EQ(unit_setting(mount, "ExecStart"),
              "/usr/bin/strata mount --foreground %f ${MOUNTPOINT} -o ${OPTIONS}");
    std::string ingest = read_file(stage / "usr/lib/systemd/system/strata-ingest@.service");
    EXPECT_EQ(unit_setting(ingest, "ExecStart"), "/usr/libexec/strata/strata-ingest-job %i");
    EXPECT_NE(
        read_file(stage / "usr/libexec/strata/strata-ingest-job").find("strata=/usr/bin/strata\n"),
        std::string::npos);
    EXPECT_EQ(read_file(stage / "usr/share/man/man8/mount.strata.8.gz").substr(0, 2), "\x1f\x8b");
}

TEST_F(SystemdUnits, MountUnitHasNoFileSystemNamespace) {
    // Each of these gives the service a mount namespace of its own (systemd.exec(5),
    // PrivateMounts=), from which the kernel mount would never reach the host.
    const char* namespacing[] = {"ProtectSystem",
                                 "ProtectHome",
                                 "PrivateTmp",
                                 "PrivateDevices",
                                 "PrivateMounts",
                                 "ReadOnlyPaths",
                                 "ReadWritePaths",
                                 "InaccessiblePaths",
                                 "BindPaths",
                                 "BindReadOnlyPaths",
                                 "TemporaryFileSystem",
                                 "ProtectKernelTunables",
                                 "ProtectKernelModules",
                                 "ProtectKernelLogs",
                                 "ProtectControlGroups",
                                 "ProtectProc",
                                 "ProcSubset",
                                 "RootDirectory",
                                 "RootImage",
                                 "MountAPIVFS",
                                 "DynamicUser"};
    std::string mount = read_file(unit("strata-mount@.service"));
    for (const char* key : namespacing)
        EXPECT_EQ(unit_setting(mount, key), "") << key << "= would hide the mount from the system";
}

TEST_F(SystemdUnits, MountMadeInASandboxNamespaceStaysInside) {
    SKIP_IF_REASON(why_no_system_mount());
    SKIP_IF_REASON(why_no_mount_namespace());
    SampleRepository sample;
    MountGuard guard(sample.mnt);
    // What systemd does for ProtectSystem= and friends: a new mount namespace, every mount made
    // a slave of the host's, then shared again. The helper mounts in there and waits. The listing
    // is renamed into place, so the test never reads it half written.
    const std::string mounted = sample.dir / "mounted", release = sample.dir / "release";
    ChildProcess sandbox({"unshare", "--mount", "--propagation", "slave", "sh", "-c",
                          "mount --make-rshared / && '" + tree.mount_helper() + "' '" +
                              sample.repo + "' '" + sample.mnt + "' && ls '" + sample.mnt +
                              "/snapshots' >'" + mounted + ".part' && mv '" + mounted + ".part' '" + mounted +
                              "' && while [ ! -e '" + release +
                              "' ]; do sleep 0.05; done; umount '" + sample.mnt + "'"});
    // Whatever happens below, let the namespace unmount and end before the test does.
    struct Release {
        ChildProcess& sandbox;
        std::string path;
        ~Release() {
            write_file(path, "");
            for (int i = 0; i < 200 && sandbox.running(); ++i) std::this_thread::sleep_for(50ms);
        }
    } release_on_exit{sandbox, release};
    for (int i = 0; i < 400 && !exists(mounted) && sandbox.running(); ++i)
        std::this_thread::sleep_for(25ms);
    ASSERT_TRUE(exists(mounted)) << "the helper did not mount inside the namespace";
    EXPECT_NE(read_file(mounted).find("latest"), std::string::npos);
    EXPECT_EQ(strata_mount_line(sample.mnt), "") << "visible outside the namespace";
    EXPECT_TRUE(list_dir(sample.mnt).empty());
}

// The system calls in `filter` (a SystemCallFilter= value: names and @groups), groups expanded
// by systemd-analyze itself.
std::set<std::string> allowed_syscalls(const std::string& filter) {
    std::set<std::string> out, seen;
    std::vector<std::string> todo;
    std::istringstream words(filter);
    for (std::string w; words >> w;) todo.push_back(w);
    while (!todo.empty()) {
        std::string item = todo.back();
        todo.pop_back();
        if (item[0] != '@') {
            out.insert(item);
            continue;
        }
        if (!seen.insert(item).second) continue;
        RunResult r = run_process({"systemd-analyze", "syscall-filter", item});
        std::istringstream lines(r.out);
        for (std::string l; std::getline(lines, l);) {
            if (l.rfind("    ", 0) != 0) continue;  // entries are indented; headers are not
            std::string name = l.substr(l.find_first_not_of(' '));
            if (!name.empty() && name[0] != '#') todo.push_back(name);
        }
    }
    return out;
}

// The system calls named in `strace -f` output ("1234  openat(...) = 3").
std::set<std::string> syscalls_in(const std::string& strace_output) {
    std::set<std::string> used;
    std::istringstream lines(strace_output);
    for (std::string l; std::getline(lines, l);) {
        std::size_t start = l.find_first_not_of("0123456789 ");
        if (start == std::string::npos || l.compare(start, 4, "<...") == 0) continue;
        std::size_t paren = l.find('(', start);
        if (paren == std::string::npos) continue;
        std::string name = l.substr(start, paren - start);
        if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos)
            used.insert(name);
    }
    return used;
}

TEST_F(SystemdUnits, MountStaysWithinTheUnitsSystemCallFilter) {
    SKIP_IF_REASON(why_no_systemd_analyze());
    SKIP_IF_REASON(why_no_system_mount());
    SKIP_IF_REASON(on_path("strace") ? "" : "strace is not installed");
    std::string filter = unit_setting(read_file(unit("strata-mount@.service")), "SystemCallFilter");
    ASSERT_FALSE(filter.empty());
    std::set<std::string> allowed = allowed_syscalls(filter);
    ASSERT_GT(allowed.size(), 100u) << "systemd-analyze expanded " << filter << " to too little";

    // The mount's whole life as the unit runs it, watchdog and notifications included.
    SampleRepository sample;
    MountGuard guard(sample.mnt);
    const std::string trace = sample.dir / "strace.out", notify = sample.dir / "notify";
    ChildProcess traced({"strace", "-f", "-qq", "-o", trace, tree.strata(), "mount", "--foreground",
                         sample.repo, sample.mnt, "-o", "allow_other"},
                        {"NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=100000"});
    for (int i = 0; i < 400 && strata_mount_line(sample.mnt).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_FALSE(strata_mount_line(sample.mnt).empty()) << "not mounted under strace";
    EXPECT_EQ(read_file(sample.mnt + "/snapshots/latest/sub/deep.txt"), "deep\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few watchdog rounds
    // Stopped as systemctl stop does it: SIGTERM to strata (the first pid in the trace).
    pid_t strata_pid = static_cast<pid_t>(std::atol(read_file(trace).c_str()));
    ASSERT_GT(strata_pid, 0);
    ::kill(strata_pid, SIGTERM);
    RunResult r = traced.wait();
    EXPECT_EQ(r.exit_code, 0) << describe(r);

    std::set<std::string> used = syscalls_in(read_file(trace)), refused;
    for (const auto& name : used)
        if (!allowed.count(name)) refused.insert(name);
    EXPECT_TRUE(used.count("mount") && used.count("umount2")) << ::testing::PrintToString(used);
    EXPECT_TRUE(refused.empty()) << "SystemCallFilter=" << filter
                                 << " would refuse: " << ::testing::PrintToString(refused);
}

TEST_F(SystemdUnits, IngestJobStaysWithinItsUnitsSystemCallFilter) {
    SKIP_IF_REASON(why_no_systemd_analyze());
    SKIP_IF_REASON(on_path("strace") ? "" : "strace is not installed");
    std::string filter =
        unit_setting(read_file(unit("strata-ingest@.service")), "SystemCallFilter");
    ASSERT_FALSE(filter.empty());
    std::set<std::string> allowed = allowed_syscalls(filter);

    // Two runs of the job (the second one incremental, then forgetting and pruning the first).
    SampleRepository sample;
    std::string conf_dir = sample.dir / "conf";
    ::mkdir(conf_dir.c_str(), 0755);
    write_file(conf_dir + "/t.conf", "REPO=" + sample.repo + "\nPATHS=" + sample.src +
                                         "\nEXCLUDE_CACHES=yes\nONE_FILE_SYSTEM=yes\n"
                                         "KEEP_LAST=1\nPRUNE_GRACE=0\n");
    std::string trace = sample.dir / "strace.out";
    for (int run = 0; run < 2; ++run) {
        write_file(sample.src + "/hello.txt", "run " + std::to_string(run) + "\n");
        RunResult r = run_process(
            {"strace", "-f", "-qq", "-o", trace + std::to_string(run), tree.ingest_job(), "t"},
            {"STRATA_CONF_DIR=" + conf_dir});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
    }
    std::set<std::string> used = syscalls_in(read_file(trace + "0") + read_file(trace + "1")),
                          refused;
    for (const auto& name : used)
        if (!allowed.count(name)) refused.insert(name);
    EXPECT_TRUE(used.count("openat") && used.count("execve")) << ::testing::PrintToString(used);
    EXPECT_TRUE(refused.empty()) << "SystemCallFilter=" << filter
                                 << " would refuse: " << ::testing::PrintToString(refused);
}

TEST_F(SystemdUnits, ExampleMountAndAutomountVerify) {
    SKIP_IF_REASON(why_no_systemd_analyze());
    RunResult r = verify(tree, {tree.doc_dir() + "/examples/mnt-backups.mount",
                                tree.doc_dir() + "/examples/mnt-backups.automount"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "") << r.err;
}

TEST_F(SystemdUnits, FstabLineBecomesAVerifiedMountAndAutomount) {
    SKIP_IF_REASON(why_no_systemd_analyze());
    std::string generator;
    for (const char* g : {"/usr/lib/systemd/system-generators/systemd-fstab-generator",
                          "/lib/systemd/system-generators/systemd-fstab-generator"})
        if (::access(g, X_OK) == 0) generator = g;
    SKIP_IF_REASON(generator.empty() ? "systemd-fstab-generator is not installed" : "");

    // The example fstab's active line: the automount line.
    std::string fstab = tree.dir / "fstab";
    write_file(fstab, read_file(tree.doc_dir() + "/examples/fstab"));
    std::string out = tree.dir / "generated";
    ::mkdir(out.c_str(), 0755);
    RunResult gen = run_process({generator, out, out, out},
                                {"SYSTEMD_FSTAB=" + fstab, "SYSTEMD_LOG_LEVEL=warning"});
    ASSERT_EQ(gen.exit_code, 0) << describe(gen);

    std::string mount = read_file(out + "/mnt-backups.mount");
    EXPECT_EQ(unit_setting(mount, "What"), "/srv/backup/repo");
    EXPECT_EQ(unit_setting(mount, "Type"), "strata");
    EXPECT_NE(unit_setting(mount, "Options").find("allow_other"), std::string::npos) << mount;
    std::string automount = read_file(out + "/mnt-backups.automount");
    EXPECT_EQ(unit_setting(automount, "Where"), "/mnt/backups");
    EXPECT_EQ(unit_setting(automount, "TimeoutIdleSec"), "10min");
    EXPECT_TRUE(exists(out + "/local-fs.target.requires/mnt-backups.automount"));
    // noauto: nothing mounts it at boot, only the automount.
    EXPECT_FALSE(exists(out + "/local-fs.target.requires/mnt-backups.mount"));
    EXPECT_FALSE(exists(out + "/local-fs.target.wants/mnt-backups.mount"));

    RunResult r = verify(tree, {out + "/mnt-backups.mount", out + "/mnt-backups.automount"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
}

}  // namespace
}  // namespace strata::testing
