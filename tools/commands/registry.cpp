#include "tools/command.h"

namespace strata::cli {

int cmd_init(const std::vector<std::string>&, CliIo&);
int cmd_ingest(const std::vector<std::string>&, CliIo&);
int cmd_snapshots(const std::vector<std::string>&, CliIo&);
int cmd_ls(const std::vector<std::string>&, CliIo&);
int cmd_cat(const std::vector<std::string>&, CliIo&);
int cmd_diff(const std::vector<std::string>&, CliIo&);
int cmd_find(const std::vector<std::string>&, CliIo&);
int cmd_dump(const std::vector<std::string>&, CliIo&);
int cmd_restore(const std::vector<std::string>&, CliIo&);
int cmd_repair_index(const std::vector<std::string>&, CliIo&);
int cmd_mount(const std::vector<std::string>&, CliIo&);
int cmd_forget(const std::vector<std::string>&, CliIo&);
int cmd_prune(const std::vector<std::string>&, CliIo&);
int cmd_verify(const std::vector<std::string>&, CliIo&);
int cmd_stats(const std::vector<std::string>&, CliIo&);
int cmd_tag(const std::vector<std::string>&, CliIo&);
int cmd_note(const std::vector<std::string>&, CliIo&);
int cmd_copy(const std::vector<std::string>&, CliIo&);
int cmd_key(const std::vector<std::string>&, CliIo&);

const std::vector<Command>& commands() {
    static const std::vector<Command> all = {
        {"init", "REPO", "create an empty repository", cmd_init},
        {"ingest", "REPO PATH...", "back up PATHs as a new snapshot", cmd_ingest},
        {"snapshots", "REPO", "list snapshots", cmd_snapshots},
        {"ls", "REPO SNAPSHOT [PATH]", "list a directory inside a snapshot", cmd_ls},
        {"cat", "REPO SNAPSHOT PATH", "write a file of a snapshot to standard output", cmd_cat},
        {"diff", "REPO SNAPSHOT_A SNAPSHOT_B [PATH]",
         "what was added, removed or changed between two snapshots", cmd_diff},
        {"find", "REPO PATTERN", "which snapshots hold the files matching a glob, each version",
         cmd_find},
        {"dump", "REPO SNAPSHOT PATH",
         "write a directory of a snapshot to standard output as tar or zip (a file raw)", cmd_dump},
        {"restore", "REPO SNAPSHOT TARGET", "copy a snapshot (or --path) into TARGET", cmd_restore},
        {"repair-index", "REPO", "rebuild the index from the packs and snapshot records",
         cmd_repair_index},
        {"mount", "REPO MOUNTPOINT", "browse every snapshot as a read-only directory", cmd_mount},
        {"forget", "REPO [SNAPSHOT...]", "remove snapshots by --keep-* policy or by id",
         cmd_forget},
        {"prune", "REPO", "free the space of data no snapshot uses", cmd_prune},
        {"verify", "REPO", "check the repository; --read-data reads every byte", cmd_verify},
        {"stats", "REPO [SNAPSHOT]", "sizes, dedup and compression, bytes only each snapshot holds",
         cmd_stats},
        {"tag", "REPO SNAPSHOT...", "add or remove tags (--add T, --remove T)", cmd_tag},
        {"note", "REPO SNAPSHOT TEXT", "set a snapshot's note", cmd_note},
        {"copy", "SRC DST [SNAPSHOT...]",
         "copy snapshots into another repository (local or s3:), sending only what it lacks",
         cmd_copy},
        {"key", "list|add|remove ID|passwd REPO", "manage the passwords of an encrypted repository",
         cmd_key},
    };
    return all;
}

}  // namespace strata::cli
