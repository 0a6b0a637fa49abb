#include "tools/cli.h"

#include <sys/resource.h>

#include <iostream>

#include "mount-helpers/helper_call.h"
#include "tools/command.h"

namespace strata::cli {
namespace {

void print_help(std::ostream& out) {
    out << "strata: browsable, deduplicated backups\n\n"
           "usage: strata COMMAND [ARGS...] [OPTIONS]\n\n"
           "commands:\n";
    for (const auto& c : commands()) {
        std::string head = std::string(c.name) + " " + c.args;
        out << "  " << head << std::string(head.size() < 40 ? 40 - head.size() : 1, ' ')
            << c.summary << "\n";
    }
    out << "\nThe repository is the first argument, or --repo REPO, or $STRATA_REPO.\n"
           "A snapshot is named by its id, a unique prefix of at least 4 hex digits, or `latest`.\n"
           "Run `strata COMMAND --help` for a command's options; docs/cli.md has the reference.\n";
}

}  // namespace

int run(const std::vector<std::string>& args, CliIo& io) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        print_help(args.empty() ? io.err : io.out);
        return args.empty() ? kUsage : kOk;
    }
    if (args[0] == "--version") {
        io.out << "strata 0.1.0\n";
        return kOk;
    }
    const Command* cmd = nullptr;
    for (const auto& c : commands())
        if (args[0] == c.name) cmd = &c;
    if (!cmd &&
        mount_helper::is_fuse_helper_call(args))  // mount.fuse3 for fuse.strata, strata#SOURCE
        return mount_helper::run_helper_call(args, "strata", io.out, io.err);
    if (!cmd) {
        io.err << "strata: unknown command \"" << args[0]
               << "\"; run `strata --help` for the list\n";
        return kUsage;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
        return cmd->run(rest, io);
    } catch (const UsageError& e) {
        io.err << "strata " << cmd->name << ": " << e.what() << "\nusage: strata " << cmd->name
               << " " << cmd->args << " (see `strata " << cmd->name << " --help`)\n";
        return kUsage;
    } catch (const po::error& e) {
        io.err << "strata " << cmd->name << ": " << e.what() << "\nusage: strata " << cmd->name
               << " " << cmd->args << " (see `strata " << cmd->name << " --help`)\n";
        return kUsage;
    } catch (const StoreError& e) {
        io.err << "strata " << cmd->name << ": " << e.what() << "\n";
        return e.kind() == StoreError::Kind::Usage ? kUsage : kFailure;
    } catch (const std::exception& e) {
        io.err << "strata " << cmd->name << ": " << e.what() << "\n";
        return kFailure;
    }
}

}  // namespace strata::cli
