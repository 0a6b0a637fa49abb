#include "store/restore/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "store/base/directory.h"
#include "store/ingest/ingest.h"
#include "store/repo/repository.h"
#include "tools/command.h"

namespace strata::cli {
namespace {

constexpr const char* kPreRestoreTag = "pre-restore";

std::string parent_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The staging directories of in-place restores into `target` (".NAME.strata-restore.PID" beside
// it) whose process is gone: an interrupted restore left them; TARGET itself was never touched.
void remove_stale_staging(const std::string& target, CliIo& io) {
    const std::string prefix = "." + base_of(target) + ".strata-restore.";
    DIR* d = ::opendir(parent_of(target).c_str());
    if (!d) return;
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string pid = name.substr(prefix.size());
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        if (::kill(static_cast<pid_t>(std::stoll(pid)), 0) == 0 || errno == EPERM) continue;
        stale.push_back(parent_of(target) + "/" + name);
    }
    ::closedir(d);
    for (const auto& s : stale) {
        io.err << "strata restore: removing " << printable(s)
               << ", left by an interrupted in-place restore\n";
        remove_tree(s);
    }
}

// `strata restore --in-place`: TARGET is saved as a snapshot tagged pre-restore first; the
// snapshot is restored into a staging directory beside TARGET, which then takes TARGET's place
// in one atomic exchange (renameat2 RENAME_EXCHANGE); what was there is removed last. Anything
// failing before the exchange (disk full, a damaged blob, a signal) leaves TARGET as it was.
int restore_in_place(const std::string& repo_dir, const std::string& name,
                     const std::string& target_arg, RestoreOptions ro, double lock_wait,
                     CliIo& io) {
    std::string target = target_arg;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    struct stat st;
    if (::lstat(target.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw UsageError(
            "--in-place restores into an existing directory, and " + target_arg +
            (::lstat(target.c_str(), &st) != 0 ? " does not exist" : " is not a directory") +
            "; without --in-place, restore creates TARGET");
    remove_stale_staging(target, io);

    auto repo = open_rebuilding_index(repo_dir, "restore", lock_wait, io,
                                      Repository::CacheSync::AtWriterLock);
    // Named before the pre-restore snapshot exists: "latest" is what the user saw.
    const auto all = repo->snapshots();
    const Snapshot snap = resolve_snapshot(all, name);

    IngestOptions in;
    in.paths = {target};
    in.tags = {kPreRestoreTag};
    in.note = "the contents of " + target + " before snapshot " + snap.id.short_hex() +
              " was restored into it";
    in.lock_wait_seconds = lock_wait;
    in.on_warning = [&io](const IngestWarning& w) {
        io.err << "warning: " << printable(w.path) << ": " << w.reason << "\n";
    };
    const IngestResult pre = ingest(*repo, in);
    const std::string pre_id = pre.snapshot.id.short_hex();
    if (!pre.warnings.empty()) {
        io.err << "strata restore: " << printable(target)
               << " could not be saved whole (above), so it is not replaced; nothing was "
                  "restored (the partial snapshot "
               << pre_id << " holds what could be read)\n";
        return kFailure;
    }
    io.err << "saved " << printable(target) << " as snapshot " << pre_id << " (tag "
           << kPreRestoreTag << ")\n";

    const std::string staging = parent_of(target) + "/." + base_of(target) + ".strata-restore." +
                                std::to_string(::getpid());
    auto abandon = [&](const std::string& why) {
        try {
            remove_tree(staging);
        } catch (const StoreError& e) {
            io.err << "strata restore: could not remove " << printable(staging) << ": " << e.what()
                   << "\n";
        }
        io.err << "strata restore: " << why << "; " << printable(target)
               << " is unchanged (snapshot " << pre_id << " holds it as it was)\n";
    };
    RestoreStats stats;
    try {
        stats = restore(*repo, snap, staging, ro);
    } catch (const StoreError& e) {
        abandon(std::string("restoring snapshot ") + snap.id.short_hex() + " failed: " + e.what());
        return kFailure;
    }
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
        abandon("cannot put the restored tree in place of " + target + " (" + std::strerror(errno) +
                (errno == EBUSY ? "; a mount point cannot be exchanged" : "") + ")");
        return kFailure;
    }
    // The staging name now holds what TARGET was; it is saved in the pre-restore snapshot.
    try {
        remove_tree(staging);
    } catch (const StoreError& e) {
        io.err << "strata restore: the restore is in place, but what " << printable(target)
               << " held before could not be removed from " << printable(staging) << ": "
               << e.what() << "\n";
        return kPartial;
    }
    io.err << "restored " << stats.files << " files, " << stats.dirs << " dirs, " << stats.other
           << " other entries, " << format_size(stats.bytes) << " from snapshot "
           << snap.id.short_hex() << " in place of " << printable(target) << "; what was there is "
           << "snapshot " << pre_id << "\n";
    return stats.warnings ? kPartial : kOk;
}

}  // namespace

int cmd_restore(const std::vector<std::string>& args, CliIo& io) {
    po::options_description opts("strata restore REPO SNAPSHOT TARGET");
    add_common_options(opts, false);
    RestoreOptions ro;
    double lock_wait = 0;
    opts.add_options()("path", po::value<std::string>(&ro.subpath),
                       "restore only this path of the snapshot")(
        "overwrite", po::bool_switch(&ro.overwrite), "replace files that exist in TARGET")(
        "in-place",
        "make the existing directory TARGET the snapshot: save it as a snapshot tagged "
        "pre-restore first, then replace it whole (what the snapshot lacks goes); on any failure "
        "TARGET stays as it was")("lock-wait", po::value<double>(&lock_wait),
                                  "--in-place: wait up to SECONDS for another writer to finish")(
        "no-owner", "do not set owners (the default when not root)");
    auto line = parse_command_line(args, opts, io);
    if (!line) return kOk;
    auto& [vm, pos, repo_dir] = *line;
    if (pos.size() != 2) throw UsageError("need SNAPSHOT and TARGET");
    if (vm.count("no-owner")) ro.owners = false;
    ro.on_warning = [&io](const std::string& p, const std::string& why) {
        io.err << "warning: " << printable(p) << ": " << why << "\n";
    };
    if (vm.count("in-place")) {
        if (ro.overwrite) throw UsageError("give --in-place or --overwrite, not both");
        return restore_in_place(repo_dir, pos[0], pos[1], ro, lock_wait, io);
    }
    auto repo = Repository::open(repo_dir);
    auto all = repo->snapshots();
    const Snapshot& snap = resolve_snapshot(all, pos[0]);
    RestoreStats st = restore(*repo, snap, pos[1], ro);
    io.err << "restored " << st.files << " files, " << st.dirs << " dirs, " << st.other
           << " other entries, " << format_size(st.bytes) << " from snapshot "
           << snap.id.short_hex() << " into " << pos[1] << "\n";
    return st.warnings ? kPartial : kOk;
}

}  // namespace strata::cli
