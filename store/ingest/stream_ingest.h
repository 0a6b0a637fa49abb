// Ingest of one stream (standard input, the output of a command) as a snapshot holding one file:
// what `pg_dump | strata ingest --stdin` stores. The stream is chunked as any file is, so a second,
// mostly unchanged dump shares nearly all of its chunks with the first.
#pragma once

#include <functional>
#include <string>

#include "store/ingest/ingest.h"

namespace strata {

struct StreamSource {
    // The file's name in the snapshot (valid_entry_name); the snapshot records the path "/NAME".
    std::string name;
    // What the stream is, for messages: "standard input", "the output of pg_dump".
    std::string description;
    // Called once the writer lock is held: returns the descriptor to read until end of file (the
    // caller keeps it and closes it). Starting a command here means it never runs for nothing
    // when another writer holds the repository.
    std::function<int()> open;
    // Called after end of file, before the snapshot is saved; throwing fails the ingest and no
    // snapshot is written (the blobs already stored stay until a prune). E.g. waits for the
    // command that wrote the stream and checks its exit status. May be empty.
    std::function<void()> finish;
};

// Takes the writer lock, reads the stream into one file of a new snapshot, saves the snapshot.
// The file has mode 0600, the effective user and group, and the current time as mtime; the
// snapshot's root is a directory strata makes up, as for the ingest of one file. Uses `opts`'s
// tags, host, note, threads, lock_wait_seconds and on_progress; `opts.paths` must be empty and
// the options about walking a tree (excludes, one_file_system, ...) unset: throws Usage otherwise,
// and for an invalid name. A read error throws Io naming the stream's description; nothing is
// saved then.
IngestResult ingest_stream(Repository& repo, const IngestOptions& opts, const StreamSource& src);

}  // namespace strata
