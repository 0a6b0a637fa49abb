// `--metrics-file FILE` of ingest, forget, prune and verify: Prometheus text-format metrics
// (the format node-exporter's textfile collector reads), written whole and atomically (a
// temporary file beside FILE, fsynced, renamed over it) when the command ends, successfully or
// not. Every metric carries the labels command="…" and repository="…". docs/cli.md, "Metrics",
// lists them.
//
// Threads: one thread.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "tools/cli_io.h"

namespace strata {
class RepositoryReader;
}

namespace strata::cli {

// Adds --metrics-file to a command's options.
void add_metrics_option(boost::program_options::options_description& opts);

class MetricsFile {
  public:
    // `path` "" writes nothing (the option was not given). Starts the clock.
    MetricsFile(std::string path, std::string command, CliIo& io);
    // A command that did not call succeeded() failed (it threw, or found damage): writes the
    // failure. Never throws: a metrics file that cannot be written is a warning on io.err.
    ~MetricsFile();
    MetricsFile(const MetricsFile&) = delete;
    MetricsFile& operator=(const MetricsFile&) = delete;

    // The repository's location, for the label; set once it is known.
    void set_repository(const std::string& location) { repository_ = location; }
    // A value of the command (files, bytes_added, …): written as strata_<name>, with `help`.
    void set(const std::string& name, double value, const std::string& help);
    // The repository's snapshot count and stored size, as the command leaves them.
    void set_repository_totals(RepositoryReader& repo);
    // Ends the command: `ok` says whether it succeeded (a verify that found damage did not);
    // `errors` counts what went wrong (unreadable files, problems found). Writes the file now,
    // and throws Io if that fails: the user asked for it.
    void finish(bool ok, std::uint64_t errors);

  private:
    std::string render(bool ok, std::uint64_t errors) const;
    void write(const std::string& text) const;

    std::string path_, command_, repository_;
    CliIo& io_;
    std::chrono::steady_clock::time_point start_;
    std::map<std::string, std::pair<double, std::string>> values_;  // name -> value, help
    bool finished_ = false;
};

}  // namespace strata::cli
