// The Debian package: cpack builds it from this build; its control fields, its file list, the
// units inside naming /usr/bin/strata, every shared library and program it needs coming from a
// package it depends on (or an essential one); then it is installed and removed with dpkg in a
// throwaway root whose package database holds only the dependencies (copied from this machine's),
// so dpkg really checks them, and nothing is installed on the machine itself. Also the man pages,
// as `cmake --install` and the package install them: no placeholder left, rendered by man.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <set>

#include "tests/e2e/systemd_test_support.h"

namespace strata::testing {
namespace {

std::string why_no_packaging_tools() {
    for (const char* tool : {"cpack", "dpkg-deb", "dpkg", "dpkg-query", "readelf"})
        if (!on_path(tool)) return std::string(tool) + " is not installed";
    if (::access("/var/lib/dpkg/status", R_OK) != 0)
        return "no dpkg database (not a Debian system)";
    return "";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) out.push_back(l);
    return out;
}

// "libc6, libfuse3-3 (>= 3.2), a | b" -> {libc6, libfuse3-3, a, b}
std::set<std::string> package_names(const std::string& depends) {
    std::set<std::string> names;
    std::string word;
    bool in_version = false;
    for (char c : depends + ",") {
        if (c == '(') in_version = true;
        if (c == ')') in_version = false;
        if (in_version || c == ')') continue;
        if (c == ',' || c == '|' || c == ' ') {
            if (!word.empty()) names.insert(word);
            word.clear();
        } else {
            word += c;
        }
    }
    return names;
}

// Packages owning `pattern` on this machine (dpkg -S), without ":arch".
std::set<std::string> owners(const std::string& pattern) {
    std::set<std::string> out;
    RunResult r = run_process({"dpkg", "-S", pattern});
    for (const auto& l : lines_of(r.out)) {
        std::string names = l.substr(0, l.find(": "));
        for (auto n : package_names(names)) out.insert(n.substr(0, n.find(':')));
    }
    return out;
}

bool essential(const std::string& package) {
    return run_process({"dpkg-query", "-W", "-f=${Essential}", package}).out == "yes";
}

// What is wrong with the installed, gzipped man page `gz` ("" if nothing): not gzip, a
// configure placeholder (@NAME@) left unfilled, or `man -l` failing or warning as it renders it.
std::string man_page_problems(const std::string& gz) {
    if (!exists(gz)) return gz + " is not installed";
    RunResult text = run_process({"gzip", "-dc", gz});
    if (text.exit_code != 0) return gz + " is not gzip: " + describe(text);
    std::string problems;
    for (std::size_t at = text.out.find('@'); at != std::string::npos;
         at = text.out.find('@', at + 1)) {
        std::size_t end = at + 1;
        while (end < text.out.size() &&
               (std::isalnum(static_cast<unsigned char>(text.out[end])) || text.out[end] == '_'))
            end++;
        if (end > at + 1 && end < text.out.size() && text.out[end] == '@')
            problems += gz + ": unfilled placeholder " + text.out.substr(at, end + 1 - at) + "\n";
    }
    if (!on_path("man"))
        return problems + "man is not installed (.ci/install-deps installs man-db)\n";
    RunResult shown = run_process({"man", "-l", gz},
                                  {"MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LC_ALL=C.UTF-8"});
    if (shown.exit_code != 0 || !shown.err.empty() || shown.out.find("NAME") == std::string::npos)
        problems += gz + ": man -l does not render it cleanly: " + describe(shown) + "\n";
    return problems;
}

// `cmake --install` (the README's route) into a DESTDIR and a prefix, by a root whose umask is
// 077 as on hardened systems: both man pages, gzipped, every placeholder filled with the
// prefix's paths, man renders them, and every directory made is readable by everyone (0700 ones
// left `man strata` with "No manual entry" for every other user).
TEST(InstalledManPages, CmakeInstallIntoDestdirAndPrefix) {
    TempDir stage;
    const std::string prefix = "/opt/strata-test";
    const mode_t old_umask = ::umask(077);
    RunResult r = run_process({cmake_command(), "--install", build_dir(), "--prefix", prefix},
                              {"DESTDIR=" + stage.path()});
    ::umask(old_umask);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    RunResult closed =
        run_process({"find", stage.path() + "/opt", "-type", "d", "!", "-perm", "-0755"});
    EXPECT_EQ(closed.out, "") << "directories others cannot read: " << describe(closed);
    const std::string man = stage.path() + prefix + "/share/man";
    for (const char* page : {"/man1/strata.1.gz", "/man8/mount.strata.8.gz"})
        EXPECT_EQ(man_page_problems(man + page), "") << page;
    RunResult text = run_process({"gzip", "-dc", man + "/man1/strata.1.gz"});
    EXPECT_NE(text.out.find(prefix + "/share/doc/strata"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("strata 0.1.0"), std::string::npos) << text.out.substr(0, 200);
    // man finds the page by name in the installed tree, as it does under /usr/local/share/man.
    RunResult found = run_process({"man", "-w", "strata"}, {"MANPATH=" + man});
    EXPECT_EQ(found.out, man + "/man1/strata.1.gz\n") << describe(found);
}

class SystemdPackage : public ::testing::Test {
  protected:
    void SetUp() override {
        SKIP_IF_REASON(why_no_packaging_tools());
        out = work / "out";
        RunResult r =
            run_process({"cpack", "--config", build_dir() + "/CPackConfig.cmake", "-B", out});
        ASSERT_EQ(r.exit_code, 0) << describe(r);
        for (const auto& name : list_dir(out))
            if (name.size() > 4 && name.substr(name.size() - 4) == ".deb") deb = out + "/" + name;
        ASSERT_FALSE(deb.empty()) << "cpack made no .deb in " << out << ": " << r.out;
        depends = field("Depends");
    }
    std::string field(const std::string& name) {
        RunResult r = run_process({"dpkg-deb", "-f", deb, name});
        EXPECT_EQ(r.exit_code, 0) << describe(r);
        std::string v = r.out;
        while (!v.empty() && v.back() == '\n') v.pop_back();
        return v;
    }
    // A root holding only a dpkg database in which exactly `installed` are installed, with
    // their stanzas copied from this machine's database.
    std::string make_root(const std::string& name, const std::set<std::string>& installed) {
        std::string root = work / name;
        for (const char* d : {"", "/var", "/var/lib", "/var/lib/dpkg", "/var/lib/dpkg/info",
                              "/var/lib/dpkg/updates", "/var/lib/dpkg/triggers", "/var/log"})
            ::mkdir((root + d).c_str(), 0755);
        std::string status;
        for (const auto& p : installed) {
            RunResult s = run_process({"dpkg-query", "-s", p});
            EXPECT_EQ(s.exit_code, 0) << p << " is not installed here: " << describe(s);
            status += s.out + "\n";
            // An empty file list, so dpkg does not warn that it is missing.
            RunResult id = run_process({"dpkg-query", "-W", "-f=${binary:Package}", p});
            write_file(root + "/var/lib/dpkg/info/" + id.out + ".list", "");
        }
        write_file(root + "/var/lib/dpkg/status", status);
        write_file(root + "/var/lib/dpkg/available", "");
        return root;
    }
    RunResult dpkg(const std::string& root, std::vector<std::string> args) {
        std::vector<std::string> argv{"dpkg", "--root=" + root, "--force-script-chrootless",
                                      "--log=" + root + "/var/log/dpkg.log"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    }
    std::string status_of(const std::string& root, const std::string& package) {
        return run_process({"dpkg-query", "--admindir=" + root + "/var/lib/dpkg", "-W",
                            "-f=${Status}", package})
            .out;
    }

    TempDir work;
    std::string out, deb, depends;
};

TEST_F(SystemdPackage, ControlFieldsAndContents) {
    EXPECT_EQ(field("Package"), "strata");
    EXPECT_FALSE(field("Version").empty());
    EXPECT_EQ(
        field("Architecture"),
        run_process({"dpkg", "--print-architecture"}).out.substr(0, field("Architecture").size()));
    std::set<std::string> deps = package_names(depends);
    for (const char* p : {"libfuse3-3", "liblmdb0", "libzstd1", "libssl3",
                          "libboost-program-options1.74.0", "fuse3"})
        EXPECT_TRUE(deps.count(p)) << p << " missing from Depends: " << depends;

    RunResult c = run_process({"dpkg-deb", "-c", deb});
    ASSERT_EQ(c.exit_code, 0) << describe(c);
    std::set<std::string> files;
    for (const auto& l : lines_of(c.out)) files.insert(l.substr(l.find("./") + 1));
    for (const char* f :
         {"/usr/bin/strata", "/sbin/mount.strata", "/usr/lib/systemd/system/strata-mount@.service",
          "/usr/lib/systemd/system/strata-ingest@.service",
          "/usr/lib/systemd/system/strata-ingest@.timer", "/usr/libexec/strata/strata-ingest-job",
          "/usr/share/man/man1/strata.1.gz", "/usr/share/man/man8/mount.strata.8.gz",
          "/usr/share/bash-completion/completions/strata", "/usr/share/doc/strata/systemd.md",
          "/usr/share/doc/strata/examples/fstab"})
        EXPECT_TRUE(files.count(f)) << f << " is not in the package:\n" << c.out;
    for (const auto& f : files) EXPECT_EQ(f.rfind("/usr/local", 0), std::string::npos) << f;
}

TEST_F(SystemdPackage, EverythingItNeedsComesFromItsDependencies) {
    std::string x = work / "x";
    RunResult r = run_process({"dpkg-deb", "-x", deb, x});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    std::set<std::string> deps = package_names(depends);
    for (const char* page :
         {"/usr/share/man/man1/strata.1.gz", "/usr/share/man/man8/mount.strata.8.gz"})
        EXPECT_EQ(man_page_problems(x + page), "") << page;

    for (const std::string bin : {"/usr/bin/strata", "/sbin/mount.strata"}) {
        RunResult elf = run_process({"readelf", "-d", "-S", "-W", x + bin});
        ASSERT_EQ(elf.exit_code, 0) << describe(elf);
        EXPECT_EQ(elf.out.find(".debug_info"), std::string::npos) << bin << " is not stripped";
        for (const auto& l : lines_of(elf.out)) {
            auto open = l.find("(NEEDED)");
            if (open == std::string::npos) continue;
            std::string lib = l.substr(l.find('[') + 1);
            lib = lib.substr(0, lib.find(']'));
            std::set<std::string> from = owners("*/" + lib);
            bool covered = false;
            for (const auto& p : from) covered = covered || deps.count(p);
            EXPECT_TRUE(covered) << bin << " needs " << lib << " (from "
                                 << ::testing::PrintToString(from)
                                 << "), which Depends does not bring: " << depends;
        }
    }
    // Programs the units run: in the package, or from a dependency or an essential package.
    for (const std::string unit : {"strata-mount@.service", "strata-ingest@.service"}) {
        std::string text = read_file(x + "/usr/lib/systemd/system/" + unit);
        if (unit == "strata-mount@.service") {
            EXPECT_NE(text.find("ExecStart=/usr/bin/strata mount --foreground"), std::string::npos)
                << text;
        }
        for (const auto& l : lines_of(text)) {
            if (l.rfind("Exec", 0) != 0) continue;
            std::string cmd = l.substr(l.find('=') + 1);
            cmd = cmd.substr(cmd.find_first_not_of("-+!@:"));
            cmd = cmd.substr(0, cmd.find(' '));
            if (exists(x + cmd)) continue;
            std::set<std::string> from = owners(cmd);
            bool covered = false;
            for (const auto& p : from) covered = covered || deps.count(p) || essential(p);
            EXPECT_TRUE(covered) << unit << " runs " << cmd << ", from "
                                 << ::testing::PrintToString(from);
        }
    }
}

TEST_F(SystemdPackage, InstallsAndRemovesCleanlyInAThrowawayRoot) {
    std::string root = make_root("root", package_names(depends));
    RunResult install = dpkg(root, {"-i", deb});
    ASSERT_EQ(install.exit_code, 0) << describe(install);
    EXPECT_EQ(install.err, "") << install.err;
    EXPECT_EQ(status_of(root, "strata"), "install ok installed");
    for (const char* f :
         {"/usr/bin/strata", "/sbin/mount.strata", "/usr/lib/systemd/system/strata-mount@.service",
          "/usr/libexec/strata/strata-ingest-job"})
        EXPECT_TRUE(exists(root + f)) << f;
    RunResult version = run_process({root + "/usr/bin/strata", "--version"});
    EXPECT_EQ(version.exit_code, 0) << describe(version);
    EXPECT_NE(version.out.find("strata " + field("Version")), std::string::npos) << version.out;
    RunResult helper = run_process({root + "/sbin/mount.strata", "-h"});
    EXPECT_EQ(helper.exit_code, 0) << describe(helper);

    RunResult remove = dpkg(root, {"-r", "strata"});
    ASSERT_EQ(remove.exit_code, 0) << describe(remove);
    EXPECT_EQ(remove.err, "") << remove.err;
    for (const auto& top : list_dir(root))
        EXPECT_EQ(top, "var") << "left behind in the root after dpkg -r: " << top;
    // Only the maintainer scripts' record stays until purged (there are no conffiles).
    EXPECT_EQ(status_of(root, "strata"), "deinstall ok config-files");
    RunResult purge = dpkg(root, {"-P", "strata"});
    ASSERT_EQ(purge.exit_code, 0) << describe(purge);
    EXPECT_EQ(status_of(root, "strata"), "");
    for (const auto& info : list_dir(root + "/var/lib/dpkg/info"))
        EXPECT_EQ(info.rfind("strata.", 0), std::string::npos) << info << " left after purge";
}

TEST_F(SystemdPackage, MissingDependencyIsRefused) {
    std::set<std::string> deps = package_names(depends);
    deps.erase("fuse3");
    std::string root = make_root("root-without-fuse3", deps);
    RunResult install = dpkg(root, {"-i", deb});
    EXPECT_NE(install.exit_code, 0) << describe(install);
    EXPECT_NE(install.err.find("fuse3"), std::string::npos) << install.err;
    EXPECT_NE(status_of(root, "strata"), "install ok installed");
}

}  // namespace
}  // namespace strata::testing
