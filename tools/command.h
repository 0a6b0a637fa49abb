// What every subcommand shares: the registry of commands, how the repository is named, option
// parsing errors, and the usage exception.
#pragma once

#include <boost/program_options.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/repo/repository.h"
#include "tools/cli_io.h"

namespace strata::cli {

namespace po = boost::program_options;

// A mistake in how the command was called: printed with the command's usage, exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Command {
    const char* name;
    const char* args;     // e.g. "REPO PATH..."
    const char* summary;  // one line
    int (*run)(const std::vector<std::string>& args, CliIo& io);
};

const std::vector<Command>& commands();

// Parses `args` against `opts` and positional names; returns the variables map. `positional`
// receives all positional arguments in order.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        std::vector<std::string>& positional);

// The repository a command works on: --repo, else the first positional argument if it names a
// strata repository (it is then removed from `positional`), else $STRATA_REPO.
std::string repo_path(const po::variables_map& vm, std::vector<std::string>& positional,
                      bool must_exist = true);
// Adds --repo, --json (if `json`), --cache-dir, --cacert and --s3-virtual-host to a command's
// options.
void add_common_options(po::options_description& opts, bool json);
// How repositories are opened, from --cache-dir, --cacert and --s3-virtual-host; retries are
// reported on io.err. parse_command_line applies them (set_storage_options).
StorageOptions storage_options_from(const po::variables_map& vm, CliIo& io);

// A command's parsed command line: its options, its positional arguments (the repository's, if
// it was given as the first, removed) and the repository it works on (repo_path).
struct CommandLine {
    po::variables_map vm;
    std::vector<std::string> positional;
    std::string repo;
};
// What every command does first: parses `args` against `opts` (given add_common_options), and on
// --help prints `opts` and then `help_epilogue` to io.out and returns nothing (the command then
// exits with kOk); else names the repository with repo_path(vm, positional, repo_must_exist).
// Throws what parse and repo_path throw.
std::optional<CommandLine> parse_command_line(const std::vector<std::string>& args,
                                              const po::options_description& opts, CliIo& io,
                                              bool repo_must_exist = true,
                                              const char* help_epilogue = "");

// Which snapshots a command looks at, as restic users know it: --host H (any of those given),
// --tag A,B (every tag of one of the lists given), --path P (every path given among the
// snapshot's; relative paths are taken from the current directory). No flag: every snapshot.
struct SnapshotFilter {
    std::vector<std::string> hosts, paths;
    std::vector<std::vector<std::string>> tag_lists;
    bool empty() const { return hosts.empty() && paths.empty() && tag_lists.empty(); }
    bool matches(const SnapshotRecord& r) const;
    // The snapshots of `all` that match, in their order.
    std::vector<Snapshot> select(const std::vector<Snapshot>& all) const;
};
void add_filter_options(po::options_description& opts);
SnapshotFilter filter_from(const po::variables_map& vm);

// After a command that wrote to the index (ingest, forget, prune, repair-index): takes the writer
// lock again, without waiting, and compacts the index if that is worthwhile and no other process
// has it open (BlobIndex::compact). Another writer holding the lock, or a reader holding the index,
// means the index stays as it is until a later writer finds it free; a failure (a full disk) is
// a warning only, since what the command wrote is durable already. The test hook
// STRATA_TEST_COMPACT_INDEX=1 compacts whatever the index's state.
void compact_index(Repository& repo, CliIo& io);

// Opens the repository for a command that writes to it (ingest, forget, prune, tag, note):
// store/maintenance/repair.h's open_rebuilding_index, its messages on stderr. Read-only commands
// do not rebuild (docs/reliability.md, "A damaged index"). Ingest and copy, which lock first,
// leave a remote cache's refresh to the lock (Repository::CacheSync::AtWriterLock).
std::unique_ptr<Repository> open_rebuilding_index(
    const std::string& repo_dir, const std::string& purpose, double lock_wait, CliIo& io,
    Repository::CacheSync sync = Repository::CacheSync::AtOpen);

// "a,b,,c" → {"a", "b", "c"}.
std::vector<std::string> split_commas(const std::string& text);

// Formatting shared by the listings.
std::string format_time_utc(std::int64_t sec, std::uint32_t nsec, bool with_nanos);
std::string format_size(std::uint64_t bytes);
std::string format_mode(const TreeEntry& e);
// A name as a terminal should show it: backslashes, control characters and bytes that are not
// UTF-8 escaped (\\, \n, \t, \x1b, \xff), so that any bytes print as one line that says what
// they are; valid UTF-8 text shows as it is.
std::string printable(const std::string& name);
// The length of the well-formed UTF-8 sequence at s[i] (1 to 4; no overlong forms, surrogates or
// code points above U+10FFFF), 0 if the bytes there are not one.
std::size_t utf8_sequence_length(const std::string& s, std::size_t i);
// The width of `text` on a terminal, counting one column per code point (escaped by printable,
// so it holds no control characters).
std::size_t display_width(const std::string& text);

}  // namespace strata::cli
