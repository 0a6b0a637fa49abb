// The LMDB pieces the index's files share (index.cpp: the tables; index_compaction.cpp: copying
// them compacted): the map size, the fixed value sizes, how LMDB's errors become StoreErrors, and
// a transaction that aborts unless committed. Internal to store/index/.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <string>

#include "store/base/errors.h"

namespace strata::index_lmdb {

#ifdef STRATA_TSAN_INDEX_MAP_SIZE
// ThreadSanitizer builds only (CMake option STRATA_TSAN): under TSan a process has room for at most
// one mapping of the release size below, so the index maps what the top-level CMakeLists.txt sets.
constexpr std::size_t kMapSize = STRATA_TSAN_INDEX_MAP_SIZE;
#else
// Room for the index of a repository of many TB; LMDB only reserves address space for it.
constexpr std::size_t kMapSize = 1ull << 40;
#endif
// Mount threads, CLI readers and one writer; LMDB's default of 126 is tight for a busy mount.
constexpr unsigned kMaxReaders = 1024;
constexpr std::size_t kBlobValueSize = 4 + 8 + 4 + 4 + 1 + 1;
constexpr std::size_t kPackValueSize = 32 + 8 + 4 + 8;

// LMDB's answers that mean its file is damaged (or not an LMDB file at all).
inline bool is_damage(int rc) {
    return rc == MDB_CORRUPTED || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ||
           rc == MDB_PAGE_NOTFOUND || rc == MDB_INCOMPATIBLE || rc == MDB_BAD_TXN ||
           rc == MDB_CURSOR_FULL;
}

// The repository whose index/ is `dir`, for messages.
inline std::string repository_of(const std::string& dir) {
    auto slash = dir.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : dir.substr(0, slash);
}

inline void check(int rc, const char* what) {
    if (rc != MDB_SUCCESS) {
        if (is_damage(rc))
            throw_corruption(std::string("index (LMDB) ") + what + ": " + mdb_strerror(rc) +
                             "; run `strata repair-index` to rebuild it from the packs");
        if (rc > 0) throw_io(std::string("index (LMDB) ") + what, rc);
        throw StoreError(StoreError::Kind::Io,
                         std::string("index (LMDB) ") + what + ": " + mdb_strerror(rc));
    }
}

// A transaction that aborts unless committed.
class Txn {
  public:
    Txn(MDB_env* env, bool write) {
        check(mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn_), "begin transaction");
    }
    ~Txn() {
        if (txn_) mdb_txn_abort(txn_);
    }
    void commit() {
        int rc = mdb_txn_commit(txn_);
        txn_ = nullptr;
        check(rc, "commit");
    }
    MDB_txn* get() { return txn_; }

  private:
    MDB_txn* txn_ = nullptr;
};

// Calls fn(cursor, key, value) for every entry of `dbi`, in key order; in a write transaction fn
// may delete the entry it is given (mdb_cursor_del). The cursor is closed however fn leaves.
// An LMDB error other than reaching the end throws, `what` naming the table.
template <class F>
void for_each_entry(MDB_txn* txn, MDB_dbi dbi, const char* what, F&& fn) {
    MDB_cursor* cur;
    check(mdb_cursor_open(txn, dbi, &cur), "open cursor");
    struct Close {
        MDB_cursor* c;
        ~Close() { mdb_cursor_close(c); }
    } close{cur};
    MDB_val k, v;
    int rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        fn(cur, k, v);
    if (rc != MDB_NOTFOUND) check(rc, what);
}

}  // namespace strata::index_lmdb
