// Checks LMDB's data file (index/data.mdb) before LMDB maps it. LMDB trusts its meta pages: it
// maps as many pages as they claim and touches them, so a file shorter than that (truncated by a
// full disk, a bad copy, a crash of the filesystem) kills the process with SIGBUS instead of
// returning an error. These checks read the two meta pages with plain reads and refuse such a file.
// The meta page layout is LMDB's (MDB_meta in liblmdb's mdb.c, format version 1), summarized in
// docs/repository-format.md, "The index (LMDB)".
//
// Threads: any thread; no state.
#pragma once

#include <cstdint>
#include <string>

namespace strata {

struct IndexFileFacts {
    std::uint64_t file_bytes = 0;
    std::uint32_t page_size = 0;
    std::uint64_t last_page = 0;  // of the meta with the larger transaction id
    std::uint64_t txnid = 0;
};

// What is wrong with the LMDB data file at `path`, or "" when its meta pages are sound and the
// file holds every page they claim: both meta pages carry LMDB's magic and data version 1 and
// agree on a page size (a power of two from 512 to 65536); the meta with the larger transaction
// id names its roots and last page inside the file. `facts`, when given, receives what was read.
// Throws Io only when the file cannot be read at all (not found, no permission).
std::string index_file_problem(const std::string& path, IndexFileFacts* facts = nullptr);

}  // namespace strata
