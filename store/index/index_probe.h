// Reads a repository's whole index in a child process before the caller trusts it. LMDB trusts
// the page numbers and offsets inside its pages: a flipped byte in a page header or a node can
// make it read outside its map (SIGSEGV) or past the end of the file (SIGBUS) instead of
// returning an error, and no check short of reading every page finds that. The child takes that
// risk: it opens the index as a reader (which runs index_file_problem first) and walks every
// table, the free-page list included, and its death or error is reported as damage.
//
// Threads: any thread; forks, so call it before relying on state other threads may hold locked.
#pragma once

#include <string>

#include "store/format/blob_codec.h"

namespace strata {

// Throws IndexUnusable (store/index/index.h) when the index in `index_dir` is missing (NotFound)
// or damaged (Corruption: the child found damage, or died of a signal), naming the file and the
// repository (`repository`, as IndexUnusable's advice names it); throws StoreError for other
// failures (no permission, no memory). Returns when every table reads back. Costs one full read
// of data.mdb (docs/reliability.md, "A damaged index"). Snapshot records are opened with
// `records`, as the index keeps them (BlobIndex).
void probe_index_or_throw(const std::string& index_dir, const std::string& repository,
                          const BlobCodec* records = nullptr);

// Like probe_index_or_throw, but returns why the index is unusable (with the advice to run
// `strata repair-index`), or "" when every table reads back.
std::string probe_index(const std::string& index_dir, const std::string& repository,
                        const BlobCodec* records = nullptr);

}  // namespace strata
