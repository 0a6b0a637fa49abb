#include "tools/metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "store/base/errors.h"
#include "store/repo/reader.h"

namespace strata::cli {
namespace {

// A label value as the text format writes it: backslash, double quote and line feed escaped.
std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// The shortest text that reads back as `v`.
std::string number(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : "NaN";
}

constexpr const char* kLastSuccess = "strata_last_success_timestamp_seconds";

}  // namespace

void add_metrics_option(boost::program_options::options_description& opts) {
    opts.add_options()("metrics-file", boost::program_options::value<std::string>(),
                       "write Prometheus metrics of this run to FILE (atomically; for "
                       "node-exporter's textfile collector)");
}

MetricsFile::MetricsFile(std::string path, std::string command, CliIo& io)
    : path_(std::move(path)),
      command_(std::move(command)),
      io_(io),
      start_(std::chrono::steady_clock::now()) {}

MetricsFile::~MetricsFile() {
    if (finished_ || path_.empty()) return;
    try {
        write(render(false, 1));
    } catch (const std::exception& e) {
        io_.err << "strata " << command_ << ": warning: metrics not written: " << e.what() << "\n";
    }
}

void MetricsFile::set(const std::string& name, double value, const std::string& help) {
    values_[name] = {value, help};
}

void MetricsFile::set_repository_totals(RepositoryReader& repo) {
    if (path_.empty()) return;
    set("snapshots", static_cast<double>(repo.snapshots().size()),
        "Snapshots in the repository when the command ended.");
    set("repository_size_bytes", static_cast<double>(repo.space_usage().stored_bytes),
        "Bytes of every pack of the repository, as stored, when the command ended.");
}

void MetricsFile::finish(bool ok, std::uint64_t errors) {
    finished_ = true;
    if (path_.empty()) return;
    try {
        write(render(ok, errors));
    } catch (const StoreError& e) {
        throw StoreError(e.kind(),
                         std::string(e.what()) + " (the " + command_ + " itself " +
                             (ok ? "succeeded" : "ended as reported above") + ")",
                         e.error_number());
    }
}

std::string MetricsFile::render(bool ok, std::uint64_t errors) const {
    const std::string labels = "{command=\"" + escape_label(command_) + "\",repository=\"" +
                               escape_label(repository_) + "\"}";
    const double now = static_cast<double>(std::time(nullptr));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    // A failed run keeps the last success the file recorded for the same command and repository.
    std::string last_success;
    if (ok) {
        last_success = number(now);
    } else {
        std::ifstream in(path_);
        const std::string prefix = std::string(kLastSuccess) + labels + " ";
        for (std::string line; std::getline(in, line);)
            if (line.rfind(prefix, 0) == 0) last_success = line.substr(prefix.size());
    }
    std::ostringstream out;
    auto metric = [&](const std::string& name, const std::string& help, const std::string& value) {
        out << "# HELP " << name << " " << help << "\n"
            << "# TYPE " << name << " gauge\n"
            << name << labels << " " << value << "\n";
    };
    metric("strata_last_run_timestamp_seconds", "When the command last ended (Unix seconds).",
           number(now));
    metric("strata_last_run_success", "1 if the command's last run succeeded, else 0.",
           ok ? "1" : "0");
    if (!last_success.empty())
        metric(kLastSuccess, "When the command last succeeded (Unix seconds).", last_success);
    metric("strata_duration_seconds", "How long the command's last run took.", number(seconds));
    metric("strata_errors",
           "What went wrong in the last run: files that could not be read, "
           "damage found, 1 for a run that failed.",
           number(static_cast<double>(errors)));
    for (const auto& [name, v] : values_) metric("strata_" + name, v.second, number(v.first));
    return out.str();
}

void MetricsFile::write(const std::string& text) const {
    const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw_io("cannot write the metrics file " + path_, errno);
    // Readable by the collector's user whatever the umask (the units' is 0077).
    if (::fchmod(fd, 0644) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw_io("cannot write the metrics file " + path_, err);
    }
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw_io("cannot write the metrics file " + path_, err);
        }
        done += static_cast<std::size_t>(n);
    }
    const int synced = ::fsync(fd) == 0 ? 0 : errno;
    const int closed = ::close(fd) == 0 ? 0 : errno;
    if (synced || closed) {
        ::unlink(tmp.c_str());
        throw_io("cannot write the metrics file " + path_, synced ? synced : closed);
    }
    if (::rename(tmp.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw_io("cannot put the metrics file in place at " + path_, err);
    }
}

}  // namespace strata::cli
