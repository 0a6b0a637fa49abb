#include "store/index/index_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/format/format.h"
#include "store/index/index.h"

namespace strata {
namespace {

// How the child ends: its exit code says which kind of failure its message (on the pipe) is.
constexpr int kSound = 0, kDamaged = 3, kMissing = 4, kFailed = 5;

// The message without the advice a StoreError of the index may end with (the caller adds it).
std::string without_advice(std::string what) {
    auto at = what.find("; run `strata repair-index");
    if (at != std::string::npos) what.resize(at);
    return what;
}

}  // namespace

void probe_index_or_throw(const std::string& dir, const std::string& repo_path,
                          const BlobCodec* records) {
    const std::string data = dir + "/data.mdb";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_io("pipe", errno);
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw_io("fork", e);
    }
    if (pid == 0) {
        ::close(fds[0]);
        // A damaged map can make LMDB fault (SIGBUS past a truncated file, SIGSEGV): the probe is
        // here to die of that, by the default action, not in a handler (a sanitizer's reports it).
        ::signal(SIGBUS, SIG_DFL);
        ::signal(SIGSEGV, SIG_DFL);
        // LMDB's own assertions (mdb_assert) print "mdb.c:…: Assertion … failed" and abort: the
        // abort is the finding, the line would only puzzle the user of the parent's terminal.
        int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) ::dup2(null, 2);
        int code = kSound;
        std::string what;
        try {
            BlobIndex index(dir, BlobIndex::Access::ReadOnly, records);
            index.read_every_page();
            index.packs();
            index.snapshots();
            index.snapshot_generation();
            index.for_each_blob([](const BlobId&, const BlobLocation&) {});
        } catch (const IndexUnusable& e) {
            what = e.problem();
            code = e.kind() == StoreError::Kind::NotFound ? kMissing : kDamaged;
        } catch (const StoreError& e) {
            what = without_advice(e.what());
            code = e.kind() == StoreError::Kind::Corruption ? kDamaged : kFailed;
        } catch (const std::exception& e) {
            what = e.what();
            code = kFailed;
        }
        if (!what.empty() && ::write(fds[1], what.data(), what.size()) < 0) code = kFailed;
        ::_exit(code);
    }
    ::close(fds[1]);
    std::string message;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        message.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status))
        throw IndexUnusable(StoreError::Kind::Corruption,
                            "the index " + data + " is damaged: reading it crashed (" +
                                ::strsignal(WTERMSIG(status)) + ")",
                            repo_path);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : kFailed;
    if (code == kSound) return;
    if (message.empty()) message = "the index " + data + " cannot be read";
    if (code == kMissing) throw IndexUnusable(StoreError::Kind::NotFound, message, repo_path);
    if (code == kDamaged) {
        if (message.find(data) == std::string::npos)
            message = "the index " + data + " is damaged (" + message + ")";
        throw IndexUnusable(StoreError::Kind::Corruption, message, repo_path);
    }
    throw StoreError(StoreError::Kind::Io, message);
}

std::string probe_index(const std::string& index_dir, const std::string& repo_path,
                        const BlobCodec* records) {
    try {
        probe_index_or_throw(index_dir, repo_path, records);
        return "";
    } catch (const StoreError& e) {
        return e.what();
    }
}

}  // namespace strata
